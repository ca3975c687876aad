package dockerlogsreceiver

import (
	"context"
	"fmt"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/memstorage"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// Workload of the daemon restart tests.
const (
	restartContainers = 4
	// restartOutage is how long the daemon stays down.
	restartOutage = 5 * time.Second
	// linesAfterRestart is how many more lines each container must have delivered after the restart.
	linesAfterRestart = 1000
)

// TestDaemonRestart restarts the daemon under a receiver reading containers that write steadily: with live
// restore the containers run on through the outage; without it the daemon stops them and a restart policy
// starts them again, their log going on in the same file. Either way every line the daemon kept arrives once.
func TestDaemonRestart(t *testing.T) {
	t.Run("live_restore", func(t *testing.T) { testDaemonRestart(t, true) })
	t.Run("restart_policy", func(t *testing.T) { testDaemonRestart(t, false) })
}

func testDaemonRestart(t *testing.T, liveRestore bool) {
	d := dockertest.StartDaemon(t, dockertest.DaemonOptions{LiveRestore: liveRestore})
	cli := d.Client(t)
	spec := dockertest.ContainerSpec{Image: dockertest.LoggenImage(t, cli), Cmd: []string{"-rate", "200", "-streams", "both"}}
	if !liveRestore {
		spec.RestartPolicy = container.RestartPolicyAlways
	}

	cfg := testConfig()
	cfg.Endpoint = d.Host
	cfg.StartAt = StartAtBeginning
	host := withMemoryStorage(cfg, newStatusHost())
	sink := &arrivals{}
	turns := newTurnLog()
	r, err := newLogsReceiver(receiverSettings(t), cfg, sink)
	require.NoError(t, err)
	r.onTurnEnd = turns.observe
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })

	ids := make([]string, restartContainers)
	for i := range ids {
		ids[i] = dockertest.StartContainer(t, cli, spec)
	}
	for _, id := range ids {
		require.Eventually(t, func() bool { return sink.count(id) >= 200 }, 3*time.Minute, 10*time.Millisecond, "reading %.12s", id)
	}
	require.Eventually(t, func() bool { return r.pool.Stats().Open == restartContainers }, 3*time.Minute, 10*time.Millisecond)
	goroutinesBefore := countGoroutines(cli)
	require.Empty(t, host.statuses(), "nothing to report while the daemon answers")

	d.Stop(t)
	stopped := time.Now()
	require.Eventually(t, func() bool { return host.last() == componentstatus.StatusRecoverableError }, 3*time.Minute, 10*time.Millisecond,
		"the status during the outage")
	time.Sleep(time.Until(stopped.Add(restartOutage)))
	d.Start(t)
	answered := sink.mark()

	require.Eventually(t, func() bool { return !sink.firstAfterMark().IsZero() }, 2*time.Minute, 10*time.Millisecond, "reading resumed")
	resumed := sink.firstAfterMark().Sub(answered)
	require.Eventually(t, func() bool { return host.last() == componentstatus.StatusOK }, 3*time.Minute, 10*time.Millisecond, "the status after the outage")
	atAnswer := map[string]int{}
	for _, id := range ids {
		atAnswer[id] = sink.countBefore(id, answered)
	}
	for _, id := range ids {
		waitFor(t, 2*time.Minute, 10*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= atAnswer[id]+linesAfterRestart,
				fmt.Sprintf("container %.12s after the restart: %d lines, %d before it", id, n, atAnswer[id])
		})
	}
	require.Eventually(t, func() bool { return r.pool.Stats().Open == restartContainers }, 3*time.Minute, 10*time.Millisecond)
	// The idle connections of the receiver's client come and go (at most two, two goroutines each).
	const idleConnGoroutines = 4
	var goroutinesAfter atomic.Int64
	assert.Eventually(t, func() bool {
		goroutinesAfter.Store(int64(countGoroutines(cli)))
		return goroutinesAfter.Load() <= int64(goroutinesBefore+idleConnGoroutines)
	}, 2*time.Minute, 100*time.Millisecond, "goroutines back to %d (+%d), with as many streams open as before the restart", goroutinesBefore, idleConnGoroutines)

	// Stopped, the containers' logs are final: the daemon's own copy is what must have arrived, each line once.
	for _, id := range ids {
		stopContainerOf(t, cli, id)
	}
	kept, delivered, duplicated, missing := 0, 0, 0, 0
	for _, id := range ids {
		stdout, stderr := dockertest.Logs(t, cli, id)
		want := map[string][]string{"stdout": splitLines(stdout), "stderr": splitLines(stderr)}
		waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
			n, written := sink.count(id), len(want["stdout"])+len(want["stderr"])
			return n >= written, fmt.Sprintf("container %.12s: %d of %d lines", id, n, written)
		})
		time.Sleep(500 * time.Millisecond) // a late duplicate would arrive now
		got := bodiesByStream(sink.of(id))
		for _, stream := range []string{"stdout", "stderr"} {
			dup, miss := multisetDiff(got[stream], want[stream])
			kept, delivered, duplicated, missing = kept+len(want[stream]), delivered+len(got[stream]), duplicated+dup, missing+miss
			assert.Equal(t, want[stream], got[stream], "container %.12s %s: every line the daemon kept, once and in order", id, stream)
		}
	}
	t.Logf("live restore %v: lines kept by the daemon %d, delivered %d, duplicated %d, missing %d; "+
		"reading resumed %.2fs after the daemon answered again; statuses %v; goroutines %d before the restart, %d after; turn ends %v",
		liveRestore, kept, delivered, duplicated, missing, resumed.Seconds(), host.statuses(), goroutinesBefore, goroutinesAfter.Load(), turns.snapshot().ends)
	// A daemon that stops its containers first may flap the status while it shuts down; it must start and end so.
	statuses := host.statuses()
	assert.Equal(t, componentstatus.StatusRecoverableError, statuses[0], "recoverable during the outage")
	assert.Equal(t, componentstatus.StatusOK, statuses[len(statuses)-1], "OK after it")
	assert.Zero(t, duplicated)
	assert.Zero(t, missing)
}

