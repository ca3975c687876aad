package dockerlogsreceiver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestStartAtReadsARestartedContainerFromItsNewStart runs a container to completion before the receiver starts,
// then starts it again: with start_at: end only the second run's lines arrive, with start_at: beginning both
// runs'; a container created after the receiver is read from its first line either way.
func TestStartAtReadsARestartedContainerFromItsNewStart(t *testing.T) {
	cli := dockertest.Engine(t)
	const lines = 500
	for _, tc := range []struct {
		startAt string
		runs    int
	}{{StartAtEnd, 1}, {StartAtBeginning, 2}} {
		t.Run(tc.startAt, func(t *testing.T) {
			cfg := testConfig()
			cfg.StartAt = tc.startAt
			labels := isolate(t, cfg)
			spec := dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "500", "-rate", "1000", "-streams", "both"}}
			id := dockertest.StartContainer(t, cli, spec)
			dockertest.WaitExit(t, cli, id, time.Minute)
			firstRunEnd := inspect(t, id).State.FinishedAt

			sink := &collector{}
			turns := newTurnLog()
			startReceiver(t, cfg, sink, turns)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
			fresh := dockertest.StartContainer(t, cli, spec)
			dockertest.WaitExit(t, cli, id, time.Minute)
			dockertest.WaitExit(t, cli, fresh, time.Minute)

			want := tc.runs * lines
			waitFor(t, 3*time.Minute, 20*time.Millisecond, func() (bool, string) {
				restarted, added := sink.count(id), sink.count(fresh)
				return restarted >= want && added >= lines,
					fmt.Sprintf("restarted: %d of %d lines, new: %d of %d", restarted, want, added, lines)
			})
			time.Sleep(time.Second) // anything sent twice would arrive by now

			recs := sink.of(id)
			require.Len(t, recs, want)
			var stdout, stderr []int
			for range tc.runs {
				stdout, stderr = append(stdout, wantSeqs(0, lines, 2)...), append(stderr, wantSeqs(1, lines, 2)...)
			}
			byStream := seqsByStream(t, recs)
			assert.Equal(t, stdout, byStream["stdout"], "stdout of the runs read, each line once")
			assert.Equal(t, stderr, byStream["stderr"], "stderr of the runs read, each line once")
			if tc.runs == 1 {
				end, err := time.Parse(time.RFC3339Nano, firstRunEnd)
				require.NoError(t, err)
				for _, rec := range recs {
					require.True(t, rec.timestamp.After(end), "a line of the first run (%s) arrived: %q", rec.timestamp, rec.body)
				}
			}
			freshSeqs := seqsByStream(t, sink.of(fresh))
			assert.Equal(t, wantSeqs(0, lines, 2), freshSeqs["stdout"], "a new container from its first line")
			assert.Equal(t, wantSeqs(1, lines, 2), freshSeqs["stderr"])
			counts := turns.snapshot()
			assert.Empty(t, counts.gaps, "no line was lost: no gap")
			t.Logf("restarted container: %d lines delivered (written %d); new container: %d; turn ends %v; duplicates dropped %d",
				len(recs), 2*lines, sink.count(fresh), counts.ends, counts.dups)
		})
	}
}

// inspect returns what the engine knows of a container.
func inspect(t *testing.T, id string) container.InspectResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := dockertest.Engine(t).ContainerInspect(ctx, id)
	require.NoError(t, err)
	return info
}
