package dockerlogsreceiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadatatest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// statusHost is a host that keeps the component status events the receiver reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

var _ componentstatus.Reporter = (*statusHost)(nil)

func newStatusHost() *statusHost { return &statusHost{Host: componenttest.NewNopHost()} }

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

// statuses lists the reported statuses in order.
func (h *statusHost) statuses() []componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]componentstatus.Status, len(h.events))
	for i, ev := range h.events {
		out[i] = ev.Status()
	}
	return out
}

func (h *statusHost) last() componentstatus.Status {
	s := h.statuses()
	if len(s) == 0 {
		return componentstatus.StatusNone
	}
	return s[len(s)-1]
}

// isolate makes cfg read only containers that carry the label it returns (pushed to the engine, so that other
// tests' containers on a shared engine change neither the counts nor the events).
func isolate(t *testing.T, cfg *Config) map[string]string {
	labels := map[string]string{"otelcol-dockerlogs.telemetry-test": fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())}
	cfg.Include = selection.Rules{Labels: labels}
	return labels
}

// startInstrumented starts a receiver whose telemetry goes to tt and whose status goes to host.
func startInstrumented(t *testing.T, name string, cfg *Config, tt *componenttest.Telemetry, host component.Host, next consumer.Logs,
	onTurnEnd func(string, turn.Outcome),
) *logsReceiver {
	t.Helper()
	require.NoError(t, cfg.Validate())
	set := receiverSettings(t)
	set.ID = component.NewIDWithName(metadata.Type, name)
	set.TelemetrySettings.MeterProvider = tt.NewTelemetrySettings().MeterProvider
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	r := rcv.(*logsReceiver)
	r.onTurnEnd = onTurnEnd
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r
}

// sums adds up the points of a counter (or the counts of a histogram) by the value of one attribute ("" for all).
func sums(t *testing.T, tt *componenttest.Telemetry, name, key string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	m, err := tt.GetMetric(name)
	if err != nil {
		return out // not recorded yet
	}
	label := func(set attribute.Set) string {
		v, _ := set.Value(attribute.Key(key))
		return v.Emit()
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out[label(p.Attributes)] += float64(p.Value)
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			out[label(p.Attributes)] += p.Value
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out[label(p.Attributes)] += float64(p.Value)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			out[label(p.Attributes)] += p.Value
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out[label(p.Attributes)] += float64(p.Count)
		}
	default:
		t.Fatalf("%s: unexpected data %T", name, m.Data)
	}
	return out
}

// histogram returns the points of a histogram by the value of one attribute.
func histogram(t *testing.T, tt *componenttest.Telemetry, name, key string) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	m, err := tt.GetMetric(name)
	require.NoError(t, err)
	out := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		v, _ := p.Attributes.Value(attribute.Key(key))
		out[v.Emit()] = p
	}
	return out
}

// expectedReason is how a turn's end is counted, written out independently of rotationReason.
func expectedReason(out turn.Outcome) string {
	switch out.End {
	case turn.EndYielded:
		return string(out.Yield)
	case turn.EndStreamClosed:
		return "container_stopped"
	case turn.EndOpenFailed, turn.EndReadFailed:
		if errors.Is(out.Err, docker.ErrGone) {
			return "container_stopped"
		}
		return "error"
	}
	return ""
}

// outcomes keeps every turn's outcome.
type outcomes struct {
	mu  sync.Mutex
	all []turn.Outcome
}

func (o *outcomes) observe(_ string, out turn.Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, out)
}

