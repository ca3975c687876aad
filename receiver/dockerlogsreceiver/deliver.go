package dockerlogsreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Backoff between attempts to hand the same batch on again.
const (
	retryInitial = 100 * time.Millisecond
	retryMax     = 5 * time.Second
)

// deliver hands a batch to the next consumer and retries it with backoff until it is accepted or ctx ends.
//
// ctx ends at shutdown and when the turn is rotated or handed over meanwhile: the batch is then read again at the next turn.
//
// The records are rebuilt for each attempt: a consumer that refused them may have changed them.
// Only a permanent error ends the attempts early: the data itself was refused, and retrying cannot change that.
func (r *logsReceiver) deliver(ctx context.Context, c *trackedContainer, lines []turn.Line) error {
	wait := retryInitial
	for attempt := 1; ; attempt++ {
		logs := buildLogs(r.resourceOf(c.metadata()), r.settings.BuildInfo.Version, lines, time.Now())
		records := len(lines)
		if ops := r.operatorsFor(c.metadata()); ops != nil {
			var failed int
			logs, failed = ops.apply(ctx, logs)
			r.telemetry.operatorErrors(ctx, failed)
			if records = logs.LogRecordCount(); records == 0 {
				// The operators dropped every record (filter): the lines are delivered.
				r.telemetry.handedOn(ctx, lines, true, time.Now())
				return nil
			}
		}
		opCtx := r.obsrecv.StartLogsOp(ctx)
		err := r.next.ConsumeLogs(opCtx, logs)
		r.obsrecv.EndLogsOp(opCtx, "docker", records, err)
		if err == nil {
			r.telemetry.handedOn(ctx, lines, true, time.Now())
			return nil
		}
		if consumererror.IsPermanent(err) {
			r.telemetry.handedOn(ctx, lines, false, time.Now())
			r.settings.Logger.Error("The next consumer permanently refused log records; they are dropped",
				zap.String("container.id", c.meta.ID), zap.Int("records", len(lines)), zap.Error(err))
			return nil
		}
		if attempt == 1 || attempt%10 == 0 {
			r.settings.Logger.Warn("The next consumer refused log records; retrying",
				zap.String("container.id", c.meta.ID), zap.Int("records", len(lines)),
				zap.Int("attempt", attempt), zap.Error(err))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, retryMax)
	}
}
