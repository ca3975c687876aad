package dockerlogsreceiver

import (
	"context"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// meters hands the receiver's parts the measurements they make, through the interfaces they declare.
type meters struct {
	t *receiverTelemetry
}

// OperatorErrors counts the records an operator failed on.
func (m meters) OperatorErrors(ctx context.Context, n int) { m.t.operatorErrors(ctx, n) }

// HandedOn counts a batch that left the receiver.
func (m meters) HandedOn(ctx context.Context, lines []turn.Line, accepted bool, now time.Time) {
	m.t.handedOn(ctx, lines, accepted, now)
}
