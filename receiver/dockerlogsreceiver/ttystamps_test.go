package dockerlogsreceiver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// TestTTYTimestampsInLinesAreText runs a TTY container whose every line holds, followed by a space, a timestamp of
// the engine's own form: in 2099, a second ahead, or about when the engine captures the line. Streams are reopened
// every 300 ms, and each run ends without a newline, so that the next run's first entry follows its last write
// directly. Every line arrives once, whole, stamped by the engine, and no gap is reported.
func TestTTYTimestampsInLinesAreText(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)
	core, logs := observer.New(zap.WarnLevel)
	cfg := testConfig()
	cfg.RotationInterval = 300 * time.Millisecond
	labels := isolate(t, cfg)
	sink := &collector{}
	turns := newTurnLog()
	set := receiverSettings(t)
	set.Logger = zap.New(core)
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	r := rcv.(*logsReceiver)
	r.onTurnEnd = turns.observe
	require.NoError(t, r.Start(context.Background(), nopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })

	const lines = 600
	start := time.Now()
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, TTY: true, Labels: labels,
		Cmd: []string{"-count", fmt.Sprint(lines), "-rate", "150", "-prefix", "GET /", "-stamps", "-unterminated"}})
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	waitFor(t, 3*time.Minute, 20*time.Millisecond, func() (bool, string) {
		n := sink.count(id)
		return n >= lines, fmt.Sprintf("%d of %d lines; turns: %v", n, lines, turns)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	waitFor(t, 3*time.Minute, 20*time.Millisecond, func() (bool, string) {
		n := sink.count(id)
		return n >= 2*lines, fmt.Sprintf("%d of %d lines after the restart; turns: %v", n, 2*lines, turns)
	})
	// A line delivered twice, or a reopen that finds a gap, would show up now.
	time.Sleep(2 * time.Second)
	end := time.Now()

	recs := sink.of(id)
	require.Equal(t, 2*lines, len(recs), "each run's %d lines once; turns: %v", lines, turns)
	for run := range 2 {
		var seqs []int
		for _, rec := range recs[run*lines : (run+1)*lines] {
			prefix, seq, _, err := loggenline.ParseLine(rec.body)
			require.NoError(t, err, "body %.80q", rec.body)
			stamp, ok := strings.CutPrefix(prefix, "GET /")
			require.True(t, ok, "body %.80q", rec.body)
			_, err = time.Parse(time.RFC3339Nano, stamp)
			require.NoError(t, err, "the line's own timestamp is whole: body %.80q", rec.body)
			assert.NotContains(t, rec.body, "\r")
			require.True(t, rec.timestamp.After(start) && rec.timestamp.Before(end),
				"line %d stamped %v by the engine, not by its content", seq, rec.timestamp)
			seqs = append(seqs, seq)
		}
		assert.Equal(t, wantSeqs(0, lines, 1), seqs, "run %d", run)
	}
	turns.mu.Lock()
	gaps := turns.gaps
	turns.mu.Unlock()
	assert.Empty(t, gaps)
	assert.GreaterOrEqual(t, turns.rotations(), 4, "streams reopened: %v", turns)
	assert.Zero(t, logs.Len(), "no warning: %v", logs.All())
	t.Logf("%d of %d lines over two runs, turns: %v", len(recs), 2*lines, turns)
}
