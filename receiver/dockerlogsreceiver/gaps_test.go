package dockerlogsreceiver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// pausingCollector accepts batches until it holds first records, then holds the next batch until released, as
// a pipeline pushing back does.
type pausingCollector struct {
	collector
	first    int
	once     sync.Once
	paused   chan struct{} // closed when a batch is first held
	released chan struct{}
}

func newPausingCollector(first int) *pausingCollector {
	return &pausingCollector{first: first, paused: make(chan struct{}), released: make(chan struct{})}
}

func (p *pausingCollector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	p.mu.Lock()
	held := len(p.records) >= p.first
	p.mu.Unlock()
	if held {
		p.once.Do(func() { close(p.paused) })
		select {
		case <-p.released:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return p.collector.ConsumeLogs(ctx, ld)
}

// startObserved starts a receiver whose telemetry goes to tt, whose warnings go to the returned observer as well
// as to the test's log, and whose turns' outcomes go to onTurnEnd.
func startObserved(t *testing.T, cfg *Config, tt *componenttest.Telemetry, next *pausingCollector, onTurnEnd func(string, turn.Outcome)) *observer.ObservedLogs {
	t.Helper()
	_, logs := startObservedOn(t, cfg, tt, nopHost(), next, onTurnEnd)
	return logs
}

// startObservedOn is startObserved over any consumer and host (a storage extension, say); it also returns the receiver.
func startObservedOn(t *testing.T, cfg *Config, tt *componenttest.Telemetry, host component.Host, next consumer.Logs,
	onTurnEnd func(string, turn.Outcome),
) (*logsReceiver, *observer.ObservedLogs) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	set := receiverSettings(t)
	set.ID = component.NewIDWithName(metadata.Type, "gaps")
	set.TelemetrySettings.MeterProvider = tt.NewTelemetrySettings().MeterProvider
	core, logs := observer.New(zap.WarnLevel)
	set.Logger = zap.New(zapcore.NewTee(set.Logger.Core(), core))
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	r := rcv.(*logsReceiver)
	r.onTurnEnd = onTurnEnd
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r, logs
}

// TestLinesRotatedAwayAreReportedOnce holds the pipeline while a container with a small json-file log writes on,
// so that Docker's rotation deletes lines before they are read. The lines the log still holds afterwards arrive
// once, the lost ones form one run per output, and the gap is reported once, in the turn's outcome, the metrics
// and the log, with a span from the last line delivered before it to the first delivered after it.
func TestLinesRotatedAwayAreReportedOnce(t *testing.T) {
	cli := dockertest.Engine(t)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	labels := isolate(t, cfg)
	sink := newPausingCollector(300)
	seen := &outcomes{}
	logs := startObserved(t, cfg, tt, sink, seen.observe)

	// About 100 bytes of json-file per line: the log keeps the last 2,000 lines or so of 20,000.
	const lines = 20000
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		LogOpts: map[string]string{"max-size": "100k", "max-file": "2"},
		Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both", "-delay", "1s"}})
	select {
	case <-sink.paused:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the pipeline never held a batch: %d records", sink.count(id))
	}
	// The container writes 2 MB after the pipeline stopped accepting; its log keeps 200 KB.
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	close(sink.released)
	require.Eventually(t, func() bool {
		byStream := seqsByStream(t, sink.of(id))
		return lastOf(byStream["stdout"]) == lines-2 && lastOf(byStream["stderr"]) == lines-1
	}, 2*time.Minute, 20*time.Millisecond, "the last lines arrive")

	recs := sink.of(id)
	byStream := seqsByStream(t, recs)
	before, after := map[string]int{}, map[string]int{}
	for _, stream := range []string{"stdout", "stderr"} {
		seqs := byStream[stream]
		require.Equal(t, -1, firstDuplicate(seqs), "%s: every line at most once", stream)
		start := 0
		if stream == "stderr" {
			start = 1
		}
		require.Equal(t, start, seqs[0], "%s: read from the first line", stream)
		jumps := 0
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+2 {
				jumps++
				before[stream], after[stream] = seqs[i-1], seqs[i]
			}
		}
		require.Equal(t, 1, jumps, "%s: the lost lines are one run (%d lines delivered)", stream, len(seqs))
	}

	seen.mu.Lock()
	var gaps []turn.Gap
	stalls := 0
	for _, out := range seen.all {
		gaps = append(gaps, out.Gaps...)
		stalls += out.Stalls + out.FellBehind
	}
	seen.mu.Unlock()
	require.Len(t, gaps, 1, "one gap, reported once")
	gap := gaps[0]
	assert.Equal(t, turn.GapRotatedAway, gap.Cause)
	assert.Positive(t, stalls, "the stream was closed while the pipeline held a batch (stalled or fallen behind)")

	// The span runs from the newest line delivered before the gap to the first line delivered after it.
	var newestBefore time.Time
	firstAfter := -1
	for i, r := range recs {
		if seq := seqOf(t, r.body); seq <= before[r.stream] {
			if r.timestamp.After(newestBefore) {
				newestBefore = r.timestamp
			}
		} else if firstAfter < 0 {
			firstAfter = i
		}
	}
	require.GreaterOrEqual(t, firstAfter, 0)
	// The span reaches on to lines of the other output that went with the same file, within the inversion margin.
	from, to := newestBefore.UnixNano(), recs[firstAfter].timestamp.UnixNano()
	assert.LessOrEqual(t, gap.From, from, "from: at or before the newest line delivered before the gap")
	assert.LessOrEqual(t, from-gap.From, checkpoint.InversionMargin, "from: within the margin of that line")
	assert.GreaterOrEqual(t, gap.To, to, "to: at or after the first line the log still held")
	assert.LessOrEqual(t, gap.To-to, checkpoint.InversionMargin, "to: within the margin of that line")
	for _, r := range recs[firstAfter:] {
		assert.Greater(t, seqOf(t, r.body), before[r.stream], "after the first line after the gap, only lines after it")
	}

	// The metrics: one gap, of that span; the other cause at 0.
	gapsBy := sums(t, tt, "otelcol_docker_logs_gaps", "cause")
	assert.Equal(t, map[string]float64{"rotated_away": 1, "clock_stepped_back": 0, "removed_unread": 0}, gapsBy)
	spans := sums(t, tt, "otelcol_docker_logs_gap_duration", "cause")
	assert.InDelta(t, gap.Duration().Seconds(), spans["rotated_away"], 1e-9)
	assert.Zero(t, spans["clock_stepped_back"])

	// The log: one warning naming the container and the span, and no line of its output.
	warned := logs.FilterMessageSnippet("log rotation deleted them").All()
	require.Len(t, warned, 1)
	fields := warned[0].ContextMap()
	assert.Equal(t, id, fields["container.id"])
	assert.Equal(t, "rotated_away", fields["cause"])
	assert.Equal(t, time.Unix(0, gap.From).UTC().Format(time.RFC3339Nano), fields["from"])
	assert.Equal(t, time.Unix(0, gap.To).UTC().Format(time.RFC3339Nano), fields["to"])
	assert.Equal(t, gap.Duration(), fields["duration"])
	for _, e := range logs.All() {
		assert.NotContains(t, fmt.Sprint(e.ContextMap()), "seq=", "no container output in the receiver's log")
	}

	lost := lines - len(recs)
	t.Logf("lines written %d, delivered %d, lost %d (stdout %d..%d, stderr %d..%d); gap reported %s .. %s = %v; streams closed while the pipeline held a batch: %d",
		lines, len(recs), lost, before["stdout"]+2, after["stdout"]-2, before["stderr"]+2, after["stderr"]-2,
		time.Unix(0, gap.From).UTC().Format(time.RFC3339Nano), time.Unix(0, gap.To).UTC().Format(time.RFC3339Nano), gap.Duration(), stalls)
}

