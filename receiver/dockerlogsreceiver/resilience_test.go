package dockerlogsreceiver

import (
	"context"
	"fmt"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/memstorage"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// storageHost offers one storage extension to the receiver.
type storageHost struct {
	component.Host
	id  component.ID
	ext component.Component
}

func (h storageHost) GetExtensions() map[component.ID]component.Component {
	return map[component.ID]component.Component{h.id: h.ext}
}

// restartable returns a function that starts a new receiver over one storage kept across them, as
// file_storage keeps positions across collector restarts.
func restartable(t *testing.T, cfg *Config, sink *collector) func() *logsReceiver {
	return restartableOver(t, cfg, sink, memstorage.New(), nil)
}

// restartableOver is restartable over a storage the test can look into, with onTurnEnd (nil: none) seeing every turn.
func restartableOver(t *testing.T, cfg *Config, sink *collector, st *memstorage.Storage, onTurnEnd func(string, turn.Outcome)) func() *logsReceiver {
	storageID := component.MustNewID("memory_storage")
	host := storageHost{Host: nopHost(), id: storageID, ext: st}
	cfg.Storage = &storageID
	return func() *logsReceiver {
		r, err := newLogsReceiver(receiverSettings(t), cfg, sink)
		require.NoError(t, err)
		r.onTurnEnd = onTurnEnd
		require.NoError(t, r.Start(context.Background(), host))
		return r
	}
}

// TestRestartResumesFromTheSavedPosition stops the receiver while a container keeps writing, starts a new
// receiver over the same storage, and checks that the two together delivered every line once.
func TestRestartResumesFromTheSavedPosition(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	cfg.StartAt = StartAtEnd // a saved position must win over start_at
	sink := &collector{}
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-rate", "200", "-streams", "both"}})
	start := restartable(t, cfg, sink)

	first := start()
	require.Eventually(t, func() bool { return sink.count(id) > 100 }, 2*time.Minute, 10*time.Millisecond)
	// The first receiver may have seen lines after the container's start: the container was already running.
	require.NoError(t, first.Shutdown(context.Background()))
	before := sink.count(id)
	time.Sleep(time.Second) // about 200 lines written while no receiver runs

	second := start()
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return sink.count(id) > before+400 }, 2*time.Minute, 10*time.Millisecond)
	stopContainer(t, id)
	time.Sleep(time.Second)

	byStream := seqsByStream(t, sink.of(id))
	stdout, stderr := byStream["stdout"], byStream["stderr"]
	assert.Equal(t, wantSeqs(stdout[0], stdout[0]+2*len(stdout), 2), stdout, "stdout: no gap, no duplicate across the restart")
	assert.Equal(t, wantSeqs(stderr[0], stderr[0]+2*len(stderr), 2), stderr, "stderr: no gap, no duplicate across the restart")
	t.Logf("first receiver delivered %d lines, the second %d more", before, sink.count(id)-before)
}

// TestConnectionCutsLoseAndDuplicateNothing cuts every connection to the daemon, as a daemon restart or an
// idle proxy would, and checks that streams and events come back and every line arrives once.
func TestConnectionCutsLoseAndDuplicateNothing(t *testing.T) {
	dockertest.Engine(t)
	proxy := dockertest.StartProxy(t)
	cfg := testConfig()
	cfg.Endpoint = proxy.Endpoint
	cfg.StartAt = StartAtBeginning
	sink := &collector{}
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)

	cli := dockertest.Engine(t)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-rate", "300", "-streams", "both"}})
	for cut := 1; cut <= 3; cut++ {
		target := 150 * cut
		require.Eventually(t, func() bool { return sink.count(id) > target }, 2*time.Minute, 10*time.Millisecond, "after cut %d", cut-1)
		proxy.Cut()
	}
	late := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "100"}})
	require.Eventually(t, func() bool { return sink.count(id) > 600 && sink.count(late) == 100 }, 2*time.Minute, 10*time.Millisecond,
		"reading and discovery came back after the cuts")
	stopContainer(t, id)
	stdout, stderr := dockertest.Logs(t, cli, id)
	written := len(splitLines(stdout)) + len(splitLines(stderr))
	waitFor(t, 2*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.count(id)
		return n >= written, fmt.Sprintf("%d of %d lines", n, written)
	})
	time.Sleep(500 * time.Millisecond)
	byStream := seqsByStream(t, sink.of(id))
	assert.Equal(t, wantSeqs(0, 2*len(splitLines(stdout)), 2), byStream["stdout"], "every stdout line the daemon has, once")
	assert.Equal(t, wantSeqs(1, 2*len(splitLines(stderr)), 2), byStream["stderr"], "every stderr line the daemon has, once")
	counts := turns.snapshot()
	t.Logf("turn ends: %v", counts.ends)
	assert.Positive(t, counts.ends[turn.EndReadFailed]+counts.ends[turn.EndStreamClosed], "the cuts broke streams")
	assert.Empty(t, counts.gaps, "a broken connection loses no line")
}

