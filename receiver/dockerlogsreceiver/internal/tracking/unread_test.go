package tracking

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// TestStoppedContainerWithItsLastLineUnsentIsReadAgain ends a json-file log with a long stderr line without newline,
// whose pieces stdout lines stamped after it came between, and a position that holds the line's first record and
// every stdout line: the turn that read the line could not send the rest of it, so the container is read again,
// though the log's newest entry, stamped with the line's first piece's time, is older than the position.
func TestStoppedContainerWithItsLastLineUnsentIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	id := strings.Repeat("ab", 32)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, id), 0o755))
	at := time.Date(2026, 12, 7, 1, 0, 0, 1000, time.UTC)
	entry := func(stream, text string, ts time.Time) string {
		return fmt.Sprintf(`{"log":%q,"stream":%q,"time":%q}`+"\n", text, stream, ts.Format(time.RFC3339Nano))
	}
	piece := strings.Repeat("x", 16384)
	content := entry("stdout", "before\n", at.Add(-time.Second)) +
		entry("stderr", piece, at) + entry("stdout", "meanwhile 1\n", at.Add(time.Millisecond)) +
		entry("stderr", piece, at) + entry("stdout", "meanwhile 2\n", at.Add(2*time.Millisecond)) +
		entry("stderr", "the end without newline", at)
	require.NoError(t, os.WriteFile(filepath.Join(dir, id, id+"-json.log"), []byte(content), 0o600))

	tr, _ := testTracker(t, zap.NewNop(), nil, Config{LogFiles: LogFiles{Enabled: true, Directory: dir}})
	tr.files.consider(container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/stopped",
		LogPath:    "/var/lib/docker/containers/" + id + "/" + id + "-json.log",
		HostConfig: &container.HostConfig{LogConfig: container.LogConfig{Type: "json-file"}}}})
	c := &trackedContainer{meta: records.Meta{ID: id, Name: "stopped"}}
	// The first record of the long line and both stdout lines after it were delivered.
	var cur checkpoint.Cursor
	cur.Advance(decode.Stdout, at.Add(-time.Second).UnixNano(), 0)
	cur.Advance(decode.Stderr, at.UnixNano(), at.UnixNano())
	cur.Advance(decode.Stdout, at.Add(time.Millisecond).UnixNano(), at.UnixNano())
	cur.Advance(decode.Stdout, at.Add(2*time.Millisecond).UnixNano(), at.UnixNano())

	ctx := context.Background()
	assert.True(t, tr.reader.unreadLeft(ctx, c, cur, false, true), "the rest of the last line is read")
	assert.False(t, tr.reader.unreadLeft(ctx, c, cur, false, false), "a turn that sent everything it read leaves nothing")
}
