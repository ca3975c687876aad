package tracking

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

func TestLogFilePathSaysWhyNot(t *testing.T) {
	dir := t.TempDir()
	id := strings.Repeat("ab", 32)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, id), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, id, id+"-json.log"), nil, 0o600))
	info := func(driver string, opts map[string]string, logPath string) container.InspectResponse {
		return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, LogPath: logPath,
			HostConfig: &container.HostConfig{LogConfig: container.LogConfig{Type: driver, Config: opts}}}}
	}
	hostPath := "/var/lib/docker/containers/" + id + "/" + id + "-json.log"
	path, reason := logFilePath(dir, info("json-file", nil, hostPath))
	assert.Equal(t, filepath.Join(dir, id, id+"-json.log"), path, "the daemon's path, under the directory the collector sees")
	assert.Empty(t, reason)
	for _, tt := range []struct {
		info   container.InspectResponse
		reason string
	}{
		{info("local", nil, ""), "the logging driver is not json-file"},
		// compress, spelt any way the driver accepts (strconv.ParseBool), is read from the files too.
		{info("json-file", map[string]string{"compress": "true"}, hostPath), ""},
		{info("json-file", map[string]string{"compress": "1"}, hostPath), ""},
		{info("json-file", map[string]string{"compress": "True"}, hostPath), ""},
		{info("json-file", map[string]string{"compress": "t"}, hostPath), ""},
		{info("json-file", map[string]string{"compress": "0"}, hostPath), ""},
		{info("json-file", nil, ""), "the daemon reports no json-file log path"},
	} {
		_, reason := logFilePath(dir, tt.info)
		assert.Equal(t, tt.reason, reason)
	}
	_, reason = logFilePath(t.TempDir(), info("json-file", nil, hostPath))
	assert.Contains(t, reason, "the log file cannot be opened under log_files.directory")
}

// TestLogFilesCorruptEntryIsSkippedCountedAndWarnedOnce reads a log file holding a crash's NULs between entries
// twice: the entries after them are read, and the stretch is counted and warned about once, by offset and length.
func TestLogFilesCorruptEntryIsSkippedCountedAndWarnedOnce(t *testing.T) {
	dir := t.TempDir()
	id := strings.Repeat("cd", 32)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, id), 0o755))
	entry := func(n int) string {
		return fmt.Sprintf(`{"log":"line %d\n","stream":"stdout","time":"2026-12-07T01:00:0%d.000000001Z"}`+"\n", n, n)
	}
	nuls := strings.Repeat("\x00", 512)
	content := entry(0) + nuls + entry(1) + entry(2)
	require.NoError(t, os.WriteFile(filepath.Join(dir, id, id+"-json.log"), []byte(content), 0o600))

	core, logs := observer.New(zap.WarnLevel)
	tr, tel := testTracker(t, zap.New(core), nil, Config{LogFiles: LogFiles{Enabled: true, Directory: dir}})
	tr.files.consider(container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/crashed",
		LogPath:    "/var/lib/docker/containers/" + id + "/" + id + "-json.log",
		HostConfig: &container.HostConfig{LogConfig: container.LogConfig{Type: "json-file"}}}})
	open := tr.files.opener(id)
	require.NotNil(t, open)
	for range 2 {
		body, err := open(context.Background(), docker.LogsRequest{})
		require.NoError(t, err)
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		body.Close()
		for _, want := range []string{"line 0", "line 1", "line 2"} {
			assert.Contains(t, string(b), want)
		}
	}
	warned := logs.FilterMessageSnippet("could not be parsed and was skipped").All()
	require.Len(t, warned, 1, "warned once")
	fields := warned[0].ContextMap()
	assert.Equal(t, int64(len(entry(0))), fields["offset"])
	assert.Equal(t, int64(len(nuls)), fields["length"])
	assert.Equal(t, "crashed", fields["container.name"])
	assert.Equal(t, 1, tel.skips(), "counted once")
}
