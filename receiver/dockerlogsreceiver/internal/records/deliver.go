package records

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Backoff between attempts to hand the same batch on again.
const (
	RetryInitial = 100 * time.Millisecond
	RetryMax     = 5 * time.Second
)

// Telemetry counts what a delivery did.
type Telemetry interface {
	// OperatorErrors counts the records an operator failed on.
	OperatorErrors(ctx context.Context, n int)
	// HandedOn counts a batch that left the receiver, accepted or refused for good.
	HandedOn(ctx context.Context, lines []turn.Line, accepted bool, now time.Time)
}

// Deliverer turns a container's lines into records and hands them to the next consumer.
type Deliverer struct {
	Next      consumer.Logs
	ObsRecv   *receiverhelper.ObsReport
	Logger    *zap.Logger
	Version   string // the scope's version: the collector's
	Resources *Resources
	Operators *Operators
	Telemetry Telemetry

	// combine hands the batches of turns that deliver at the same moment on in one call; made at first use.
	combineOnce sync.Once
	combine     *combiner
}

// Deliver hands a batch to the next consumer and retries it with backoff until it is accepted or ctx ends.
//
// ctx ends at shutdown and when the turn is rotated or handed over meanwhile: the batch is then read again at the next turn.
//
// The records are rebuilt for each attempt: a consumer that refused them may have changed them.
// Only a permanent error ends the attempts early: the data itself was refused, and retrying cannot change that.
//
// The records go in one call with those of other turns handed on meanwhile (combiner); a call refused for good
// is tried again alone, so that no turn's records are dropped for another's.
func (d *Deliverer) Deliver(ctx context.Context, meta Meta, lines []turn.Line) error {
	d.combineOnce.Do(func() { d.combine = &combiner{next: d.Next} })
	wait := RetryInitial
	alone := false
	for attempt := 1; ; attempt++ {
		logs := Build(d.Resources.Of(meta), d.Version, lines, time.Now())
		records := len(lines)
		if ops := d.Operators.For(meta); ops != nil {
			var failed int
			logs, failed = ops.Apply(ctx, logs)
			d.Telemetry.OperatorErrors(ctx, failed)
			if records = logs.LogRecordCount(); records == 0 {
				// The operators dropped every record (filter): the lines are delivered.
				d.Telemetry.HandedOn(ctx, lines, true, time.Now())
				return nil
			}
		}
		opCtx := d.ObsRecv.StartLogsOp(ctx)
		var err error
		if alone {
			err = d.Next.ConsumeLogs(opCtx, logs)
		} else {
			err = d.combine.consume(opCtx, logs)
		}
		d.ObsRecv.EndLogsOp(opCtx, "docker", records, err)
		if errors.Is(err, errAlone) {
			// Not this batch's refusal for sure: tried again at once, alone.
			alone = true
			attempt--
			continue
		}
		if err == nil {
			d.Telemetry.HandedOn(ctx, lines, true, time.Now())
			return nil
		}
		if consumererror.IsPermanent(err) {
			d.Telemetry.HandedOn(ctx, lines, false, time.Now())
			d.Logger.Error("The next consumer permanently refused log records; they are dropped",
				zap.String("container.id", meta.ID), zap.Int("records", len(lines)), zap.Error(err))
			return nil
		}
		if attempt == 1 || attempt%10 == 0 {
			d.Logger.Warn("The next consumer refused log records; retrying",
				zap.String("container.id", meta.ID), zap.Int("records", len(lines)),
				zap.Int("attempt", attempt), zap.Error(err))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, RetryMax)
	}
}
