package tracking

import (
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// gapMessages are the warnings logged for each cause of a gap.
var gapMessages = map[turn.GapCause]string{
	turn.GapRotatedAway: "Container log lines were lost: Docker's log rotation deleted them before they were read",
	turn.GapClockSteppedBack: "Container log lines were skipped: the Docker daemon's clock stepped back; " +
		"reading resumes after the newest line",
	turn.GapRemovedUnread: "Container log lines may be lost: the container was removed before its log was read to the end",
}

// reportGaps logs one warning per gap a turn found, naming the container and the span, never the lines.
func (r *core) reportGaps(c *trackedContainer, gaps []turn.Gap) {
	for _, g := range gaps {
		r.logGap(c.meta.ID, c.metadata().Name, g)
	}
}

// logGap logs one gap of a container.
func (r *core) logGap(id, name string, g turn.Gap) {
	r.logger.Warn(gapMessages[g.Cause],
		zap.String("container.id", id), zap.String("container.name", name),
		zap.String("cause", string(g.Cause)),
		zap.String("from", time.Unix(0, g.From).UTC().Format(time.RFC3339Nano)),
		zap.String("to", time.Unix(0, g.To).UTC().Format(time.RFC3339Nano)),
		zap.Duration("duration", g.Duration()))
}
