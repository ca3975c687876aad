package dockerlogsreceiver

import (
	"strconv"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Labels that set a container's read limit, in place of max_lines_per_second and max_bytes_per_second.
const (
	maxLinesLabel = "io.otelcol.docker_logs.max_lines_per_second"
	maxBytesLabel = "io.otelcol.docker_logs.max_bytes_per_second"
)

// limitOf returns a container's read limit: the receiver's, each rate replaced by the container's label when it
// has one (0 lifts that limit); a label that is not a number at least 0 is warned once and ignored.
func (r *logsReceiver) limitOf(m records.Meta) *turn.Limit {
	lines, bytes := r.cfg.MaxLinesPerSecond, r.cfg.MaxBytesPerSecond
	if v, ok := m.Labels[maxLinesLabel]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			lines = n
		} else {
			r.labelWarnings.Once(r.settings.Logger, m, maxLinesLabel, v, "A container's read limit label is not a number of at least 0; it is ignored")
		}
	}
	if v, ok := m.Labels[maxBytesLabel]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			bytes = n
		} else {
			r.labelWarnings.Once(r.settings.Logger, m, maxBytesLabel, v, "A container's read limit label is not a number of at least 0; it is ignored")
		}
	}
	return turn.NewLimit(lines, bytes)
}
