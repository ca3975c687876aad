package dockerlogsreceiver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/podmantest"
)

// TestPodman reads containers through Podman's Docker-compatible API, on a Podman service of the test's own
// (podman system service, k8s-file logs). Podman stamps log lines with whole seconds, so hundreds of lines share
// a timestamp, and names a container's removal "remove": the subtests check that reading stays exactly once.
func TestPodman(t *testing.T) {
	svc := podmantest.Start(t)
	cli := svc.Client(t)
	image := dockertest.LoggenImage(t, cli)
	config := func(t *testing.T) (*Config, map[string]string) {
		cfg := testConfig()
		cfg.Endpoint = svc.Host
		return cfg, isolate(t, cfg)
	}

	t.Run("DiscoveryFollowAndRemoval", func(t *testing.T) {
		cfg, labels := config(t)
		// No reconcile after the first: only the events can tell the receiver that a container was removed.
		cfg.ReconcileInterval = time.Hour
		sink := &collector{}
		r := startReceiver(t, cfg, sink, nil)

		const lines = 400
		// The second half waits for the test: the first arrives while the container still runs, however slow.
		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
			Cmd: []string{"-count", fmt.Sprint(lines), "-pause-after", fmt.Sprint(lines / 2), "-rate", "100", "-streams", "both"}})
		// Followed: lines arrive while the container still writes.
		require.Eventually(t, func() bool { return sink.count(id) >= lines/4 }, 3*time.Minute, 20*time.Millisecond)
		assert.LessOrEqual(t, sink.count(id), lines/2, "lines arrive while the container writes")
		resumeLoggenOn(t, cli, id)
		dockertest.WaitExit(t, cli, id, time.Minute)
		require.Eventually(t, func() bool { return sink.count(id) >= lines }, 3*time.Minute, 20*time.Millisecond)
		byStream := seqsByStream(t, sink.of(id))
		assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"])
		assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"])
		rec := sink.of(id)[0]
		assert.Equal(t, dockertest.NamePrefix, rec.name[:len(dockertest.NamePrefix)], "container.name without a leading slash")
		assert.Equal(t, "docker", rec.resource["container.runtime"])

		require.True(t, r.tracker.View().Tracks(id))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}))
		require.Eventually(t, func() bool { return !r.tracker.View().Tracks(id) }, 3*time.Minute, 20*time.Millisecond,
			"Podman's remove event forgets the container")
	})

	t.Run("ExactlyOnceAcrossRotations", func(t *testing.T) {
		cfg, labels := config(t)
		cfg.RotationInterval = 500 * time.Millisecond
		cfg.MaxConcurrentStreams = 1
		cfg.TimeSlice = 150 * time.Millisecond
		sink := &collector{}
		turns := newTurnLog()
		startReceiver(t, cfg, sink, turns)

		// 100 lines a second per output: every reopen lands among the hundred lines that share its timestamp.
		// Podman sends a running container's log at a few hundred lines a second on a loaded machine: more
		// would only measure that.
		const containers, wantRotations = 2, 20
		ids := make([]string, containers)
		for i := range ids {
			ids[i] = dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
				Cmd: []string{"-rate", "200", "-streams", "both"}})
		}
		waitFor(t, 5*time.Minute, 50*time.Millisecond, func() (bool, string) {
			n := turns.rotations()
			return n >= wantRotations, fmt.Sprintf("%d rotations wanted, %d counted", wantRotations, n)
		})
		checked, shared := checkAllOnce(t, cli, sink, ids)
		rotations := turns.rotations()
		t.Logf("lines checked: %d (at most %d sharing one timestamp); rotations: %d (planned %d, handover %d); ends: %v; duplicates dropped at resume: %d; bounded re-reads that missed: %d",
			checked, shared, rotations, turns.snapshot().yields["planned"], turns.snapshot().yields["handover"], turns.snapshot().ends, turns.snapshot().dups, turns.snapshot().missed)
		assert.Empty(t, turns.snapshot().gaps, "nothing rotated away: no gap")
	})

	t.Run("IdenticalLinesWithWholeSecondStamps", func(t *testing.T) {
		cfg, labels := config(t)
		cfg.RotationInterval = 300 * time.Millisecond
		sink := &collector{}
		turns := newTurnLog()
		startReceiver(t, cfg, sink, turns)

		// Same text, same whole-second stamp: only the count of lines at a timestamp tells them apart.
		const lines = 3000
		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
			Cmd: []string{"-count", fmt.Sprint(lines), "-rate", "600", "-streams", "both", "-same", "-prefix", "the same line"}})
		dockertest.WaitExit(t, cli, id, 2*time.Minute)
		waitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= lines, fmt.Sprintf("%d of %d lines", n, lines)
		})
		time.Sleep(time.Second) // a late duplicate would show now
		perStream := map[string]int{}
		for _, r := range sink.of(id) {
			require.Equal(t, "the same line", r.body)
			perStream[r.stream]++
		}
		assert.Equal(t, map[string]int{"stdout": lines / 2, "stderr": lines / 2}, perStream)
		t.Logf("%d identical lines, %d each second per output, read once across %d rotations (%d dropped at resume)",
			lines, 300, turns.rotations(), turns.snapshot().dups)
	})

	t.Run("TTY", func(t *testing.T) {
		cfg, labels := config(t)
		sink := &collector{}
		startReceiver(t, cfg, sink, nil)
		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels, TTY: true,
			Cmd: []string{"-count", "300", "-streams", "both"}})
		require.Eventually(t, func() bool { return sink.count(id) >= 300 }, 3*time.Minute, 20*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		recs := sink.of(id)
		require.Len(t, recs, 300)
		for i, r := range recs {
			assert.NotContains(t, r.body, "\r", "record %d", i)
			assert.Equal(t, "stdout", r.stream, "a TTY merges both outputs into stdout")
			_, seq, _, err := loggenline.ParseLine(r.body)
			require.NoError(t, err)
			assert.Equal(t, i, seq)
		}
	})

	t.Run("RestartedAfterTheReceiverStarted", func(t *testing.T) {
		cfg, labels := config(t)
		// A first run the receiver never sees: history under start_at: end.
		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
			Cmd: []string{"-count", "200", "-rate", "400", "-streams", "both"}})
		dockertest.WaitExit(t, cli, id, time.Minute)
		// The second run starts more than startSlack into a later second than the first run's end: a run is read
		// from the whole second it started in, less the slack, so an earlier run's lines stamped within that would
		// be read too (a limit the README names).
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + startSlack + 100*time.Millisecond)))
		sink := &collector{}
		startReceiver(t, cfg, sink, nil)
		// The second run starts within a second of the receiver, and its lines share their first second's stamp
		// with the receiver's start.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
		dockertest.WaitExit(t, cli, id, time.Minute)
		waitFor(t, 3*time.Minute, 20*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= 200, fmt.Sprintf("the second run's 200 lines: %d arrived", n)
		})
		time.Sleep(time.Second)
		byStream := seqsByStream(t, sink.of(id))
		assert.Equal(t, wantSeqs(0, 200, 2), byStream["stdout"], "the second run once, the first not at all")
		assert.Equal(t, wantSeqs(1, 200, 2), byStream["stderr"])
	})
}