// stopContainerOf stops a container of the daemon cli talks to; a stopped container stays stopped whatever its restart policy.
func stopContainerOf(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, cli.ContainerStop(ctx, id, container.StopOptions{}))
}

// bodiesByStream returns the record bodies per stream, in arrival order.
func bodiesByStream(recs []record) map[string][]string {
	out := map[string][]string{}
	for _, r := range recs {
		out[r.stream] = append(out[r.stream], r.body+"\n")
	}
	return out
}

// multisetDiff counts the lines got holds more often than want (duplicates) and less often (missing).
func multisetDiff(got, want []string) (duplicated, missing int) {
	n := map[string]int{}
	for _, l := range got {
		n[l]++
	}
	for _, l := range want {
		n[l]--
	}
	for _, c := range n {
		if c > 0 {
			duplicated += c
		} else {
			missing -= c
		}
	}
	return duplicated, missing
}

// arrivals is a collector that also remembers when each record arrived and the first delivery after a mark.
type arrivals struct {
	collector
	mu        sync.Mutex
	arrivedAt map[string][]time.Time // per container, in the order of collector.of
	markedAt  time.Time
	first     time.Time
}

func (a *arrivals) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	ids := map[string]int{}
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		id, _ := rl.Resource().Attributes().Get(attrContainerID)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			ids[id.Str()] += rl.ScopeLogs().At(j).LogRecords().Len()
		}
	}
	// Under the lock, so that the arrival times stay in step with the collector's records.
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.collector.ConsumeLogs(ctx, ld); err != nil {
		return err
	}
	now := time.Now()
	if a.arrivedAt == nil {
		a.arrivedAt = map[string][]time.Time{}
	}
	for id, n := range ids {
		for range n {
			a.arrivedAt[id] = append(a.arrivedAt[id], now)
		}
	}
	if !a.markedAt.IsZero() && a.first.IsZero() {
		a.first = now
	}
	return nil
}

// mark starts watching for the first delivery from now on and returns now.
func (a *arrivals) mark() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.markedAt, a.first = time.Now(), time.Time{}
	return a.markedAt
}

// firstAfterMark returns when the first records after mark arrived, or zero.
func (a *arrivals) firstAfterMark() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.first
}

// countBefore counts a container's records that arrived before t.
func (a *arrivals) countBefore(id string, t time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, at := range a.arrivedAt[id] {
		if at.Before(t) {
			n++
		}
	}
	return n
}

// memoryStorageHost offers a memory storage extension and reports component status to a statusHost.
type memoryStorageHost struct {
	*statusHost
	id  component.ID
	ext component.Component
}

func (h memoryStorageHost) GetExtensions() map[component.ID]component.Component {
	return map[component.ID]component.Component{h.id: h.ext}
}

// withMemoryStorage points cfg at a memory storage extension offered by the returned host.
func withMemoryStorage(cfg *Config, status *statusHost) memoryStorageHost {
	id := component.MustNewID("memory_storage")
	cfg.Storage = &id
	return memoryStorageHost{statusHost: status, id: id, ext: memstorage.New()}
}