// TestTelemetryMatchesWhatHappened reads containers through 2 streams rotated every second and compares
// every metric with what the turns, the pool and the consumer saw.
func TestTelemetryMatchesWhatHappened(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })

	cfg := testConfig()
	cfg.MaxConcurrentStreams = 2
	cfg.RotationInterval = time.Second
	cfg.TimeSlice = 400 * time.Millisecond
	labels := isolate(t, cfg)
	sink := &collector{}
	turns := newTurnLog()
	seen := &outcomes{}
	r := startInstrumented(t, "metrics", cfg, tt, newStatusHost(), sink,
		func(id string, out turn.Outcome) { turns.observe(id, out); seen.observe(id, out) })

	// Two containers write for about 6 s; two more start while both streams are taken and must wait. All four
	// stay running after their last line until the test stops them, so the pool stays full however slow the machine.
	const longLines, shortLines = 1200, 500
	var ids []string
	for range 2 {
		ids = append(ids, dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
			Cmd: []string{"-count", fmt.Sprint(longLines), "-rate", "200", "-streams", "both", "-linger", "1h"}}))
	}
	require.Eventually(t, func() bool { return sink.count(ids[0]) > 0 && sink.count(ids[1]) > 0 }, 3*time.Minute, 10*time.Millisecond)
	for range 2 {
		ids = append(ids, dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
			Cmd: []string{"-count", fmt.Sprint(shortLines), "-rate", "250", "-streams", "both", "-linger", "1h"}}))
	}

	// The gauges, while the pool is full.
	require.Eventually(t, func() bool {
		return sums(t, tt, "otelcol_docker_logs_streams_open", "")[""] == 2 &&
			sums(t, tt, "otelcol_docker_logs_pool_utilization", "")[""] == 1 &&
			sums(t, tt, "otelcol_docker_logs_containers_waiting", "")[""] >= 1
	}, 2*time.Minute, 5*time.Millisecond, "2 of 2 streams open and a container waiting")
	assert.Greater(t, sums(t, tt, "otelcol_process_goroutines", "")[""], 10.0)

	for i, id := range ids {
		want := longLines
		if i >= 2 {
			want = shortLines
		}
		waitFor(t, 3*time.Minute, 20*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= want, fmt.Sprintf("container %s: %d of %d lines", id[:12], n, want)
		})
	}
	// The short containers stop first; the long ones, alone on the two streams, then rotate as planned.
	stopContainer(t, ids[2])
	stopContainer(t, ids[3])
	plannedBefore := turns.yieldsOf(pool.ReasonPlanned)
	require.Eventually(t, func() bool { return turns.yieldsOf(pool.ReasonPlanned) >= plannedBefore+3 }, 3*time.Minute, 20*time.Millisecond,
		"planned rotations of the long-running containers alone")
	stopContainer(t, ids[0])
	stopContainer(t, ids[1])
	// The die events and the ends of the streams of the stopped containers.
	require.Eventually(t, func() bool {
		return sums(t, tt, "otelcol_docker_logs_discovery_events", "action")["die"] >= 4 &&
			sums(t, tt, "otelcol_docker_logs_rotations", "reason")["container_stopped"] >= 4
	}, 2*time.Minute, 20*time.Millisecond)
	assert.Equal(t, 4.0, sums(t, tt, "otelcol_docker_logs_containers_known", "")[""], "exited containers stay known until removed")
	assert.Zero(t, sums(t, tt, "otelcol_docker_logs_containers_waiting", "")[""])
	require.NoError(t, r.Shutdown(context.Background()))

	// Everything below is settled: counters are compared exactly with what happened.
	seen.mu.Lock()
	wantRotations := map[string]int64{}
	wantDups := int64(0)
	for _, out := range seen.all {
		if reason := expectedReason(out); reason != "" {
			wantRotations[reason]++
		}
		wantDups += int64(out.Duplicates)
	}
	seen.mu.Unlock()
	var rotationPoints []metricdata.DataPoint[int64]
	for reason, n := range wantRotations {
		rotationPoints = append(rotationPoints, metricdata.DataPoint[int64]{
			Attributes: attribute.NewSet(attribute.String("reason", reason)), Value: n})
	}
	metadatatest.AssertEqualDockerLogsRotations(t, tt, rotationPoints, metricdatatest.IgnoreTimestamp())
	t.Logf("rotations: %v (turn ends %v, yields %v)", wantRotations, turns.snapshot().ends, turns.snapshot().yields)
	assert.GreaterOrEqual(t, wantRotations["planned"], int64(3), "planned rotations of the long-running containers")
	assert.Positive(t, wantRotations["handover"], "the waiting containers got slots by handover")
	assert.Equal(t, int64(turns.rotations()), wantRotations["planned"]+wantRotations["handover"])

	// One age per rotation; planned rotations last about rotation_interval, handovers about time_slice.
	ages := histogram(t, tt, "otelcol_docker_logs_stream_age", "reason")
	for reason, n := range wantRotations {
		assert.Equal(t, uint64(n), ages[reason].Count, "ages recorded for %s", reason)
	}
	// The pool asks at rotation_interval or time_slice after it gave the slot; closing takes a little longer
	// (much longer on a loaded machine).
	planned, handover := ages["planned"], ages["handover"]
	plannedMean, handoverMean := planned.Sum/float64(planned.Count), handover.Sum/float64(handover.Count)
	t.Logf("mean stream age: planned %.3fs, handover %.3fs", plannedMean, handoverMean)
	// Never shorter than asked; how much longer depends on the machine's load, so it is not bounded here.
	assert.GreaterOrEqual(t, plannedMean, 0.8, "mean age of planned rotations, rotation_interval 1s")
	assert.GreaterOrEqual(t, handoverMean, 0.3, "mean age of handovers, time_slice 0.4s")

	// Lines and bytes: exactly what the consumer received, by stream.
	wantLines, wantBytes := map[string]int64{}, map[string]int64{}
	sink.mu.Lock()
	for _, rec := range sink.records {
		wantLines[rec.stream]++
		wantBytes[rec.stream] += int64(len(rec.body))
	}
	sink.mu.Unlock()
	var linePoints, bytePoints []metricdata.DataPoint[int64]
	for stream, n := range wantLines {
		attrs := attribute.NewSet(attribute.String("iostream", stream))
		linePoints = append(linePoints, metricdata.DataPoint[int64]{Attributes: attrs, Value: n})
		bytePoints = append(bytePoints, metricdata.DataPoint[int64]{Attributes: attrs, Value: wantBytes[stream]})
	}
	metadatatest.AssertEqualDockerLogsLinesRead(t, tt, linePoints, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualDockerLogsBytesRead(t, tt, bytePoints, metricdatatest.IgnoreTimestamp())
	assert.Equal(t, int64(longLines+shortLines), wantLines["stdout"], "half of each container's lines")

	// Duplicates dropped at resume: the sum over every turn.
	if wantDups > 0 {
		metadatatest.AssertEqualDockerLogsDuplicatesDropped(t, tt, []metricdata.DataPoint[int64]{
			{Attributes: attribute.NewSet(), Value: wantDups}}, metricdatatest.IgnoreTimestamp())
	} else {
		_, err := tt.GetMetric("otelcol_docker_logs_duplicates_dropped")
		assert.Error(t, err, "no duplicate, no point")
	}

	// One lag per accepted batch of a turn, each small: the containers were read while they wrote. Batches of
	// several turns can go in one ConsumeLogs call, and no batch is empty.
	lags := histogram(t, tt, "otelcol_docker_logs_delivery_lag", "")
	require.Len(t, lags, 1, "one series, without attributes")
	lag := lags[""]
	assert.GreaterOrEqual(t, lag.Count, uint64(sink.calls.Load()), "at least one lag per accepted ConsumeLogs")
	assert.LessOrEqual(t, lag.Count, uint64(wantLines["stdout"]+wantLines["stderr"]), "at most one lag per line")
	mean := lag.Sum / float64(lag.Count)
	maxLag, _ := lag.Max.Value()
	t.Logf("delivery lag: %d batches, mean %.3fs, max %.3fs", lag.Count, mean, maxLag)

	// The two containers that started while both streams were taken.
	errs := sums(t, tt, "otelcol_docker_logs_stream_errors", "error_type")
	assert.GreaterOrEqual(t, errs["pool_full"], 2.0)
	assert.Zero(t, errs["window_missed"], "every reopen found its position in the tail it asked for")
	assert.Equal(t, map[string]float64{"rotated_away": 0, "clock_stepped_back": 0, "removed_unread": 0}, sums(t, tt, "otelcol_docker_logs_gaps", "cause"),
		"no gap, and both series there from the start")
	events := sums(t, tt, "otelcol_docker_logs_discovery_events", "action")
	assert.Equal(t, 4.0, events["start"])
	assert.Equal(t, 4.0, events["die"])
	assert.Zero(t, sums(t, tt, "otelcol_docker_logs_daemon_reconnects", "")[""])
	t.Logf("stream errors: %v; events: %v", errs, events)

	// After Shutdown the gauges are no longer observed.
	_, err := tt.GetMetric("otelcol_docker_logs_streams_open")
	assert.Error(t, err, "gauge callbacks are unregistered at shutdown")
}

