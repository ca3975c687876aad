package lifecycle

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

func TestLifecycleRecordOfEachEvent(t *testing.T) {
	meta := records.Meta{ID: "c1", Name: "web-1", Image: "shop/web:1.2"}
	at := time.Unix(1700000000, 123).UTC()
	for _, tc := range []struct {
		action   events.Action
		attrs    map[string]string
		name     string
		body     string
		severity plog.SeverityNumber
		extra    map[string]any
	}{
		{events.ActionStart, nil, "container.start", "container web-1 started", plog.SeverityNumberInfo, nil},
		{events.ActionRestart, nil, "container.restart", "container web-1 restarted", plog.SeverityNumberInfo, nil},
		{events.ActionHealthStatusHealthy, nil, "container.health_status", "container web-1 is healthy", plog.SeverityNumberInfo,
			map[string]any{attrHealthStatus: "healthy"}},
		{events.ActionHealthStatusUnhealthy, nil, "container.health_status", "container web-1 is unhealthy", plog.SeverityNumberWarn,
			map[string]any{attrHealthStatus: "unhealthy"}},
		{events.ActionOOM, nil, "container.oom", "container web-1 ran out of memory: the kernel killed a process in it", plog.SeverityNumberError, nil},
		{events.ActionDie, map[string]string{"exitCode": "3"}, "container.die", "container web-1 exited with code 3", plog.SeverityNumberWarn,
			map[string]any{AttrExitCode: int64(3)}},
		{events.ActionDie, map[string]string{"exitCode": "0"}, "container.die", "container web-1 exited with code 0", plog.SeverityNumberInfo,
			map[string]any{AttrExitCode: int64(0)}},
		{events.ActionDestroy, nil, "container.destroy", "container web-1 was removed", plog.SeverityNumberInfo, nil},
	} {
		t.Run(string(tc.action), func(t *testing.T) {
			logs := event{meta: meta, msg: eventMsg("c1", tc.action, at, tc.attrs)}.logs(
				records.NewResource(metadata.DefaultResourceAttributesConfig(), records.Daemon{}, meta), "1.0", at.Add(time.Second))
			require.Equal(t, 1, logs.LogRecordCount())
			rl := logs.ResourceLogs().At(0)
			assert.Equal(t, "web-1", rl.Resource().Attributes().AsRaw()["container.name"])
			assert.Equal(t, "c1", rl.Resource().Attributes().AsRaw()["container.id"])
			lr := rl.ScopeLogs().At(0).LogRecords().At(0)
			want := map[string]any{AttrEventName: tc.name}
			for k, v := range tc.extra {
				want[k] = v
			}
			assert.Equal(t, want, lr.Attributes().AsRaw())
			assert.Equal(t, tc.body, lr.Body().Str())
			assert.Equal(t, tc.severity, lr.SeverityNumber())
			assert.Equal(t, severityText[tc.severity], lr.SeverityText())
			assert.Equal(t, at, lr.Timestamp().AsTime())
		})
	}
}

// switchable refuses every call until it is told to accept, and keeps what it accepted.
type switchable struct {
	mu       sync.Mutex
	accept   bool
	attempts int
	names    []string
}

func (s *switchable) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if !s.accept {
		return errors.New("refused on purpose")
	}
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	name, _ := lr.Attributes().Get(AttrEventName)
	s.names = append(s.names, name.Str())
	return nil
}

func (s *switchable) set(accept bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accept = accept
}

func (s *switchable) state() (attempts int, names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts, append([]string(nil), s.names...)
}

func newTestLifecycle(t *testing.T, next *switchable) *Emitter {
	t.Helper()
	set := receivertest.NewNopSettings(metadata.Type)
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: "docker", ReceiverCreateSettings: set})
	require.NoError(t, err)
	cons, err := consumer.NewLogs(next.ConsumeLogs)
	require.NoError(t, err)
	every := []events.Action{events.ActionStart, events.ActionRestart, events.ActionHealthStatus, events.ActionOOM, events.ActionDie, events.ActionDestroy}
	return New(every, cons, obs, zaptest.NewLogger(t), "test", func(m records.Meta) pcommon.Resource {
		return records.NewResource(metadata.DefaultResourceAttributesConfig(), records.Daemon{}, m)
	})
}

// TestLifecycleRefusalsAreBounded: offering never waits, however long the consumer refuses; a refused record is
// retried and dropped after retryFor; records are delivered in order once the consumer accepts; replays are dropped.
func TestLifecycleRefusalsAreBounded(t *testing.T) {
	next := &switchable{}
	l := newTestLifecycle(t, next)
	l.retryFor = 300 * time.Millisecond
	meta := records.Meta{ID: "c1", Name: "web-1"}
	at := time.Now()

	offered := make(chan struct{})
	go func() {
		defer close(offered)
		for i := range lifecycleQueueSize + 100 {
			l.Offer(meta, eventMsg("c1", events.ActionStart, at.Add(time.Duration(i)), nil))
		}
	}()
	select {
	case <-offered:
	case <-time.After(30 * time.Second):
		t.Fatal("offer waited while nobody delivered")
	}
	assert.Len(t, l.queue, lifecycleQueueSize, "the queue holds what fits; the rest is dropped")
	for len(l.queue) > 0 {
		<-l.queue
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	l.Offer(meta, eventMsg("c1", events.ActionStart, at.Add(time.Hour), nil))
	require.Eventually(t, func() bool { a, _ := next.state(); return a >= 2 }, 2*time.Minute, 10*time.Millisecond,
		"a refused record is offered again")
	// Once its time is up, the refused record is dropped and the next ones go through in order.
	time.Sleep(l.retryFor)
	next.set(true)
	die := eventMsg("c1", events.ActionDie, at.Add(2*time.Hour), map[string]string{"exitCode": "3"})
	l.Offer(meta, die)
	l.Offer(meta, die) // replayed after a resubscription: dropped
	l.Offer(meta, eventMsg("c1", events.ActionDestroy, at.Add(3*time.Hour), nil))
	require.Eventually(t, func() bool { _, n := next.state(); return len(n) >= 2 }, 2*time.Minute, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	_, names := next.state()
	assert.Equal(t, []string{"container.die", "container.destroy"}, names)
}

func TestEmitterWantsTheConfiguredActions(t *testing.T) {
	l := New([]events.Action{events.ActionHealthStatus}, nil, nil, nil, "", nil)
	assert.True(t, l.Wants(events.Message{Action: events.ActionHealthStatusUnhealthy}))
	assert.False(t, l.Wants(events.Message{Action: events.ActionStart}))
	assert.False(t, (*Emitter)(nil).Wants(events.Message{Action: events.ActionStart}))
}

// eventMsg is a container event as the daemon sends it.
func eventMsg(id string, action events.Action, at time.Time, attrs map[string]string) events.Message {
	a := map[string]string{"name": "web-1", "image": "shop/web:1.2"}
	for k, v := range attrs {
		a[k] = v
	}
	return events.Message{Type: events.ContainerEventType, Action: action, TimeNano: at.UnixNano(),
		Actor: events.Actor{ID: id, Attributes: a}}
}