// lastOf returns the last sequence number, or -1.
func lastOf(seqs []int) int {
	if len(seqs) == 0 {
		return -1
	}
	return seqs[len(seqs)-1]
}

// seqOf returns a loggen line's sequence number.
func seqOf(t *testing.T, body string) int {
	t.Helper()
	_, seq, _, err := loggenline.ParseLine(body)
	require.NoError(t, err, "body %.80q", body)
	return seq
}

// slowCollector takes a while over every batch, as a pipeline slower than a container's output does.
type slowCollector struct {
	collector
	delay time.Duration
}

func (s *slowCollector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.collector.ConsumeLogs(ctx, ld)
}

// TestStoppedContainerBehindItsLogIsReadToTheEnd reads a container more slowly than it writes into a small
// json-file log: the stream, behind when the container stops, ends before the end of the log (Docker 20.10), and
// the receiver reads again until the last line. (Whether lines were lost on the way depends on how far the
// daemon's follower fell behind, which the test does not control.)
func TestStoppedContainerBehindItsLogIsReadToTheEnd(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	cfg.MaxBatchSize = 100
	labels := isolate(t, cfg)
	sink := &slowCollector{delay: 300 * time.Millisecond} // about 330 lines/s, under the second a batch may wait
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)

	const lines = 10000
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		LogOpts: map[string]string{"max-size": "100k", "max-file": "2"},
		Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both"}})
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	require.Eventually(t, func() bool {
		byStream := seqsByStream(t, sink.of(id))
		return lastOf(byStream["stdout"]) == lines-2 && lastOf(byStream["stderr"]) == lines-1
	}, 2*time.Minute, 20*time.Millisecond, "the last lines arrive")
	counts := turns.snapshot()
	t.Logf("records %d of %d lines; turn ends %v; gaps %v", sink.count(id), lines, counts.ends, counts.gaps)
}
