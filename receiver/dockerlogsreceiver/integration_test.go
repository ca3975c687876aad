package dockerlogsreceiver

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// TestExactlyOnceAcrossRotations reads 10 containers through 4 streams rotated every second and handed
// over every 150 ms, until 100 rotations have happened however slow the machine, and checks that every
// (container, stream, sequence) the containers wrote arrives once and in order.
func TestExactlyOnceAcrossRotations(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)
	goroutinesBefore := countGoroutines(cli)
	running := goleak.IgnoreCurrent()

	cfg := testConfig()
	cfg.RotationInterval = time.Second
	cfg.MaxConcurrentStreams = 4
	cfg.TimeSlice = 150 * time.Millisecond
	labels := isolate(t, cfg)
	sink := &collector{}
	turns := newTurnLog()
	r := startReceiver(t, cfg, sink, turns)

	// The containers write until stopped: the workload lasts until the rotations wanted have happened.
	const containers, wantRotations = 10, 100
	ids := make([]string, containers)
	for i := range ids {
		ids[i] = dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
			Cmd: []string{"-rate", "200", "-streams", "both"}})
	}
	waitFor(t, 5*time.Minute, 50*time.Millisecond, func() (bool, string) {
		n := turns.rotations()
		return n >= wantRotations, fmt.Sprintf("%d rotations wanted, %d counted", wantRotations, n)
	})
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		require.NoError(t, cli.ContainerStop(ctx, id, container.StopOptions{}))
		cancel()
	}
	written := map[string]int{}
	for _, id := range ids {
		stdout, stderr := dockertest.Logs(t, cli, id)
		written[id] = strings.Count(stdout, "\n") + strings.Count(stderr, "\n")
		waitFor(t, 2*time.Minute, 50*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= written[id], fmt.Sprintf("container %s: %d of %d lines", id[:12], n, written[id])
		})
	}
	// Anything duplicated late would show up now.
	time.Sleep(2 * time.Second)

	checked := 0
	for _, id := range ids {
		recs := sink.of(id)
		byStream := seqsByStream(t, recs)
		require.Equal(t, wantSeqs(0, written[id], 2), byStream["stdout"], "container %s stdout (duplicate: %d)", id[:12], firstDuplicate(byStream["stdout"]))
		require.Equal(t, wantSeqs(1, written[id], 2), byStream["stderr"], "container %s stderr (duplicate: %d)", id[:12], firstDuplicate(byStream["stderr"]))
		checked += len(recs)
	}
	require.NoError(t, r.Shutdown(context.Background()))
	rotations := turns.rotations()
	t.Logf("lines checked: %d; rotations: %d (planned %d, handover %d); ends: %v; duplicates dropped at resume: %d; bounded re-reads that missed: %d; streams closed while a batch waited: %d",
		checked, rotations, turns.snapshot().yields["planned"], turns.snapshot().yields["handover"], turns.snapshot().ends, turns.snapshot().dups, turns.snapshot().missed, turns.snapshot().stalls)
	// A missed window costs the daemon a full read, never a line; how often depends on the machine's load.
	assert.LessOrEqual(t, turns.snapshot().missed, rotations/4, "most reopens find their cursor within the tail they asked for")
	assert.Empty(t, turns.snapshot().gaps, "nothing rotated away, no clock step: no gap")
	_ = cli.Close()
	goleak.VerifyNone(t, running)
	t.Logf("goroutines before start: %d, after shutdown: %d", goroutinesBefore, countGoroutines(cli))
}

// countGoroutines counts goroutines without the idle connections of the test's own Docker client.
func countGoroutines(cli *client.Client) int {
	// Close drops the idle connections; the client stays usable.
	_ = cli.Close()
	return runtime.NumGoroutine()
}

// TestTTYLinesArriveClean checks that a TTY container's raw stream gives bodies without frame headers or carriage returns.
func TestTTYLinesArriveClean(t *testing.T) {
	cli := dockertest.Engine(t)
	sink := &collector{}
	startReceiver(t, testConfig(), sink, nil)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{TTY: true, Cmd: []string{"-count", "300", "-streams", "both"}})
	require.Eventually(t, func() bool { return sink.count(id) >= 300 }, 3*time.Minute, 20*time.Millisecond)
	recs := sink.of(id)
	require.Len(t, recs, 300)
	for i, r := range recs {
		assert.NotContains(t, r.body, "\r", "record %d", i)
		assert.NotContains(t, r.body, "\x00", "record %d", i)
		assert.Equal(t, "stdout", r.stream, "a TTY merges both outputs into stdout")
		_, seq, _, err := loggenline.ParseLine(r.body)
		require.NoError(t, err)
		assert.Equal(t, i, seq)
	}
}

