package dockerlogsreceiver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestLastLineWithoutNewlineIsDeliveredOnce runs plain and TTY containers whose last line has no newline, counts
// their lines exactly, restarts them, and counts again: the unterminated line of each run arrives once, and the
// next run's lines after it arrive whole.
func TestLastLineWithoutNewlineIsDeliveredOnce(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			cfg := testConfig()
			labels := isolate(t, cfg)
			sink := &collector{}
			set := receiverSettings(t)
			set.Logger = zap.New(core)
			rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
			require.NoError(t, err)
			require.NoError(t, rcv.Start(context.Background(), nopHost()))
			t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

			const lines = 101
			id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, TTY: tty, Labels: labels,
				Cmd: []string{"-count", fmt.Sprint(lines), "-streams", "both", "-unterminated"}})
			dockertest.WaitExit(t, cli, id, 2*time.Minute)
			waitFor(t, 3*time.Minute, 20*time.Millisecond, func() (bool, string) {
				n := sink.count(id)
				return n >= lines, fmt.Sprintf("%d of %d lines", n, lines)
			})

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
			dockertest.WaitExit(t, cli, id, 2*time.Minute)
			waitFor(t, 3*time.Minute, 20*time.Millisecond, func() (bool, string) {
				n := sink.count(id)
				return n >= 2*lines, fmt.Sprintf("%d of %d lines after the restart", n, 2*lines)
			})
			// A line delivered twice would show up now.
			time.Sleep(2 * time.Second)

			recs := sink.of(id)
			require.Len(t, recs, 2*lines, "each run's %d lines once", lines)
			for run := range 2 {
				var seqs []int
				for _, r := range recs[run*lines : (run+1)*lines] {
					assert.NotContains(t, r.body, "\r")
					_, seq, _, err := parseLoggen(r.body)
					require.NoError(t, err, "body %.80q", r.body)
					seqs = append(seqs, seq)
				}
				if tty {
					assert.Equal(t, wantSeqs(0, lines, 1), seqs, "run %d", run)
				} else {
					byStream := seqsByStream(t, recs[run*lines:(run+1)*lines])
					assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "run %d", run)
					assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "run %d", run)
				}
			}
			assert.Zero(t, logs.FilterMessageSnippet("failed").Len(), "no turn failed: %v", logs.All())
			t.Logf("tty=%v: %d of %d lines over two runs, each ending without a newline", tty, len(recs), 2*lines)
		})
	}
}

// parseLoggen parses a loggen body; a TTY merges both outputs, so the stream field is not checked here.
func parseLoggen(body string) (string, int, string, error) {
	var prefix, stream string
	var seq int
	_, err := fmt.Sscanf(body, "%s seq=%d stream=%s", &prefix, &seq, &stream)
	return prefix, seq, stream, err
}
