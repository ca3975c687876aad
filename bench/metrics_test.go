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

// TestMissingSpans names the runs of sequence numbers the sink lacks, including those past what it received.
func TestMissingSpans(t *testing.T) {
	s := &sink{seen: map[string][]uint8{"c": {1, 0, 0, 1, 2, 0, 1}}}
	if got, want := strings.Join(s.missingSpans("c", 0, 10), " "), "1-2 5-5 7-9"; got != want {
		t.Errorf("missingSpans = %q, want %q", got, want)
	}
	if got := s.missingSpans("c", 3, 5); len(got) != 0 {
		t.Errorf("missingSpans(3, 5) = %q, want none", got)
	}
	if got, want := strings.Join(s.missingSpans("other", 0, 2), " "), "0-1"; got != want {
		t.Errorf("missingSpans of an unseen key = %q, want %q", got, want)
	}
}
