package dockerlogsreceiver

import (
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/streamreader"
)

// gapMessages are the warnings logged for each cause of a gap.
var gapMessages = map[streamreader.GapCause]string{
	streamreader.GapRotatedAway: "Container log lines were lost: Docker's log rotation deleted them before they were read",
	streamreader.GapClockSteppedBack: "Container log lines were skipped: the Docker daemon's clock stepped back; " +
		"reading resumes after the newest line",
}

// reportGaps logs one warning per gap a turn found, naming the container and the span, never the lines.
func (r *logsReceiver) reportGaps(c *trackedContainer, gaps []streamreader.Gap) {
	for _, g := range gaps {
		r.settings.Logger.Warn(gapMessages[g.Cause],
			zap.String("container.id", c.meta.ID), zap.String("container.name", c.metadata().Name),
			zap.String("cause", string(g.Cause)),
			zap.String("from", time.Unix(0, g.From).UTC().Format(time.RFC3339Nano)),
			zap.String("to", time.Unix(0, g.To).UTC().Format(time.RFC3339Nano)),
			zap.Duration("duration", g.Duration()))
	}
}
