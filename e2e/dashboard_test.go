package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// rateInterval stands for Grafana's $__rate_interval: at least 4 scrapes of deploy/run/prometheus.yml (5s each).
const rateInterval = "1m"

// TestDashboardAndRules runs the real Prometheus with deploy/run/prometheus.yml (the one make run uses: it
// scrapes 127.0.0.1:8888 and loads alerts/docker-logs.rules.yml) against bin/otelcol-dockerlogs with the shipped
// collector-config.yaml, reading containers that write, exit, cannot be read and lose their connection, and
// exporting to VictoriaLogs. Every query of every panel of dashboards/docker-logs.json, its template variables
// substituted as Grafana does, must return a number through Prometheus' HTTP API, and every rule must be
// loaded, evaluated and healthy.
func TestDashboardAndRules(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	promBin := needTool(t, "prometheus")
	image := dockertest.LoggenImage(t, cli)
	runMake(t, "victoria-logs")
	root := distrotest.ModuleRoot(t)
	panels := dashboardPanels(t, filepath.Join(root, "dashboards", "docker-logs.json"))

	vl := startVictoriaLogs(t)
	gate := startStoreGate(t, vl)
	// Through a proxy of the engine's socket, so the test can break the collector's connections as a daemon restart would.
	proxy := dockertest.StartProxy(t)
	c := startShippedOnFreePorts(t, proxy.Endpoint, gate.URL)
	prom := startPrometheus(t, promBin, runPrometheusConfig(t, c.metricsAddr))

	run := strings.TrimSuffix(runName(t), "-")
	labels := map[string]string{runLabel: run}
	spec := func(args ...string) dockertest.ContainerSpec {
		return dockertest.ContainerSpec{Image: image, Labels: labels, Cmd: append([]string{"-prefix", run, "-streams", "both"}, args...)}
	}
	// A container that writes until the end: open streams, lines and bytes per output, delivery lag.
	dockertest.StartContainer(t, cli, spec("-rate", "20"))
	eventually(t, time.Minute, 200*time.Millisecond, "the writer's stream open", func() error {
		samples, err := scrape("http://" + c.metricsAddr + "/metrics")
		if v, _ := metricSum(samples, "otelcol_docker_logs_streams_open", nil); err != nil || v < 1 {
			return fmt.Errorf("%w: streams_open %v %v", errNotYet, v, err)
		}
		return nil
	})

	// Evaluate every panel until each query has data, and those over what the test makes happen a value above 0.
	// Every 10 s meanwhile (twice a scrape or more, so a counter's second value is seen to grow from its first):
	//   - a short container: its end is a rotation (container_stopped) with a stream age, and start and die events;
	//   - a container whose logging driver cannot be read back: a stream error (unsupported_driver);
	//   - a cut of every connection to the daemon: the events stream is subscribed to again (daemon_reconnects),
	//     the writer's stream fails (read_failed) and is reopened at its position, where the line read last
	//     comes again (duplicates_dropped).
	vars := dashboardVariables(t, prom, filepath.Join(root, "dashboards", "docker-logs.json"))
	results := map[string]float64{}
	var lastDrive time.Time
	eventually(t, 4*time.Minute, 2*time.Second, "every dashboard query to return data", func() error {
		if time.Since(lastDrive) > 10*time.Second {
			dockertest.StartContainer(t, cli, spec("-count", "40", "-rate", "40"))
			noLogs := spec("-count", "5", "-linger", "10m")
			noLogs.LogDriver = "none"
			dockertest.StartContainer(t, cli, noLogs)
			proxy.Cut()
			lastDrive = time.Now()
		}
		select {
		case err := <-c.exited:
			return fmt.Errorf("the collector exited: %v", err)
		default:
		}
		var missing []string
		for _, p := range panels {
			for _, tg := range p.Targets {
				expr, err := substitute(tg.Expr, vars)
				if err != nil {
					return err
				}
				series, err := prom.query(expr)
				if err != nil {
					return fmt.Errorf("panel %d %q target %s: %w", p.ID, p.Title, tg.RefID, err)
				}
				v, ok := largestNumber(series)
				switch {
				case !ok:
					missing = append(missing, fmt.Sprintf("%d %s/%s: no data", p.ID, p.Title, tg.RefID))
				case v == 0 && !mayBeZero(tg.Expr):
					missing = append(missing, fmt.Sprintf("%d %s/%s: 0", p.ID, p.Title, tg.RefID))
				}
				results[p.key(tg.RefID)] = v
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: %d queries: %s", errNotYet, len(missing), strings.Join(missing, "; "))
		}
		return nil
	})
	targets, nonZero := 0, 0
	for _, p := range panels {
		var values []string
		zero := true
		for _, tg := range p.Targets {
			targets++
			v := results[p.key(tg.RefID)]
			zero = zero && v == 0
			values = append(values, fmt.Sprintf("%s=%.4g", tg.RefID, v))
		}
		if !zero {
			nonZero++
		}
		t.Logf("panel %2d %-50q %s", p.ID, p.Title, strings.Join(values, " "))
	}
	t.Logf("%d of %d panels have data, %d of them above 0 (%d queries; variables %v, $__rate_interval=%s)",
		len(panels), len(panels), nonZero, targets, vars, rateInterval)

	checkRules(t, prom, filepath.Join(root, "alerts", "docker-logs.rules.yml"))
}

// shippedOnFreePorts is bin/otelcol-dockerlogs running collector-config.yaml with portsOverlay.
type shippedOnFreePorts struct {
	metricsAddr string
	exited      chan error
}

// startShippedOnFreePorts runs bin/otelcol-dockerlogs with the shipped collector-config.yaml (ports moved by
// portsOverlay) against the engine at dockerHost, exporting to LOKI_ENDPOINT=lokiURL, until the test ends.
func startShippedOnFreePorts(t *testing.T, dockerHost, lokiURL string) *shippedOnFreePorts {
	t.Helper()
	runMake(t, "otelcol")
	root := distrotest.ModuleRoot(t)
	dir := t.TempDir()
	health, pprof, metrics := freePort(t), freePort(t), freePort(t)
	overlay := filepath.Join(dir, "ports.yaml")
	if err := os.WriteFile(overlay, []byte(distrotest.PortsOverlay(health, pprof, metrics)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, distBinary), "--config", filepath.Join(root, "collector-config.yaml"), "--config", overlay)
	cmd.Env = append(withoutEnv(os.Environ(), "DOCKER_HOST", "LOKI_ENDPOINT", "OTELCOL_STORAGE_DIR", "OTELCOL_LISTEN_HOST", "OTELCOL_QUEUE_BYTES"),
		"DOCKER_HOST="+dockerHost, "LOKI_ENDPOINT="+lokiURL, "OTELCOL_STORAGE_DIR="+filepath.Join(dir, "storage"))
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	c := &shippedOnFreePorts{metricsAddr: fmt.Sprintf("127.0.0.1:%d", metrics)}
	c.exited = startProcess(t, cmd, 30*time.Second, func() {
		if t.Failed() {
			t.Logf("collector output (last 6 KiB):\n%s", tail(out.String(), 6144))
		}
	})
	healthURL := fmt.Sprintf("http://127.0.0.1:%d/", health)
	eventually(t, time.Minute, 100*time.Millisecond, "the collector's health check", func() error {
		select {
		case err := <-c.exited:
			c.exited <- err
			return fmt.Errorf("the collector exited during start-up: %v", err)
		default:
		}
		if code, _, err := httpGet(healthURL); err != nil || code != http.StatusOK {
			return fmt.Errorf("%w: %d %v", errNotYet, code, err)
		}
		return nil
	})
	return c
}

// runPrometheusConfig writes deploy/run/prometheus.yml with its scrape target moved to metricsAddr and its rule
// files made absolute, and returns the copy's path.
func runPrometheusConfig(t *testing.T, metricsAddr string) string {
	t.Helper()
	src := filepath.Join(distrotest.ModuleRoot(t), "deploy", "run", "prometheus.yml")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for old, new := range map[string]string{
		`"127.0.0.1:8888"`: strconv.Quote(metricsAddr),
		"- ../../alerts/":  "- " + filepath.Join(distrotest.ModuleRoot(t), "alerts") + "/",
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("%s no longer holds %s", src, old)
		}
		text = strings.ReplaceAll(text, old, new)
	}
	dst := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(dst, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// checkRules waits until Prometheus has loaded every group of the rules file and evaluated each rule without
// error, and until the recording rules have a value.
func checkRules(t *testing.T, prom *prometheus, rulesPath string) {
	t.Helper()
	var want struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Record string `yaml:"record"`
				Alert  string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, rulesPath, &want)
	var groups []promRuleGroup
	eventually(t, time.Minute, time.Second, "every rule loaded, evaluated and healthy", func() error {
		var err error
		if groups, err = prom.rules(); err != nil {
			return err
		}
		byName := map[string]promRuleGroup{}
		for _, g := range groups {
			byName[g.Name] = g
		}
		for _, wg := range want.Groups {
			g, ok := byName[wg.Name]
			if !ok {
				return fmt.Errorf("group %s of %s is not loaded (loaded: %v)", wg.Name, rulesPath, slices.Sorted(maps.Keys(byName)))
			}
			if len(g.Rules) != len(wg.Rules) {
				return fmt.Errorf("group %s: %d rules loaded, the file has %d", g.Name, len(g.Rules), len(wg.Rules))
			}
			for i, r := range g.Rules {
				if name := wg.Rules[i].Record + wg.Rules[i].Alert; r.Name != name {
					return fmt.Errorf("group %s rule %d is %s, the file has %s", g.Name, i, r.Name, name)
				}
				switch {
				case r.Health == "err":
					return fmt.Errorf("rule %s: %s", r.Name, r.LastError)
				case r.Health != "ok" || r.LastEvaluation.IsZero():
					return fmt.Errorf("%w: rule %s health %q, last evaluated %v", errNotYet, r.Name, r.Health, r.LastEvaluation)
				}
			}
		}
		for _, wg := range want.Groups {
			for _, r := range wg.Rules {
				if r.Record == "" {
					continue
				}
				series, err := prom.query(r.Record)
				if err != nil {
					return err
				}
				if _, ok := largestNumber(series); !ok {
					return fmt.Errorf("%w: the recording rule %s has no value", errNotYet, r.Record)
				}
			}
		}
		return nil
	})
	for _, g := range groups {
		var states []string
		for _, r := range g.Rules {
			state := r.Health
			if r.Type == "alerting" {
				state += ", " + r.State
			}
			states = append(states, fmt.Sprintf("%s (%s)", r.Name, state))
		}
		t.Logf("rule group %s (%s), last evaluated %v: %s", g.Name, filepath.Base(g.File), g.LastEvaluation.Format(time.TimeOnly), strings.Join(states, "; "))
	}
}

// dashPanel is a panel of a Grafana dashboard with its queries.
type dashPanel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"` // a collapsed row holds its panels
}