// TestStreamErrorsByType counts a container whose logging driver cannot be read.
func TestStreamErrorsByType(t *testing.T) {
	cli := dockertest.Engine(t)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	labels := isolate(t, cfg)
	startInstrumented(t, "errors", cfg, tt, newStatusHost(), &collector{}, nil)
	dockertest.StartContainer(t, cli, dockertest.ContainerSpec{LogDriver: "none", Labels: labels, Cmd: []string{"-rate", "10"}})
	require.Eventually(t, func() bool {
		return sums(t, tt, "otelcol_docker_logs_stream_errors", "error_type")["unsupported_driver"] >= 1
	}, 2*time.Minute, 10*time.Millisecond)
	assert.GreaterOrEqual(t, sums(t, tt, "otelcol_docker_logs_rotations", "reason")["error"], 1.0)
}

// TestHealthFollowsTheDaemon cuts the receiver off the daemon and lets it back, through a proxy of the engine's socket.
func TestHealthFollowsTheDaemon(t *testing.T) {
	cli := dockertest.Engine(t)
	proxy := newSocketProxy(t, cli.DaemonHost())
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	cfg.Endpoint = "unix://" + proxy.path
	cfg.ReconcileInterval = 200 * time.Millisecond
	cfg.Timeout = 2 * time.Second
	labels := isolate(t, cfg)
	host := newStatusHost()
	sink := &collector{}
	startInstrumented(t, "health", cfg, tt, host, sink, nil)

	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-rate", "50"}})
	require.Eventually(t, func() bool { return sink.count(id) > 10 }, 3*time.Minute, 10*time.Millisecond)
	assert.Empty(t, host.statuses(), "nothing to report while the daemon answers (the collector reports OK after Start)")

	proxy.down()
	require.Eventually(t, func() bool { return host.last() == componentstatus.StatusRecoverableError }, 2*time.Minute, 10*time.Millisecond)
	proxy.up()
	require.Eventually(t, func() bool { return host.last() == componentstatus.StatusOK }, 2*time.Minute, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		return sums(t, tt, "otelcol_docker_logs_daemon_reconnects", "")[""] >= 1
	}, 2*time.Minute, 10*time.Millisecond, "the events stream was subscribed to again")
	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}, host.statuses(),
		"one report per change")

	// Reading goes on after the outage.
	n := sink.count(id)
	require.Eventually(t, func() bool { return sink.count(id) > n+10 }, 3*time.Minute, 10*time.Millisecond)
}

