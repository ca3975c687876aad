package dockerlogsreceiver

import (
	"context"
	"fmt"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/memstorage"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// removalWatch is a receiver whose gap warnings and gap counter a test reads.
type removalWatch struct {
	r    *logsReceiver
	logs *observer.ObservedLogs
	tt   *componenttest.Telemetry
}

// startRemovalWatch starts a receiver over host (storage, if any) for a removal test; it is shut down when the test ends
// unless the test does it first.
func startRemovalWatch(t *testing.T, cfg *Config, host component.Host, next *collector) *removalWatch {
	t.Helper()
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r, logs := startObservedOn(t, cfg, tt, host, next, nil)
	return &removalWatch{r: r, logs: logs, tt: tt}
}

// removedUnreadWarnings returns the removed_unread warnings that name the container.
func (w *removalWatch) removedUnreadWarnings(id string) []observer.LoggedEntry {
	return w.logs.FilterField(zap.String("cause", "removed_unread")).FilterField(zap.String("container.id", id)).All()
}

// removedUnreadGaps reads the gap counter for removed_unread.
func (w *removalWatch) removedUnreadGaps(t *testing.T) float64 {
	t.Helper()
	return sums(t, w.tt, "otelcol_docker_logs_gaps", "cause")["removed_unread"]
}

// removeNow removes a container and waits until the receiver forgot it.
func removeAndForget(t *testing.T, cli *client.Client, r *logsReceiver, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}))
	if r != nil {
		require.Eventually(t, func() bool { return !r.tracker.View().Tracks(id) }, 2*time.Minute, 10*time.Millisecond,
			"the receiver forgets the removed container")
	}
}

// TestContainerRemovedBeforeItWasReadIsReported: with one stream held by a container that never stops, another
// container writes, exits and is removed while it waits for a slot and no stream could be opened for it at its
// start (the one such stream allowed is held by a third): its lines are gone, and the receiver says so once
// (warning naming it, removed_unread gap). A container read to its end and then removed is not reported, nor is
// the third, whose stream opened at its start is read to the end once it is removed.
func TestContainerRemovedBeforeItWasReadIsReported(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.MaxConcurrentStreams = 1
	cfg.RotationInterval = time.Hour
	cfg.TimeSlice = time.Hour
	sink := &collector{}
	w := startRemovalWatch(t, cfg, nopHost(), sink)

	// Read to its end while the stream is free.
	done := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "20"}})
	require.Eventually(t, func() bool { return sink.count(done) == 20 }, 2*time.Minute, 10*time.Millisecond)
	dockertest.WaitExit(t, cli, done, time.Minute)

	hog := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-rate", "10"}})
	require.Eventually(t, func() bool { return sink.count(hog) > 0 }, 2*time.Minute, 10*time.Millisecond, "the hog holds the stream")
	parked := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "30"}})
	require.Eventually(t, func() bool { return w.r.tracker.View().Tracks(parked) && w.r.tracker.View().Parked(parked) }, 2*time.Minute,
		10*time.Millisecond, "a stream is opened at the start of the container that waits for the slot")
	dockertest.WaitExit(t, cli, parked, time.Minute)
	waiting := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "50"}})
	dockertest.WaitExit(t, cli, waiting, time.Minute)

	removeAndForget(t, cli, w.r, done)
	removeAndForget(t, cli, w.r, waiting)
	assert.Zero(t, sink.count(waiting), "never read: the only stream was busy")
	removeAndForget(t, cli, w.r, parked)
	require.Eventually(t, func() bool { return sink.count(parked) == 30 }, 2*time.Minute, 10*time.Millisecond,
		"the stream opened at its start is read to the end")
	assert.Empty(t, w.removedUnreadWarnings(parked), "a container read to its end is removed silently")
	require.Eventually(t, func() bool { return len(w.removedUnreadWarnings(waiting)) == 1 }, 2*time.Minute, 10*time.Millisecond,
		"one warning names the container removed unread")
	assert.Empty(t, w.removedUnreadWarnings(done), "a container read to its end is removed silently")
	assert.InDelta(t, 1.0, w.removedUnreadGaps(t), 0)
	warning := w.removedUnreadWarnings(waiting)[0]
	fields := warning.ContextMap()
	from, err := time.Parse(time.RFC3339Nano, fmt.Sprint(fields["from"]))
	require.NoError(t, err)
	info, err := cli.ContainerInspect(context.Background(), hog)
	require.NoError(t, err)
	assert.Greater(t, from.UnixNano(), int64(0), "the span starts at the container's start")
	t.Logf("warning: %s %v (hog %s still read: %d lines)", warning.Message, fields, info.Name, sink.count(hog))
}

// TestContainerRemovedWhileNoReceiverRanIsReported: of two containers removed while the receiver was stopped, the
// one whose log was read to its end is forgotten silently at the next start, the one still being written is
// reported as removed unread.
func TestContainerRemovedWhileNoReceiverRanIsReported(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	sink := &collector{}
	st := memstorage.New()
	storageID := component.MustNewID("memory_storage")
	cfg.Storage = &storageID
	host := storageHost{Host: nopHost(), id: storageID, ext: st}

	first := startRemovalWatch(t, cfg, host, sink)
	done := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "20"}})
	writing := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-rate", "50"}})
	require.Eventually(t, func() bool { return sink.count(done) == 20 && sink.count(writing) > 10 }, 2*time.Minute, 10*time.Millisecond)
	dockertest.WaitExit(t, cli, done, time.Minute)
	// The stopped container's last turn saves that its log was read to the end.
	require.Eventually(t, func() bool {
		return first.r.tracker.View().ReadToEnd(done)
	}, 2*time.Minute, 10*time.Millisecond, "the stopped container's log is read to its end")
	require.NoError(t, first.r.Shutdown(context.Background()))

	removeAndForget(t, cli, nil, done)
	removeAndForget(t, cli, nil, writing)
	second := startRemovalWatch(t, cfg, host, sink)
	require.Eventually(t, func() bool { return len(second.removedUnreadWarnings(writing)) == 1 }, 2*time.Minute, 10*time.Millisecond,
		"the container removed while it was being written is reported at start")
	assert.Empty(t, second.removedUnreadWarnings(done), "the container read to its end is forgotten silently")
	assert.InDelta(t, 1.0, second.removedUnreadGaps(t), 0)
}