func (p dashPanel) key(refID string) string { return fmt.Sprintf("%d/%s", p.ID, refID) }

// dashboardPanels returns the panels of a dashboard that have queries, those in collapsed rows included.
func dashboardPanels(t *testing.T, path string) []dashPanel {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []dashPanel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []dashPanel
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %d %q has no query", path, p.ID, p.Title)
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	if len(out) < 10 {
		t.Fatalf("%s: only %d panels", path, len(out))
	}
	return out
}

// componentLabel is otelcol.component.id as a label on :8888, there only with the feature gate telemetry.newPipelineTelemetry.
const componentLabel = "otel_scope_otelcol_component_id"

var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// dashboardVariables resolves the dashboard's query variables as Grafana does: label_values(selector, label)
// through Prometheus' series API, in their order (a later one may use an earlier one). Each must find values;
// it stands for the first value found, which proves the queries that filter on it still match.
func dashboardVariables(t *testing.T, prom *prometheus, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Templating struct {
			List []struct {
				Name       string          `json:"name"`
				Type       string          `json:"type"`
				Query      json.RawMessage `json:"query"`
				IncludeAll bool            `json:"includeAll"`
				AllValue   string          `json:"allValue"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue // the data source: it names no part of a query's text
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: query %s: %v", v.Name, v.Query, err)
		}
		m := labelValuesQuery.FindStringSubmatch(q.Query)
		if m == nil {
			t.Fatalf("variable %s: query %q is not label_values(selector, label)", v.Name, q.Query)
		}
		selector, err := substitute(m[1], vars)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		var values []string
		if m[2] == componentLabel {
			// The shipped collector runs without the feature gate that adds the component's ID, so the list is
			// empty, as for most users: Grafana's All stands for it, and the queries must match without the label.
			if err := prom.api("/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {selector}}, &values); err != nil {
				t.Fatalf("variable %s: %v", v.Name, err)
			}
			if len(values) != 0 || !v.IncludeAll || v.AllValue != ".*" {
				t.Fatalf("variable %s: values %v, includeAll %v, allValue %q: want none, and All as .*", v.Name, values, v.IncludeAll, v.AllValue)
			}
			vars[v.Name] = v.AllValue
			continue
		}
		eventually(t, time.Minute, time.Second, "values of the variable "+v.Name, func() error {
			if err := prom.api("/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {selector}}, &values); err != nil {
				return err
			}
			if len(values) == 0 {
				return fmt.Errorf("%w: %s finds no value", errNotYet, q.Query)
			}
			return nil
		})
		sort.Strings(values)
		// As Grafana does for a regex match in PromQL: regex characters escaped, then the backslashes for the string.
		vars[v.Name] = strings.ReplaceAll(regexp.QuoteMeta(values[0]), `\`, `\\`)
	}
	return vars
}

var templateVar = regexp.MustCompile(`\$(\{[a-zA-Z0-9_]+\}|[a-zA-Z0-9_]+)`)

// substitute replaces the dashboard's variables and Grafana's interval variables in a query; an unknown one is an error.
func substitute(expr string, vars map[string]string) (string, error) {
	builtin := map[string]string{"__rate_interval": rateInterval, "__interval": "15s", "__range": "1h"}
	var unknown []string
	out := templateVar.ReplaceAllStringFunc(expr, func(s string) string {
		name := strings.Trim(s[1:], "{}")
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := builtin[name]; ok {
			return v
		}
		unknown = append(unknown, s)
		return s
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("query %q uses unknown variables %v", expr, unknown)
	}
	return out, nil
}

// largestNumber returns the value farthest from 0 among the series whose value is a number (not NaN): ok
// tells that the panel draws something.
func largestNumber(series []promSeries) (largest float64, ok bool) {
	for _, s := range series {
		if v := s.number(); !math.IsNaN(v) {
			if !ok || math.Abs(v) > math.Abs(largest) {
				largest = v
			}
			ok = true
		}
	}
	return largest, ok
}

// zeroMetrics are the metrics of conditions this test does not cause: a full stream pool, a pipeline that
// refuses, lines lost to log rotation before they were read, malformed entries. Their counters and gauges
// exist from the receiver's start, so their panels have data: 0.
var zeroMetrics = regexp.MustCompile(`\b(otelcol_docker_logs_containers_waiting|otelcol_receiver_refused_log_records|otelcol_docker_logs_gaps|otelcol_docker_logs_gap_duration|otelcol_docker_logs_entries_skipped|otelcol_docker_logs_operator_errors|otelcol_docker_logs_containers_on_files|otelcol_docker_logs_read_throttled)\b`)

// mayBeZero tells whether a query's value may be 0 in this test.
func mayBeZero(expr string) bool {
	return zeroMetrics.MatchString(expr)
}
