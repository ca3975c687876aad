package dockerlogsreceiver

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/docker/docker/api/types/events"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Values of the reason attribute of docker_logs_rotations and docker_logs_stream_age besides the pool's reasons.
const (
	reasonContainerStopped = "container_stopped"
	reasonError            = "error"
)

// Values of the error_type attribute of docker_logs_stream_errors.
const (
	errPoolFull          = "pool_full"
	errOpenFailed        = "open_failed"
	errReadFailed        = "read_failed"
	errUnsupportedDriver = "unsupported_driver"
	errWindowMissed      = "window_missed"
)

// receiverTelemetry records the metrics declared in metadata.yaml.
//
// No measurement names a container: container IDs churn, and the collector's cumulative exporter would keep every
// series it ever saw, without bound. Nor does one name the receiver: the collector identifies the component
// (otelcol.component.id, see the receiver's README under Telemetry).
type receiverTelemetry struct {
	tb *metadata.TelemetryBuilder
	// The maps hold the one-attribute set of each value, made once so that recording allocates nothing.
	reasons  map[string]metric.MeasurementOption
	errTypes map[string]metric.MeasurementOption
	// streams holds each output's options as the slice Add takes: passing one option alone makes a slice per call,
	// and each delivery records two per output.
	streams decode.PerStream[[]metric.AddOption]
	actions map[events.Action]metric.MeasurementOption
	causes  map[turn.GapCause]metric.MeasurementOption
	recent  docker.RecentEvents
}

// newReceiverTelemetry prepares the attribute sets.
func newReceiverTelemetry(tb *metadata.TelemetryBuilder) *receiverTelemetry {
	with := func(kv attribute.KeyValue) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(kv))
	}
	t := &receiverTelemetry{
		tb:       tb,
		reasons:  map[string]metric.MeasurementOption{},
		errTypes: map[string]metric.MeasurementOption{},
		actions:  map[events.Action]metric.MeasurementOption{},
		causes:   map[turn.GapCause]metric.MeasurementOption{},
	}
	for _, r := range []string{string(pool.ReasonPlanned), string(pool.ReasonHandover), string(pool.ReasonRemoved), reasonContainerStopped, reasonError} {
		t.reasons[r] = with(attribute.String("reason", r))
	}
	for _, e := range []string{errPoolFull, errOpenFailed, errReadFailed, errUnsupportedDriver, errWindowMissed} {
		t.errTypes[e] = with(attribute.String("error_type", e))
	}
	*t.streams.At(decode.Stdout) = []metric.AddOption{with(attribute.String("iostream", "stdout"))}
	*t.streams.At(decode.Stderr) = []metric.AddOption{with(attribute.String("iostream", "stderr"))}
	for _, a := range []events.Action{events.ActionStart, events.ActionRestart, events.ActionDie, events.ActionDestroy, events.ActionRename} {
		t.actions[a] = with(attribute.String("action", string(a)))
	}
	for _, c := range gapCauses {
		t.causes[c] = with(attribute.String("cause", string(c)))
	}
	return t
}

// gapCauses are the values of the cause attribute of docker_logs_gaps and docker_logs_gap_duration.
var gapCauses = []turn.GapCause{turn.GapRotatedAway, turn.GapClockSteppedBack, turn.GapRemovedUnread}

// zeroGaps creates the gap, skipped-entry, operator-error and throttle counters at 0, so that a rule's increase() sees the first one (a
// series that first appears with the value 1 has no sample before it to increase from) and the dashboard shows 0.
func (t *receiverTelemetry) zeroGaps(ctx context.Context) {
	for _, opt := range t.causes {
		t.tb.DockerLogsGaps.Add(ctx, 0, opt)
		t.tb.DockerLogsGapDuration.Add(ctx, 0, opt)
	}
	t.tb.DockerLogsEntriesSkipped.Add(ctx, 0)
	t.tb.DockerLogsOperatorErrors.Add(ctx, 0)
	t.tb.DockerLogsReadThrottled.Add(ctx, 0)
}

// operatorErrors counts the records an operator failed on.
func (t *receiverTelemetry) operatorErrors(ctx context.Context, n int) {
	if n > 0 {
		t.tb.DockerLogsOperatorErrors.Add(ctx, int64(n))
	}
}

// observePool registers the gauges read at each collection; shutdown unregisters them.
func (t *receiverTelemetry) observePool(p *pool.Pool, cs interface{ Known() int }, maxStreams int) error {
	return errors.Join(
		t.tb.RegisterDockerLogsStreamsOpenCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(p.Stats().Open))
			return nil
		}),
		t.tb.RegisterDockerLogsPoolUtilizationCallback(func(_ context.Context, o metric.Float64Observer) error {
			o.Observe(float64(p.Stats().Open) / float64(maxStreams))
			return nil
		}),
		t.tb.RegisterDockerLogsContainersWaitingCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(p.Stats().Waiting))
			return nil
		}),
		t.tb.RegisterDockerLogsContainersKnownCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(cs.Known()))
			return nil
		}),
		t.tb.RegisterProcessGoroutinesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(runtime.NumGoroutine()))
			return nil
		}),
	)
}

