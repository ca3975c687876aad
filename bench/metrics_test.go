package bench

import (
	"strings"
	"testing"
)

// TestMetricSum reads metrics with and without labels: a gauge without labels (positions saved) once read as 0.
func TestMetricSum(t *testing.T) {
	const text = `# HELP otelcol_docker_logs_positions_saved Containers whose read position is saved.
# TYPE otelcol_docker_logs_positions_saved gauge
otelcol_docker_logs_positions_saved 49
otelcol_docker_logs_gaps{cause="clock_stepped_back"} 2
otelcol_docker_logs_gaps{cause="removed_unread"} 7
otelcol_docker_logs_gaps_total{cause="removed_unread",other="x"} 1
otelcol_docker_logs_gap_duration{cause="removed_unread"} 100
`
	for _, c := range []struct {
		name, label string
		want        float64
	}{
		{"otelcol_docker_logs_positions_saved", "", 49},
		{"otelcol_docker_logs_gaps", "", 10},
		{"otelcol_docker_logs_gaps", `cause="removed_unread"`, 8},
		{"otelcol_docker_logs_gap", "", 0},
	} {
		if got := metricSum(strings.NewReader(text), c.name, c.label); got != c.want {
			t.Errorf("metricSum(%s, %q) = %v, want %v", c.name, c.label, got, c.want)
		}
	}
}
