package dockerlogsreceiver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/lifecycle"
)

// eventRecord is one lifecycle record as received.
type eventRecord struct {
	name     string
	body     string
	timeNano int64
	exitCode int64 // -1 without process.exit.code
	resource map[string]any
}

// eventSink keeps the lifecycle records it receives, by container ID, in arrival order.
type eventSink struct {
	mu   sync.Mutex
	byID map[string][]eventRecord
}

func (s *eventSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *eventSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string][]eventRecord{}
	}
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		res := rl.Resource().Attributes().AsRaw()
		id, _ := res[attrContainerID].(string)
		for j := range rl.ScopeLogs().Len() {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := range lrs.Len() {
				lr := lrs.At(k)
				name, ok := lr.Attributes().Get(lifecycle.AttrEventName)
				if !ok {
					continue // a log line
				}
				code := int64(-1)
				if v, ok := lr.Attributes().Get(lifecycle.AttrExitCode); ok {
					code = v.Int()
				}
				s.byID[id] = append(s.byID[id], eventRecord{name: name.Str(), body: lr.Body().Str(), timeNano: int64(lr.Timestamp()),
					exitCode: code, resource: res})
			}
		}
	}
	return nil
}

func (s *eventSink) of(id string) []eventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]eventRecord(nil), s.byID[id]...)
}

// daemonEvents returns the container events the daemon itself reports for id between since and now, as
// the record names they become, with their times.
func daemonEvents(t *testing.T, cli *client.Client, id string, since time.Time) (names []string, times []int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)), filters.Arg("container", id))
	msgs, errs := cli.Events(ctx, events.ListOptions{Filters: f, Since: strconv.FormatInt(since.Unix(), 10),
		Until: strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)})
	for {
		select {
		case m := <-msgs:
			if slices.Contains(lifecycleActions, lifecycle.BaseAction(m.Action)) {
				names = append(names, lifecycle.EventName(m.Action))
				times = append(times, m.TimeNano)
			}
		case err := <-errs:
			if errors.Is(err, io.EOF) {
				return names, times
			}
			require.NoError(t, err, "the daemon's events of %s", id)
			return names, times
		}
	}
}