// observeFiles registers the gauge of the containers read from their files.
func (t *receiverTelemetry) observeFiles(lf interface{ OnFiles() int }) error {
	return t.tb.RegisterDockerLogsContainersOnFilesCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(lf.OnFiles()))
		return nil
	})
}

// observePositions registers the gauge of the containers that have a saved position; shutdown unregisters it.
func (t *receiverTelemetry) observePositions(s *checkpoint.Store) error {
	return t.tb.RegisterDockerLogsPositionsSavedCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(s.Len()))
		return nil
	})
}

// shutdown unregisters the gauges' callbacks.
func (t *receiverTelemetry) shutdown() {
	t.tb.Shutdown()
}

// turnEnded records how a turn ended: the rotation and its stream's age, duplicates dropped, a missed window, gaps.
func (t *receiverTelemetry) turnEnded(ctx context.Context, out turn.Outcome) {
	if reason := rotationReason(out); reason != "" {
		opt, ok := t.reasons[reason]
		if !ok {
			// A reason the pool gained later; its values are constants, so the set stays bounded.
			opt = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason)))
		}
		t.tb.DockerLogsRotations.Add(ctx, 1, opt)
		t.tb.DockerLogsStreamAge.Record(ctx, out.Duration.Seconds(), opt)
	}
	if out.Throttled > 0 {
		t.tb.DockerLogsReadThrottled.Add(ctx, out.Throttled.Seconds())
	}
	if out.Duplicates > 0 {
		t.tb.DockerLogsDuplicatesDropped.Add(ctx, int64(out.Duplicates))
	}
	if out.WindowMissed {
		t.streamError(ctx, errWindowMissed)
	}
	if len(out.Skipped) > 0 {
		// Counted once per entry: Malformed hands on only the skips not seen before.
		t.tb.DockerLogsEntriesSkipped.Add(ctx, int64(len(out.Skipped)))
	}
	t.gapsFound(ctx, out.Gaps)
}

// gapsFound counts gaps and their spans by cause.
func (t *receiverTelemetry) gapsFound(ctx context.Context, gaps []turn.Gap) {
	for _, g := range gaps {
		opt := t.causes[g.Cause]
		t.tb.DockerLogsGaps.Add(ctx, 1, opt)
		t.tb.DockerLogsGapDuration.Add(ctx, g.Duration().Seconds(), opt)
	}
}

// rotationReason says why the turn's stream ended, or "" for a shutdown.
func rotationReason(out turn.Outcome) string {
	switch out.End {
	case turn.EndYielded:
		return string(out.Yield)
	case turn.EndStreamClosed:
		return reasonContainerStopped
	case turn.EndOpenFailed, turn.EndReadFailed:
		if errors.Is(out.Err, docker.ErrGone) {
			return reasonContainerStopped
		}
		return reasonError
	default:
		return ""
	}
}

// turnFailed counts a failed turn by the type of its failure; a container that is gone is no error.
func (t *receiverTelemetry) turnFailed(ctx context.Context, end turn.End, err error) {
	switch {
	case errors.Is(err, docker.ErrGone):
	case errors.Is(err, docker.ErrNotReadable):
		t.streamError(ctx, errUnsupportedDriver)
	case end == turn.EndReadFailed:
		t.streamError(ctx, errReadFailed)
	default:
		t.streamError(ctx, errOpenFailed)
	}
}

func (t *receiverTelemetry) streamError(ctx context.Context, errType string) {
	t.tb.DockerLogsStreamErrors.Add(ctx, 1, t.errTypes[errType])
}

// poolFull counts a container that found every stream slot taken.
func (t *receiverTelemetry) poolFull() {
	t.streamError(context.Background(), errPoolFull)
}

// handedOn counts a batch that left the receiver, and when the next consumer accepted it, its delivery lag.
func (t *receiverTelemetry) handedOn(ctx context.Context, lines []turn.Line, accepted bool, now time.Time) {
	var count, size decode.PerStream[int64]
	var newest int64
	for _, l := range lines {
		*count.At(l.Stream) += int64(l.LineCount())
		*size.At(l.Stream) += int64(len(l.Body))
		newest = max(newest, l.Timestamp)
	}
	for i := range count {
		if count[i] > 0 {
			t.tb.DockerLogsLinesRead.Add(ctx, count[i], t.streams[i]...)
			t.tb.DockerLogsBytesRead.Add(ctx, size[i], t.streams[i]...)
		}
	}
	if accepted && newest > 0 {
		lag := max(now.Sub(time.Unix(0, newest)), 0)
		t.tb.DockerLogsDeliveryLag.Record(ctx, lag.Seconds())
	}
}

// event counts a container event from the daemon once: a resubscription replays the events since the last one
// seen (to the second, and the daemon does not always deliver events in timestamp order), so recent events are
// remembered and a replayed one is not counted again.
func (t *receiverTelemetry) event(ctx context.Context, msg events.Message) {
	opt, ok := t.actions[msg.Action]
	if ok && t.recent.Add(msg) {
		t.tb.DockerLogsDiscoveryEvents.Add(ctx, 1, opt)
	}
}

// reconnect counts a new subscription to the daemon's events after the stream broke.
func (t *receiverTelemetry) reconnect(ctx context.Context) {
	t.tb.DockerLogsDaemonReconnects.Add(ctx, 1)
}