// TestUnreadableDriverIsNotRetriedInALoop reads a container whose logging driver is none (HTTP 501).
func TestUnreadableDriverIsNotRetriedInALoop(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	sink := &collector{}
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{LogDriver: "none", Cmd: []string{"-rate", "100"}})
	readable := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "10"}})
	require.Eventually(t, func() bool { return sink.count(readable) == 10 }, 2*time.Minute, 10*time.Millisecond)
	time.Sleep(2*cfg.ReconcileInterval + time.Second) // reconciles list it as running again and again
	// Counted for this container alone: the engine may hold other tests' containers.
	assert.Equal(t, 1, turns.openFailures(id), "one attempt, no reconnect loop")
	assert.Zero(t, sink.count(id))
}

// stopContainer stops a container and waits for it.
func stopContainer(t *testing.T, id string) {
	t.Helper()
	cli := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, cli.ContainerStop(ctx, id, container.StopOptions{}))
}

// resumeLoggen ends the pause of a loggen container started with -pause-after.
func resumeLoggen(t *testing.T, id string) {
	t.Helper()
	resumeLoggenOn(t, dockertest.Engine(t), id)
}

// resumeLoggenOn ends the pause of a loggen container of cli's engine.
func resumeLoggenOn(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, cli.ContainerKill(ctx, id, "SIGUSR1"))
}

// TestContainerThatExitedWhileNoReceiverRanIsFinished stops the receiver mid-way through a container's
// output, lets the container write the rest and exit, and starts a new receiver over the same storage.
func TestContainerThatExitedWhileNoReceiverRanIsFinished(t *testing.T) {
	cli := dockertest.Engine(t)
	sink := &collector{}
	start := restartable(t, testConfig(), sink)

	first := start()
	// The second half is written only once the first receiver has stopped, however fast or slow either runs.
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "600", "-pause-after", "300", "-streams", "both"}})
	waitFor(t, 2*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.count(id)
		return n >= 300, fmt.Sprintf("%d of the 300 lines before the pause", n)
	})
	require.NoError(t, first.Shutdown(context.Background()))
	require.Equal(t, 300, sink.count(id), "the first receiver read up to the pause")
	resumeLoggen(t, id)
	dockertest.WaitExit(t, cli, id, 2*time.Minute)

	second := start()
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return sink.count(id) >= 600 }, 2*time.Minute, 10*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	byStream := seqsByStream(t, sink.of(id))
	assert.Equal(t, wantSeqs(0, 600, 2), byStream["stdout"])
	assert.Equal(t, wantSeqs(1, 600, 2), byStream["stderr"])
}

// TestContainerStartedWhileTheCollectorWasDownIsReadFromItsStart stops the receiver, starts a container that writes
// 400 lines while none runs, and starts a receiver over the same storage with start_at: end: the container started
// after the receiver first ran, so all its lines are read, not only those after the restart.
func TestContainerStartedWhileTheCollectorWasDownIsReadFromItsStart(t *testing.T) {
	cli := dockertest.Engine(t)
	sink := &collector{}
	cfg := testConfig()
	require.Equal(t, StartAtEnd, cfg.StartAt)
	start := restartable(t, cfg, sink)
	require.NoError(t, start().Shutdown(context.Background()))

	// It writes half its lines, then waits until the test has seen them in its log, so they are old at the restart.
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "400", "-pause-after", "200", "-streams", "both"}})
	waitFor(t, 2*time.Minute, 10*time.Millisecond, func() (bool, string) {
		stdout, stderr := dockertest.Logs(t, cli, id)
		n := strings.Count(stdout+stderr, "\n")
		return n >= 200, fmt.Sprintf("%d of the 200 lines before the pause in the log", n)
	})
	second := start()
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	resumeLoggen(t, id)
	require.Eventually(t, func() bool { return sink.count(id) >= 400 }, 2*time.Minute, 10*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	byStream := seqsByStream(t, sink.of(id))
	assert.Equal(t, wantSeqs(0, 400, 2), byStream["stdout"])
	assert.Equal(t, wantSeqs(1, 400, 2), byStream["stderr"])
}