// TestHealthPermanentWhenTheDaemonRefusesTheConfiguration pins an API version no daemon supports yet.
func TestHealthPermanentWhenTheDaemonRefusesTheConfiguration(t *testing.T) {
	dockertest.Engine(t)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	cfg.APIVersion = "1.999"
	host := newStatusHost()
	startInstrumented(t, "permanent", cfg, tt, host, &collector{}, nil)
	require.Eventually(t, func() bool { return host.last() == componentstatus.StatusPermanentError }, 2*time.Minute, 10*time.Millisecond)
	time.Sleep(time.Second) // the events stream fails as well: still one report
	require.Equal(t, []componentstatus.Status{componentstatus.StatusPermanentError}, host.statuses())
	host.mu.Lock()
	t.Logf("reported: %v", host.events[0].Err())
	host.mu.Unlock()
}

// TestRotationReason covers the ends a real engine rarely produces.
func TestRotationReason(t *testing.T) {
	for _, tc := range []struct {
		out  turn.Outcome
		want string
	}{
		{turn.Outcome{End: turn.EndYielded, Yield: pool.ReasonPlanned}, "planned"},
		{turn.Outcome{End: turn.EndYielded, Yield: pool.ReasonHandover}, "handover"},
		{turn.Outcome{End: turn.EndYielded, Yield: pool.ReasonRemoved}, "removed"},
		{turn.Outcome{End: turn.EndStreamClosed}, "container_stopped"},
		{turn.Outcome{End: turn.EndOpenFailed, Err: fmt.Errorf("open: %w", docker.ErrGone)}, "container_stopped"},
		{turn.Outcome{End: turn.EndOpenFailed, Err: errors.New("connection refused")}, "error"},
		{turn.Outcome{End: turn.EndReadFailed, Err: io.ErrUnexpectedEOF}, "error"},
		{turn.Outcome{End: turn.EndCancelled}, ""},
	} {
		assert.Equal(t, tc.want, rotationReason(tc.out), "%+v", tc.out)
		assert.Equal(t, tc.want, expectedReason(tc.out))
	}
	// Every reason the receiver can produce is declared, so its attribute set is prepared.
	tel := newReceiverTelemetry(nil)
	for _, reason := range []string{"planned", "handover", "removed", "container_stopped", "error"} {
		assert.Contains(t, tel.reasons, reason)
	}
}