// withoutRepeats collapses runs of one name into one.
func withoutRepeats(names []string) []string {
	var out []string
	for _, n := range names {
		if len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return out
}

// TestLifecycleEventsOfContainersThatFail runs a container that exits with code 3 and one that the kernel
// OOM-kills, removes each, and checks the records of their lives, in order, on their containers' resources:
// one record per event the daemon reports (the kernel can signal one OOM kill more than once, and the daemon
// then reports each).
func TestLifecycleEventsOfContainersThatFail(t *testing.T) {
	cli := dockertest.Engine(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := dockertest.NamePrefix + "life-" + hex.EncodeToString(b) + "-"
	cfg := testConfig()
	cfg.LifecycleEvents.Enabled = true
	cfg.Include.Names = []string{prefix + "*"}
	sink := &eventSink{}
	startReceiver(t, cfg, sink, nil)

	for _, tc := range []struct {
		name   string
		spec   dockertest.ContainerSpec
		exit   int
		events []string
	}{
		{"exit3", dockertest.ContainerSpec{Cmd: []string{"-count", "5", "-exit", "3"}},
			3, []string{"container.start", "container.die", "container.destroy"}},
		// 256 MiB touched under a 32 MiB limit without swap: the kernel kills loggen (SIGKILL, 137).
		{"oom", dockertest.ContainerSpec{Cmd: []string{"-count", "5", "-alloc-mib", "256", "-linger", "1m"}, Memory: 32 << 20},
			137, []string{"container.start", "container.oom", "container.die", "container.destroy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Name = prefix + tc.name
			since := time.Now().Add(-time.Second)
			id := dockertest.StartContainer(t, cli, tc.spec)
			require.Equal(t, tc.exit, dockertest.WaitExit(t, cli, id, 2*time.Minute))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, cli.ContainerRemove(ctx, id, container.RemoveOptions{}))

			require.Eventually(t, func() bool {
				recs := sink.of(id)
				return len(recs) > 0 && recs[len(recs)-1].name == "container.destroy"
			}, 3*time.Minute, 20*time.Millisecond, "the destroy record of %s", tc.spec.Name)
			// Anything the receiver would send twice comes right after: give it a moment.
			time.Sleep(500 * time.Millisecond)
			recs := sink.of(id)
			var names []string
			var times []int64
			for _, r := range recs {
				names = append(names, r.name)
				times = append(times, r.timeNano)
				t.Logf("%s: event.name=%s time=%d body=%q process.exit.code=%d", tc.spec.Name, r.name, r.timeNano, r.body, r.exitCode)
				assert.Equal(t, tc.spec.Name, r.resource[attrContainerName])
				assert.Equal(t, dockertest.LoggenTag, r.resource[attrImageName].(string)+":"+r.resource[attrImageTags].([]any)[0].(string))
			}
			daemonNames, daemonTimes := daemonEvents(t, cli, id, since)
			require.Equal(t, daemonNames, names, "one record per event the daemon reports, in its order")
			require.Equal(t, daemonTimes, times, "each record stamped with its event's time")
			require.Equal(t, tc.events, withoutRepeats(names))
			for _, r := range recs {
				if r.name == "container.die" {
					assert.EqualValues(t, tc.exit, r.exitCode)
				} else {
					assert.EqualValues(t, -1, r.exitCode, "%s carries no exit code", r.name)
				}
			}
		})
	}
}

// TestLifecycleEventsOfARestartedHealthyContainer checks the health and restart records, between a start and
// the removal: start, healthy, the die and start of the restart, restart, destroy.
func TestLifecycleEventsOfARestartedHealthyContainer(t *testing.T) {
	cli := dockertest.Engine(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := dockertest.NamePrefix + "health-" + hex.EncodeToString(b)
	cfg := testConfig()
	cfg.LifecycleEvents.Enabled = true
	cfg.Include.Names = []string{name}
	sink := &eventSink{}
	startReceiver(t, cfg, sink, nil)

	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: name, Cmd: []string{"-rate", "2"},
		// loggen writing one line and exiting 0 is a passing check.
		Healthcheck: &container.HealthConfig{Test: []string{"CMD", "/loggen", "-count", "1"}, Interval: 500 * time.Millisecond, Retries: 1}})
	has := func(event string) func() bool {
		return func() bool {
			for _, r := range sink.of(id) {
				if r.name == event {
					return true
				}
			}
			return false
		}
	}
	require.Eventually(t, has("container.health_status"), time.Minute, 20*time.Millisecond, "a health record")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, cli.ContainerRestart(ctx, id, container.StopOptions{}))
	require.Eventually(t, has("container.restart"), time.Minute, 20*time.Millisecond, "the restart record")
	require.NoError(t, cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}))
	require.Eventually(t, has("container.destroy"), time.Minute, 20*time.Millisecond, "the destroy record")

	var names []string
	for _, r := range sink.of(id) {
		names = append(names, r.name)
		t.Logf("event.name=%s body=%q", r.name, r.body)
	}
	// Health checks go on meanwhile, and a forced removal kills the container: match the order of the others only.
	want := []string{"container.start", "container.health_status", "container.die", "container.start", "container.restart", "container.destroy"}
	i := 0
	for _, n := range names {
		if i < len(want) && n == want[i] {
			i++
		}
	}
	assert.Equal(t, len(want), i, "records %v do not hold %v in this order", names, want)
	assert.Equal(t, "container.destroy", names[len(names)-1])
	for _, r := range sink.of(id) {
		if r.name == "container.health_status" {
			assert.Equal(t, "container "+name+" is healthy", r.body)
		}
	}
}

// TestLifecycleRecordOfAContainerNeverReadMapsLabelsAsLines creates a container and removes it without starting it,
// so that the receiver never tracks it: its destroy record maps the labels the event carries as lines would.
func TestLifecycleRecordOfAContainerNeverReadMapsLabelsAsLines(t *testing.T) {
	cli := dockertest.Engine(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := dockertest.NamePrefix + "life-" + hex.EncodeToString(b)
	cfg := testConfig()
	cfg.LifecycleEvents.Enabled = true
	cfg.Include.Names = []string{name}
	cfg.ContainerLabelsToAttributes = map[string]string{"com.example.*": "", "org.opencontainers.image.*": "image.*", "maintainer": ""}
	sink := &eventSink{}
	startReceiver(t, cfg, sink, nil)

	id := dockertest.CreateContainer(t, cli, dockertest.ContainerSpec{Name: name, Labels: map[string]string{
		"com.example.team": "payments", "org.opencontainers.image.title": "shop", "maintainer": "ops@example.com"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, cli.ContainerRemove(ctx, id, container.RemoveOptions{}))

	require.Eventually(t, func() bool { return len(sink.of(id)) > 0 }, 3*time.Minute, 20*time.Millisecond, "the destroy record")
	rec := sink.of(id)[0]
	assert.Equal(t, "container.destroy", rec.name)
	assert.Equal(t, "payments", rec.resource["com.example.team"])
	assert.Equal(t, "shop", rec.resource["image.title"])
	assert.Equal(t, "ops@example.com", rec.resource["maintainer"])
	assert.NotContains(t, rec.resource, "", "no attribute without a name")
}