// checkAllOnce stops the containers, waits until every line of their logs arrived, and checks that each arrived
// once and in order; it returns the lines checked and the most lines of one output sharing a timestamp.
func checkAllOnce(t *testing.T, cli *client.Client, sink *collector, ids []string) (checked, shared int) {
	t.Helper()
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		require.NoError(t, cli.ContainerStop(ctx, id, container.StopOptions{}))
		cancel()
	}
	for _, id := range ids {
		stdout, stderr := dockertest.Logs(t, cli, id)
		written := strings.Count(stdout, "\n") + strings.Count(stderr, "\n")
		waitFor(t, 2*time.Minute, 50*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= written, fmt.Sprintf("container %s: %d of %d lines", id[:12], n, written)
		})
		time.Sleep(time.Second) // a late duplicate would show now
		recs := sink.of(id)
		byStream := seqsByStream(t, recs)
		require.Equal(t, wantSeqs(0, written, 2), byStream["stdout"], "container %s stdout (duplicate: %d)", id[:12], firstDuplicate(byStream["stdout"]))
		require.Equal(t, wantSeqs(1, written, 2), byStream["stderr"], "container %s stderr (duplicate: %d)", id[:12], firstDuplicate(byStream["stderr"]))
		checked += len(recs)
		perStamp := map[string]int{}
		for _, r := range recs {
			key := r.stream + r.timestamp.String()
			perStamp[key]++
			shared = max(shared, perStamp[key])
		}
	}
	return checked, shared
}