// TestLongLineArrivesWhole checks that 100 KiB lines, stored by the daemon in 16 KiB pieces, arrive as one record each.
func TestLongLineArrivesWhole(t *testing.T) {
	cli := dockertest.Engine(t)
	sink := &collector{}
	startReceiver(t, testConfig(), sink, nil)
	const size = 100 * 1024
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "4", "-size", fmt.Sprint(size), "-streams", "both"}})
	require.Eventually(t, func() bool { return sink.count(id) >= 4 }, 3*time.Minute, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	recs := sink.of(id)
	require.Len(t, recs, 4)
	for i, r := range recs {
		assert.Len(t, r.body, size, "record %d", i)
		_, seq, stream, err := loggenline.ParseLine(r.body)
		require.NoError(t, err, "record %d is whole and intact", i)
		assert.Equal(t, r.stream, stream)
		assert.Contains(t, []int{0, 1, 2, 3}, seq)
	}
	assert.ElementsMatch(t, []int{0, 2}, seqsByStream(t, recs)["stdout"])
	assert.ElementsMatch(t, []int{1, 3}, seqsByStream(t, recs)["stderr"])
}

// TestShortLivedContainerIsReadFromItsFirstLine starts a container that writes 200 lines and exits while the
// only stream is busy with another container, so its stream opens only after it exited.
func TestShortLivedContainerIsReadFromItsFirstLine(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.MaxConcurrentStreams = 1
	// The busy container keeps the only stream until it stops, however slow the machine.
	cfg.TimeSlice = time.Hour
	cfg.RotationInterval = time.Hour
	sink := &collector{}
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)

	busy := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-rate", "50"}})
	require.Eventually(t, func() bool { return sink.count(busy) > 0 }, 2*time.Minute, 20*time.Millisecond)
	short := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "200", "-streams", "both"}})
	dockertest.WaitExit(t, cli, short, 2*time.Minute)
	require.Zero(t, sink.count(short), "the container exited before its stream opened")
	stopContainer(t, busy)

	require.Eventually(t, func() bool { return sink.count(short) >= 200 }, 2*time.Minute, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	byStream := seqsByStream(t, sink.of(short))
	assert.Equal(t, wantSeqs(0, 200, 2), byStream["stdout"])
	assert.Equal(t, wantSeqs(1, 200, 2), byStream["stderr"])
	for _, r := range sink.of(short) {
		assert.Equal(t, "docker", r.resource[attrRuntime])
	}
}

// TestStoppedContainerStreamEnds stops a running container and checks that its stream ends within a second
// and that the receiver holds no stream for it afterwards.
func TestStoppedContainerStreamEnds(t *testing.T) {
	cli := dockertest.Engine(t)
	sink := &collector{}
	turns := newTurnLog()
	// Only this test's container: another container on a shared engine would hold a stream of its own.
	cfg := testConfig()
	labels := isolate(t, cfg)
	r := startReceiver(t, cfg, sink, turns)

	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-rate", "100"}})
	require.Eventually(t, func() bool { return sink.count(id) > 20 }, 3*time.Minute, 20*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, cli.ContainerStop(ctx, id, container.StopOptions{}))
	stopped := time.Now()

	require.Eventually(t, func() bool { _, ok := turns.streamClosedAt(id); return ok }, 10*time.Second, 5*time.Millisecond)
	closedAt, _ := turns.streamClosedAt(id)
	t.Logf("stream ended %v after the container stopped", closedAt.Sub(stopped))
	assert.Less(t, closedAt.Sub(stopped), time.Second)
	require.Eventually(t, func() bool { return r.pool.Stats().Open == 0 }, 5*time.Second, 5*time.Millisecond,
		"no stream is held for a stopped container")

	// Every line it wrote arrived once.
	stdout, _ := dockertest.Logs(t, cli, id)
	written := strings.Count(stdout, "\n")
	seqs := seqsByStream(t, sink.of(id))["stdout"]
	assert.Equal(t, wantSeqs(0, written, 1), seqs)
}