// socketProxy forwards a unix socket to the engine and can refuse connections for a while.
type socketProxy struct {
	t      *testing.T
	path   string
	target func() (net.Conn, error)

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newSocketProxy(t *testing.T, daemonHost string) *socketProxy {
	u, err := url.Parse(daemonHost)
	require.NoError(t, err)
	p := &socketProxy{t: t, path: filepath.Join(t.TempDir(), "docker.sock"), conns: map[net.Conn]struct{}{}}
	switch u.Scheme {
	case "unix":
		p.target = func() (net.Conn, error) { return net.Dial("unix", u.Path) }
	case "tcp", "http":
		p.target = func() (net.Conn, error) { return net.Dial("tcp", u.Host) }
	default:
		t.Skipf("cannot proxy the engine at %s", daemonHost)
	}
	p.up()
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

// up listens again.
func (p *socketProxy) up() {
	ln, err := net.Listen("unix", p.path)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

// down stops listening and breaks every connection: the daemon looks gone.
func (p *socketProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *socketProxy) forward(client net.Conn) {
	server, err := p.target()
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// TestDiscoveryEventsCountedOnce replays events as a resubscription does: only new ones are counted.
func TestDiscoveryEventsCountedOnce(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	tb, err := metadata.NewTelemetryBuilder(tt.NewTelemetrySettings())
	require.NoError(t, err)
	tel := newReceiverTelemetry(tb)
	ctx := context.Background()
	msg := func(id string, action events.Action, at int64) events.Message {
		return events.Message{Action: action, Actor: events.Actor{ID: id}, TimeNano: at}
	}
	live := []events.Message{msg("a", events.ActionStart, 10), msg("b", events.ActionDie, 30), msg("a", events.ActionDie, 20)}
	for _, m := range live {
		tel.event(ctx, m)
	}
	// The replay after a resubscription sends them again, and one that is new.
	for _, m := range append(live, msg("c", events.ActionStart, 40)) {
		tel.event(ctx, m)
	}
	tel.event(ctx, msg("a", events.ActionExecStart, 50)) // not an action the receiver follows
	assert.Equal(t, map[string]float64{"start": 2, "die": 2}, sums(t, tt, "otelcol_docker_logs_discovery_events", "action"))
}

// TestGapsCountedByCause counts gaps and their spans by cause, from 0.
func TestGapsCountedByCause(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	tb, err := metadata.NewTelemetryBuilder(tt.NewTelemetrySettings())
	require.NoError(t, err)
	tel := newReceiverTelemetry(tb)
	ctx := context.Background()
	tel.zeroGaps(ctx)
	assert.Equal(t, map[string]float64{"rotated_away": 0, "clock_stepped_back": 0, "removed_unread": 0}, sums(t, tt, "otelcol_docker_logs_gaps", "cause"))

	tel.turnEnded(ctx, turn.Outcome{End: turn.EndYielded, Yield: pool.ReasonPlanned, Gaps: []turn.Gap{
		{Cause: turn.GapClockSteppedBack, From: 0, To: int64(3 * time.Second)},
		{Cause: turn.GapRotatedAway, From: 10, To: 10 + int64(1500*time.Millisecond)},
	}})
	tel.turnEnded(ctx, turn.Outcome{End: turn.EndStreamClosed, Gaps: []turn.Gap{
		{Cause: turn.GapRotatedAway, From: 0, To: int64(time.Second)},
	}})
	assert.Equal(t, map[string]float64{"rotated_away": 2, "clock_stepped_back": 1, "removed_unread": 0}, sums(t, tt, "otelcol_docker_logs_gaps", "cause"))
	assert.Equal(t, map[string]float64{"rotated_away": 2.5, "clock_stepped_back": 3, "removed_unread": 0}, sums(t, tt, "otelcol_docker_logs_gap_duration", "cause"))
}
