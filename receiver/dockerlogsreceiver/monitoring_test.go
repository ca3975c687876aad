package dockerlogsreceiver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// The dashboard, the alert rules and the runbook, from this package's directory.
var (
	dashboardFiles = "../../dashboards/*.json"
	rulesFile      = "../../alerts/docker-logs.rules.yml"
	runbookFile    = "../../docs/runbook.md"
)

// collectorMetrics are the collector's own metrics (not this receiver's) that the dashboard and the rules may use,
// as the collector v0.165 exports them on :8888 with its default Prometheus settings (process metrics and the
// standard receiver metrics; seen on a running otelcol-dockerlogs).
var collectorMetrics = []string{
	"otelcol_process_cpu_seconds",
	"otelcol_process_memory_rss",
	"otelcol_process_runtime_heap_alloc_bytes",
	"otelcol_process_runtime_total_alloc_bytes",
	"otelcol_process_runtime_total_sys_memory_bytes",
	"otelcol_process_uptime",
	"otelcol_receiver_accepted_log_records",
	"otelcol_receiver_refused_log_records",
	"otelcol_receiver_failed_log_records",
}

// ourLabels are the attributes of metadata.yaml: bounded, none names a container, and none names the receiver (the
// collector identifies the component).
var ourLabels = []string{"reason", "error_type", "iostream", "action", "cause"}

// componentLabel is otelcol.component.id as a scope attribute on :8888: present when the collector runs with the
// feature gate telemetry.newPipelineTelemetry and its Prometheus reader has without_scope_info: false.
const componentLabel = "otel_scope_otelcol_component_id"

// Labels a query may use: ours, the component's, the scrape's, histograms' le, and on the collector's receiver
// metrics only (otelcol_receiver_*), their receiver and transport.
var knownLabels = append(slices.Clone(ourLabels), componentLabel, "instance", "job", "le")

// receiverMetricLabels are the labels of the collector's standard receiver metrics, which ours do not carry.
var receiverMetricLabels = []string{"receiver", "transport"}