// TestRestartedContainerIsReadOnce restarts a container that ran to completion and checks that only the
// lines of its second run arrive again, once.
func TestRestartedContainerIsReadOnce(t *testing.T) {
	cli := dockertest.Engine(t)
	sink := &collector{}
	startReceiver(t, testConfig(), sink, nil)

	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "100", "-streams", "both"}})
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	require.Eventually(t, func() bool { return sink.count(id) >= 100 }, 3*time.Minute, 20*time.Millisecond)
	restarted := time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	require.Eventually(t, func() bool { return sink.count(id) >= 200 }, 3*time.Minute, 20*time.Millisecond)
	time.Sleep(time.Second)

	recs := sink.of(id)
	require.Len(t, recs, 200, "100 lines per run, each once")
	first, second := recs[:100], recs[100:]
	for _, r := range first {
		assert.True(t, r.timestamp.Before(restarted))
	}
	for _, r := range second {
		assert.True(t, r.timestamp.After(restarted.Add(-time.Second)))
	}
	assert.Equal(t, wantSeqs(0, 100, 2), seqsByStream(t, second)["stdout"])
	assert.Equal(t, wantSeqs(1, 100, 2), seqsByStream(t, second)["stderr"])
}

// TestConsumerErrorsLoseAndDuplicateNothing refuses every third ConsumeLogs and checks exactly-once delivery.
func TestConsumerErrorsLoseAndDuplicateNothing(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	cfg.RotationInterval = 500 * time.Millisecond
	cfg.MaxBatchSize = 50
	sink := &collector{failEvery: 3}
	startReceiver(t, cfg, sink, nil)

	const lines = 1000
	var ids []string
	for range 3 {
		ids = append(ids, dockertest.StartContainer(t, cli, dockertest.ContainerSpec{
			Cmd: []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both"}}))
	}
	for _, id := range ids {
		require.Eventually(t, func() bool { return sink.count(id) >= lines }, 2*time.Minute, 20*time.Millisecond)
	}
	time.Sleep(time.Second)
	for _, id := range ids {
		byStream := seqsByStream(t, sink.of(id))
		assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"])
		assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"])
	}
	t.Logf("ConsumeLogs calls: %d, refused: %d", sink.calls.Load(), sink.refused.Load())
	assert.Positive(t, sink.refused.Load())
}

// TestStartAt checks where a container already running when the receiver starts is read from.
func TestStartAt(t *testing.T) {
	cli := dockertest.Engine(t)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-rate", "200"}})
	// Lines written before the receiver starts, however slowly the container started.
	waitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
		stdout, _ := dockertest.Logs(t, cli, id)
		n := strings.Count(stdout, "\n")
		return n >= 200, fmt.Sprintf("%d of 200 lines written before the receiver starts", n)
	})

	for _, tc := range []struct {
		startAt    string
		fromZero   bool
		receiverID string
	}{{StartAtBeginning, true, "beginning"}, {StartAtEnd, false, "end"}} {
		t.Run(tc.receiverID, func(t *testing.T) {
			cfg := testConfig()
			cfg.StartAt = tc.startAt
			cfg.RotationInterval = 300 * time.Millisecond
			sink := &collector{}
			started := time.Now()
			r := startReceiver(t, cfg, sink, nil)
			require.Eventually(t, func() bool { return sink.count(id) > 300 }, 3*time.Minute, 20*time.Millisecond)
			require.NoError(t, r.Shutdown(context.Background()))

			seqs := seqsByStream(t, sink.of(id))["stdout"]
			if tc.fromZero {
				assert.Equal(t, 0, seqs[0])
			} else {
				assert.Positive(t, seqs[0], "lines written before the receiver started are skipped")
				assert.False(t, sink.of(id)[0].timestamp.Before(started.Add(-time.Second)))
			}
			assert.Equal(t, wantSeqs(seqs[0], seqs[0]+len(seqs), 1), seqs, "no gap and no duplicate after the first line")
		})
	}
}

// TestShutdownWithoutStartAndTwice checks the lifecycle edges, and that a receiver starts again after Shutdown.
func TestShutdownWithoutStartAndTwice(t *testing.T) {
	r, err := newLogsReceiver(receiverSettings(t), testConfig(), &collector{})
	require.NoError(t, err)
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestStartAgainAfterShutdown(t *testing.T) {
	cli := dockertest.Engine(t)
	sink := &collector{}
	r := startReceiver(t, testConfig(), sink, nil)
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, r.Start(context.Background(), nopHost()))
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "10"}})
	require.Eventually(t, func() bool { return sink.count(id) == 10 }, 3*time.Minute, 20*time.Millisecond)
}
