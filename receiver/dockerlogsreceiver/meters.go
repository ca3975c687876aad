package dockerlogsreceiver

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/events"

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

// TurnEnded records how a turn ended.
func (m meters) TurnEnded(ctx context.Context, out turn.Outcome) { m.t.turnEnded(ctx, out) }

// TurnFailed counts a failed turn by the type of its failure.
func (m meters) TurnFailed(ctx context.Context, end turn.End, err error) {
	m.t.turnFailed(ctx, end, err)
}

// GapsFound counts gaps and their spans by cause.
func (m meters) GapsFound(ctx context.Context, gaps []turn.Gap) { m.t.gapsFound(ctx, gaps) }

// Event counts a container event from the daemon once.
func (m meters) Event(ctx context.Context, msg events.Message) { m.t.event(ctx, msg) }

// Reconnect counts a new subscription to the daemon's events.
func (m meters) Reconnect(ctx context.Context) { m.t.reconnect(ctx) }

// EntrySkipped counts an entry of a log file that could not be parsed and was passed over.
func (m meters) EntrySkipped(ctx context.Context) {
	m.t.tb.DockerLogsEntriesSkipped.Add(ctx, 1)
}