// metadataMetrics returns the telemetry metrics declared in metadata.yaml, by name.
func metadataMetrics(t *testing.T) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile("metadata.yaml")
	require.NoError(t, err)
	var md struct {
		Telemetry struct {
			Metrics map[string]map[string]any `yaml:"metrics"`
		} `yaml:"telemetry"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &md))
	require.NotEmpty(t, md.Telemetry.Metrics)
	return md.Telemetry.Metrics
}

// exportedFamilies records every metric of the receiver once through the OpenTelemetry Prometheus exporter the
// collector v0.165 uses for :8888 (go.opentelemetry.io/otel/exporters/prometheus v0.69.0), configured as the
// collector configures it by default (service/telemetry/otelconftelemetry: without_units, without_type_suffix and
// without_scope_info, which otelconf turns into the NoTranslation strategy), and returns the metric families by
// metadata.yaml name.
func exportedFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.NoTranslation), otelprom.WithoutScopeInfo())
	require.NoError(t, err)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	set := componenttest.NewNopTelemetrySettings()
	set.MeterProvider = mp
	tb, err := metadata.NewTelemetryBuilder(set)
	require.NoError(t, err)
	tel := newReceiverTelemetry(tb)

	p := pool.Start(pool.Settings{MaxStreams: 1, Rotation: time.Hour, TimeSlice: time.Hour,
		Turn: func(context.Context, string, <-chan pool.Reason) pool.Next { return pool.Next{} }})
	t.Cleanup(p.Stop)
	require.NoError(t, tel.observePool(p, fixedCount(0), 1))
	require.NoError(t, tel.observePositions(checkpoint.NewStore(nil)))
	require.NoError(t, tel.observeFiles(fixedCount(0)))
	t.Cleanup(tel.shutdown)
	ctx := context.Background()
	tel.turnEnded(ctx, turn.Outcome{End: turn.EndYielded, Yield: pool.ReasonPlanned, Duplicates: 1, WindowMissed: true, Duration: time.Second, Throttled: time.Second,
		Gaps: []turn.Gap{{Cause: turn.GapRotatedAway, From: 1, To: 2}}, Skipped: []turn.Skipped{{After: 1, Offset: 2, Length: 3}}})
	tel.handedOn(ctx, []turn.Line{{Stream: 1, Timestamp: time.Now().UnixNano(), Body: "x"}}, true, time.Now())
	tel.event(ctx, events.Message{Action: events.ActionStart, Actor: events.Actor{ID: "c"}, TimeNano: 1})
	tel.reconnect(ctx)
	tel.operatorErrors(ctx, 1)

	families, err := reg.Gather()
	require.NoError(t, err)
	declared := metadataMetrics(t)
	out := map[string]*dto.MetricFamily{}
	for _, f := range families {
		if f.GetName() == "target_info" {
			continue
		}
		// The family of a metadata.yaml metric starts with otelcol_<name>; the longest such name is the one.
		best := ""
		for name := range declared {
			if (f.GetName() == "otelcol_"+name || strings.HasPrefix(f.GetName(), "otelcol_"+name+"_")) && len(name) > len(best) {
				best = name
			}
		}
		require.NotEmpty(t, best, "exported family %s matches no metric of metadata.yaml", f.GetName())
		out[best] = f
	}
	for name := range declared {
		require.Contains(t, out, name, "metric %s of metadata.yaml was not exported: record it above", name)
	}
	return out
}

// seriesNames lists the names PromQL sees for each metadata.yaml metric: a histogram's are _bucket, _sum and _count.
func seriesNames(families map[string]*dto.MetricFamily) map[string]string {
	out := map[string]string{}
	for name, f := range families {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				out[f.GetName()+suffix] = name
			}
			continue
		}
		out[f.GetName()] = name
	}
	return out
}

// TestExportedPrometheusNames pins the names the metrics get on :8888, which the dashboard and the rules use,
// and checks that documentation.md (from metadata.yaml's extended_documentation) names each of them.
func TestExportedPrometheusNames(t *testing.T) {
	families := exportedFamilies(t)
	got := map[string]string{}
	for name, f := range families {
		got[name] = f.GetName() + " " + strings.ToLower(f.GetType().String())
	}
	assert.Equal(t, map[string]string{
		"docker_logs_bytes_read":          "otelcol_docker_logs_bytes_read counter",
		"docker_logs_containers_known":    "otelcol_docker_logs_containers_known gauge",
		"docker_logs_containers_on_files": "otelcol_docker_logs_containers_on_files gauge",
		"docker_logs_containers_waiting":  "otelcol_docker_logs_containers_waiting gauge",
		"docker_logs_daemon_reconnects":   "otelcol_docker_logs_daemon_reconnects counter",
		"docker_logs_delivery_lag":        "otelcol_docker_logs_delivery_lag histogram",
		"docker_logs_discovery_events":    "otelcol_docker_logs_discovery_events counter",
		"docker_logs_duplicates_dropped":  "otelcol_docker_logs_duplicates_dropped counter",
		"docker_logs_read_throttled":      "otelcol_docker_logs_read_throttled counter",
		"docker_logs_entries_skipped":     "otelcol_docker_logs_entries_skipped counter",
		"docker_logs_gap_duration":        "otelcol_docker_logs_gap_duration counter",
		"docker_logs_gaps":                "otelcol_docker_logs_gaps counter",
		"docker_logs_lines_read":          "otelcol_docker_logs_lines_read counter",
		"docker_logs_operator_errors":     "otelcol_docker_logs_operator_errors counter",
		"docker_logs_pool_utilization":    "otelcol_docker_logs_pool_utilization gauge",
		"docker_logs_positions_saved":     "otelcol_docker_logs_positions_saved gauge",
		"docker_logs_rotations":           "otelcol_docker_logs_rotations counter",
		"docker_logs_stream_age":          "otelcol_docker_logs_stream_age histogram",
		"docker_logs_stream_errors":       "otelcol_docker_logs_stream_errors counter",
		"docker_logs_streams_open":        "otelcol_docker_logs_streams_open gauge",
		"process_goroutines":              "otelcol_process_goroutines gauge",
	}, got)

	// Labels: only bounded ones, never a container's, and valid Prometheus names without escaping (no dots), so
	// that Prometheus 2 and a Prometheus 3 that negotiates UTF-8 see the same label.
	for name, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.Contains(t, ourLabels, l.GetName(), "label of %s", name)
			}
		}
	}

	doc, err := os.ReadFile("documentation.md")
	require.NoError(t, err)
	for series, name := range seriesNames(families) {
		assert.Contains(t, string(doc), "`"+series+"`", "documentation.md names the series %s of %s (extended_documentation)", series, name)
	}
}

// promqlMetric finds the metric names in a PromQL expression: identifiers that are neither functions, keywords,
// nor label names, durations or strings. Every name here starts with otelcol_ or is a recording rule (level:metric:op).
var (
	promqlString  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promqlMetric  = regexp.MustCompile(`\b(?:otelcol_[a-zA-Z0-9_]+|[a-z_]+:[a-zA-Z0-9_]+:[a-z_]+)\b`)
	promqlGrouped = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	promqlMatcher = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
)

// checkQuery requires every metric a query names to be one we emit (or a rule records) and every label to be known;
// receiver and transport only where the query reads nothing but the collector's receiver metrics, since a
// receiver="..." matcher on ours would match no series.
func checkQuery(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	bare := promqlString.ReplaceAllString(expr, `""`)
	names := promqlMetric.FindAllString(bare, -1)
	assert.NotEmpty(t, names, "%s: %s names no metric", where, expr)
	labels := knownLabels
	onlyReceiverMetrics := len(names) > 0
	for _, n := range names {
		assert.True(t, known[n], "%s: %s is not a metric we emit (%s)", where, n, expr)
		onlyReceiverMetrics = onlyReceiverMetrics && strings.HasPrefix(n, "otelcol_receiver_")
	}
	if onlyReceiverMetrics {
		labels = append(slices.Clone(knownLabels), receiverMetricLabels...)
	}
	for _, m := range promqlGrouped.FindAllStringSubmatch(bare, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" {
				assert.Contains(t, labels, l, "%s: grouping label in %s", where, expr)
			}
		}
	}
	for _, m := range promqlMatcher.FindAllStringSubmatch(expr, -1) {
		assert.Contains(t, labels, m[1], "%s: matcher label in %s", where, expr)
	}
}

// knownSeries is every name a query may use: ours as exported, the collector's, and the rules' records.
func knownSeries(t *testing.T) (map[string]bool, map[string]string) {
	t.Helper()
	ours := seriesNames(exportedFamilies(t))
	known := map[string]bool{}
	for n := range ours {
		known[n] = true
	}
	for _, n := range collectorMetrics {
		known[n] = true
	}
	for _, r := range loadRules(t) {
		if r.Record != "" {
			known[r.Record] = true
		}
	}
	return known, ours
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	raw, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &file))
	var out []rule
	for _, g := range file.Groups {
		out = append(out, g.Rules...)
	}
	require.NotEmpty(t, out)
	return out
}

// grafanaPanel is the part of a panel the checks read; rows carry their collapsed panels.
type grafanaPanel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	GridPos    map[string]int  `json:"gridPos"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// TestDashboardQueriesNameMetricsWeEmit loads each dashboard and checks its structure, that every query names
// metrics we emit (checked against metadata.yaml through the exporter's names), and that each metric is shown.
func TestDashboardQueriesNameMetricsWeEmit(t *testing.T) {
	files, err := filepath.Glob(dashboardFiles)
	require.NoError(t, err)
	require.NotEmpty(t, files, "no dashboard in %s", dashboardFiles)
	known, ours := knownSeries(t)

	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var d grafanaDashboard
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		require.NoError(t, dec.Decode(&d), "%s is JSON of a dashboard", file)
		assert.NotEmpty(t, d.UID, file)
		assert.NotEmpty(t, d.Title, file)
		assert.GreaterOrEqual(t, d.SchemaVersion, 36, "%s: schemaVersion of Grafana 9 or later", file)

		vars := map[string]string{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v.Type
		}
		assert.Equal(t, "datasource", vars["datasource"], "%s: a data source variable", file)
		assert.Equal(t, "query", vars["instance"], "%s: a collector instance variable", file)

		used := map[string]bool{}
		ids := map[int]bool{}
		var walk func(ps []grafanaPanel)
		walk = func(ps []grafanaPanel) {
			for _, p := range ps {
				assert.False(t, ids[p.ID], "%s: panel id %d twice", file, p.ID)
				ids[p.ID] = true
				assert.NotEmpty(t, p.Title, "%s: panel %d has a title", file, p.ID)
				for _, k := range []string{"h", "w", "x", "y"} {
					assert.Contains(t, p.GridPos, k, "%s: panel %q gridPos", file, p.Title)
				}
				assert.LessOrEqual(t, p.GridPos["x"]+p.GridPos["w"], 24, "%s: panel %q fits the grid", file, p.Title)
				if p.Type == "row" {
					walk(p.Panels)
					continue
				}
				assert.Contains(t, []string{"timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "text"}, p.Type, "%s: panel %q", file, p.Title)
				assert.Contains(t, string(p.Datasource), "${datasource}", "%s: panel %q uses the data source variable", file, p.Title)
				assert.NotEmpty(t, p.Targets, "%s: panel %q has queries", file, p.Title)
				for _, tg := range p.Targets {
					assert.NotEmpty(t, tg.RefID)
					checkQuery(t, file+": "+p.Title, tg.Expr, known)
					for _, n := range promqlMetric.FindAllString(promqlString.ReplaceAllString(tg.Expr, `""`), -1) {
						if name, ok := ours[n]; ok {
							used[name] = true
						}
					}
				}
			}
		}
		walk(d.Panels)
		for _, name := range sortedKeys(metadataMetrics(t)) {
			assert.True(t, used[name], "%s shows no panel of %s", file, name)
		}
		for _, want := range []string{"otelcol_process_memory_rss", "otelcol_process_goroutines"} {
			assert.Contains(t, string(raw), want, "%s: the collector's memory and goroutines", file)
		}
	}
}

// TestAlertRulesNameMetricsWeEmitAndHaveRunbooks checks each rule's queries and that its runbook section exists.
// promtool checks and unit-tests the same file (make rules).
func TestAlertRulesNameMetricsWeEmitAndHaveRunbooks(t *testing.T) {
	known, _ := knownSeries(t)
	runbook, err := os.ReadFile(runbookFile)
	require.NoError(t, err)
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(runbook), "\n") {
		if strings.HasPrefix(line, "#") {
			anchors[githubAnchor(strings.TrimLeft(line, "# "))] = true
		}
	}
	var alerts []string
	for _, r := range loadRules(t) {
		name := r.Alert + r.Record
		checkQuery(t, rulesFile+": "+name, r.Expr, known)
		if r.Alert == "" {
			continue
		}
		alerts = append(alerts, r.Alert)
		assert.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], r.Alert)
		assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
		assert.NotEmpty(t, r.Annotations["description"], r.Alert)
		url := r.Annotations["runbook_url"]
		_, anchor, ok := strings.Cut(url, "docs/runbook.md#")
		assert.True(t, ok, "%s: runbook_url %q points into docs/runbook.md", r.Alert, url)
		assert.True(t, anchors[anchor], "%s: docs/runbook.md has a section #%s", r.Alert, anchor)
	}
	sort.Strings(alerts)
	assert.Equal(t, []string{"DockerLogsDeliveryLagHigh", "DockerLogsGoroutinesGrowing", "DockerLogsGoroutinesHigh",
		"DockerLogsLinesLost", "DockerLogsNoRotation", "DockerLogsPoolSaturated", "DockerLogsStreamErrors"}, alerts)
}

// githubAnchor is the anchor GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fixedCount is a count of known containers and of containers read from their files, for gauges.
type fixedCount int

func (n fixedCount) Known() int   { return int(n) }
func (n fixedCount) OnFiles() int { return int(n) }
