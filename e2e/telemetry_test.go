package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// telemetryConfig runs docker_logs with 2 streams rotated every second, only for the run's containers (a label
// pushed to the engine, so that events of other containers do not count either), through a proxy of the
// engine's socket, with the health check in component-status mode and the internal metrics on a free port.
const telemetryConfig = `
extensions:
  health_check:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%[1]d
      status: {enabled: true, path: /health/status}
    component_health:
      include_permanent_errors: true
      include_recoverable_errors: true
      recovery_duration: 5s
receivers:
  docker_logs:
    endpoint: %[2]s
    max_concurrent_streams: 2
    rotation_interval: 1s
    time_slice: 300ms
    reconcile_interval: 1s
    include:
      labels:
        %[3]s: "%[4]s"
exporters:
  debug:
    verbosity: basic
service:
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [docker_logs]
      exporters: [debug]
  telemetry:
    logs:
      level: warn
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[5]d
`

// runLabel marks the containers of one run of TestDistributionTelemetry.
const runLabel = "otelcol-dockerlogs.e2e-run"

// TestDistributionTelemetry runs bin/otelcol-dockerlogs against the engine and reads the receiver's own metrics
// from its :8888 endpoint: every metric of metadata.yaml is there under the name the dashboard and the alert
// rules use (and every name they use is there), with values that match what the containers did.
func TestDistributionTelemetry(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)
	runMake(t, "otelcol")
	root := distrotest.ModuleRoot(t)
	proxy := dockertest.StartProxy(t)
	run := strings.TrimSuffix(runName(t), "-")

	healthPort, metricsPort := freePort(t), freePort(t)
	configPath := filepath.Join(t.TempDir(), "config.yaml")
	config := fmt.Sprintf(telemetryConfig, healthPort, proxy.Endpoint, runLabel, run, metricsPort)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	startBinary(t, filepath.Join(root, distBinary), "--config", configPath,
		"--feature-gates=+extension.healthcheck.useComponentStatus")
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	healthURL := fmt.Sprintf("http://127.0.0.1:%d/health/status?verbose", healthPort)
	eventually(t, time.Minute, 100*time.Millisecond, "the collector's health check", func() error {
		if code, body, err := httpGet(healthURL); err != nil || code != http.StatusOK {
			return fmt.Errorf("%w: %d %s %v", errNotYet, code, body, err)
		}
		return nil
	})

	// Two containers take both streams and pause halfway until two more have started and wait for a stream,
	// however slow the machine.
	spec := func(count, rate string, more ...string) dockertest.ContainerSpec {
		return dockertest.ContainerSpec{Image: image, Labels: map[string]string{runLabel: run},
			Cmd: append([]string{"-count", count, "-rate", rate, "-streams", "both"}, more...)}
	}
	ids := []string{dockertest.StartContainer(t, cli, spec("3000", "200", "-pause-after", "1500")),
		dockertest.StartContainer(t, cli, spec("3000", "200", "-pause-after", "1500"))}
	const lines = 2*3000 + 2*300
	value := func(samples []sample, name string, labels map[string]string) float64 {
		v, _ := metricSum(samples, name, labels)
		return v
	}
	eventually(t, time.Minute, 20*time.Millisecond, "both streams open", func() error {
		s, err := scrape(metricsURL)
		if err != nil || value(s, "otelcol_docker_logs_streams_open", nil) != 2 {
			return fmt.Errorf("%w: %v", errNotYet, err)
		}
		return nil
	})
	ids = append(ids, dockertest.StartContainer(t, cli, spec("300", "300")), dockertest.StartContainer(t, cli, spec("300", "300")))
	eventually(t, 30*time.Second, 5*time.Millisecond, "a container waiting for a stream", func() error {
		s, err := scrape(metricsURL)
		if err != nil || value(s, "otelcol_docker_logs_containers_waiting", nil) < 1 || value(s, "otelcol_docker_logs_pool_utilization", nil) != 1 {
			return fmt.Errorf("%w: %v", errNotYet, err)
		}
		return nil
	})
	for i, id := range ids[:2] {
		resumeLoggen(t, cli, id, fmt.Sprintf("long writer %d", i))
	}
	for _, id := range ids {
		dockertest.WaitExit(t, cli, id, 2*time.Minute)
	}
	eventually(t, 2*time.Minute, 100*time.Millisecond, "every line read and every stream closed", func() error {
		s, err := scrape(metricsURL)
		switch {
		case err != nil:
			return fmt.Errorf("%w: %v", errNotYet, err)
		case value(s, "otelcol_docker_logs_lines_read", nil) < lines,
			value(s, "otelcol_docker_logs_rotations", map[string]string{"reason": "container_stopped"}) < 4,
			value(s, "otelcol_docker_logs_discovery_events", map[string]string{"action": "die"}) < 4,
			value(s, "otelcol_docker_logs_streams_open", nil) != 0:
			return errNotYet
		}
		return nil
	})
	// A cut of every connection to the daemon breaks the events stream: the receiver subscribes again.
	proxy.Cut()
	eventually(t, 30*time.Second, 50*time.Millisecond, "a reconnect counted", func() error {
		s, err := scrape(metricsURL)
		if err != nil || value(s, "otelcol_docker_logs_daemon_reconnects", nil) < 1 {
			return fmt.Errorf("%w: %v", errNotYet, err)
		}
		return nil
	})
	code, body, err := httpGet(healthURL)
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"receiver:docker_logs"`) {
		t.Errorf("health after the reconnect: HTTP %d %v, want 200 with receiver:docker_logs:\n%s", code, err, body)
	}
	samples, err := scrape(metricsURL)
	if err != nil {
		t.Fatal(err)
	}

	// Every metric of metadata.yaml, and every metric the dashboard and the rules query, is on :8888.
	exported := map[string]bool{}
	for _, s := range samples {
		exported[s.name] = true
	}
	for _, name := range receiverMetrics(t, root) {
		if !exported["otelcol_"+name] && !exported["otelcol_"+name+"_bucket"] {
			t.Errorf("metric %s of metadata.yaml is not on :8888 as otelcol_%s", name, name)
		}
	}
	for _, name := range queriedMetrics(t, root) {
		if !exported[name] {
			t.Errorf("the dashboard or the rules query %s, which is not on :8888", name)
		}
	}

	// The values match what happened.
	byStream := func(name, stream string) float64 { return value(samples, name, map[string]string{"iostream": stream}) }
	var wantBytes = map[string]float64{}
	for _, id := range ids {
		stdout, stderr := dockertest.Logs(t, cli, id)
		wantBytes["stdout"] += float64(len(stdout) - strings.Count(stdout, "\n"))
		wantBytes["stderr"] += float64(len(stderr) - strings.Count(stderr, "\n"))
	}
	for _, stream := range []string{"stdout", "stderr"} {
		if got := byStream("otelcol_docker_logs_lines_read", stream); got != lines/2 {
			t.Errorf("lines_read{iostream=%s} = %v, want %d", stream, got, lines/2)
		}
		if got := byStream("otelcol_docker_logs_bytes_read", stream); got != wantBytes[stream] {
			t.Errorf("bytes_read{iostream=%s} = %v, want %v (the bodies the containers wrote)", stream, got, wantBytes[stream])
		}
	}
	if got := value(samples, "otelcol_receiver_accepted_log_records", map[string]string{"receiver": "docker_logs"}); got != lines {
		t.Errorf("otelcol_receiver_accepted_log_records = %v, want %d", got, lines)
	}
	for _, action := range []string{"start", "die"} {
		if got := value(samples, "otelcol_docker_logs_discovery_events", map[string]string{"action": action}); got != 4 {
			t.Errorf("discovery_events{action=%s} = %v, want 4", action, got)
		}
	}
	if got := value(samples, "otelcol_docker_logs_rotations", map[string]string{"reason": "container_stopped"}); got != 4 {
		t.Errorf("rotations{reason=container_stopped} = %v, want 4: one per container", got)
	}
	rotations := map[string]float64{}
	for _, s := range samples {
		if s.name == "otelcol_docker_logs_rotations" {
			rotations[s.labels["reason"]] += s.value
		}
	}
	for reason, n := range rotations {
		if got := value(samples, "otelcol_docker_logs_stream_age_count", map[string]string{"reason": reason}); got != n {
			t.Errorf("stream_age_count{reason=%s} = %v, want %v: one age per rotation", reason, got, n)
		}
	}
	if rotations["planned"] < 2 || rotations["handover"] < 1 {
		t.Errorf("rotations %v: want planned ones (15 s of writing, rotation_interval 1s) and handovers (containers waited)", rotations)
	}
	if got := value(samples, "otelcol_docker_logs_stream_errors", map[string]string{"error_type": "pool_full"}); got < 1 {
		t.Errorf("stream_errors{error_type=pool_full} = %v, want at least 1: containers started while both streams were taken", got)
	}
	if got := value(samples, "otelcol_docker_logs_duplicates_dropped", nil); got < 1 {
		t.Errorf("duplicates_dropped = %v: every reopen of a writing container re-reads the line at its position", got)
	}
	for name, want := range map[string]float64{"otelcol_docker_logs_containers_known": 4, "otelcol_docker_logs_containers_waiting": 0, "otelcol_docker_logs_pool_utilization": 0} {
		if got := value(samples, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if lagCount := value(samples, "otelcol_docker_logs_delivery_lag_count", nil); lagCount < 1 {
		t.Errorf("delivery_lag_count = %v", lagCount)
	} else if mean := value(samples, "otelcol_docker_logs_delivery_lag_sum", nil) / lagCount; mean > 5 {
		t.Errorf("mean delivery lag %.2fs: the containers were read while they wrote", mean)
	}
	if got := value(samples, "otelcol_process_goroutines", nil); got < 10 {
		t.Errorf("otelcol_process_goroutines = %v", got)
	}
	// The receiver's metrics name no receiver: the collector identifies components (see TestTelemetryComponentID).
	for _, s := range samples {
		if _, ok := s.labels["receiver"]; ok && !strings.HasPrefix(s.name, "otelcol_receiver_") {
			t.Errorf("%s%v carries a receiver label", s.name, s.labels)
		}
	}
	t.Logf("rotations by reason %v, stream errors %v", rotations, labelValues(samples, "otelcol_docker_logs_stream_errors", "error_type"))
}

// startBinary runs the collector binary until the test ends, then stops it with SIGTERM; its output is shown when the test failed.
func startBinary(t *testing.T, bin string, args ...string) {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	startProcess(t, cmd, 30*time.Second, func() {
		if t.Failed() {
			t.Logf("collector output (last 6 KiB):\n%s", tail(out.String(), 6144))
		}
	})
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// componentIDConfig runs two docker_logs receivers with the internal metrics' scope attributes on, which the
// collector v0.165.0 fills with the component's ID under the feature gate telemetry.newPipelineTelemetry.
const componentIDConfig = `
receivers:
  docker_logs:
    endpoint: %[1]s
  docker_logs/apps:
    endpoint: %[1]s
exporters:
  debug: {}
service:
  pipelines:
    logs:
      receivers: [docker_logs, docker_logs/apps]
      exporters: [debug]
  telemetry:
    logs:
      level: warn
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[2]d
                without_scope_info: false
`

// TestTelemetryComponentID checks what the README's Telemetry section says: with the feature gate and the scope
// information on, the collector labels each receiver's metrics otel_scope_otelcol_component_id, which tells two
// docker_logs receivers of one collector apart; the receiver adds no receiver label of its own.
func TestTelemetryComponentID(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	runMake(t, "otelcol")
	root := distrotest.ModuleRoot(t)
	metricsPort := freePort(t)
	configPath := filepath.Join(t.TempDir(), "config.yaml")
	config := fmt.Sprintf(componentIDConfig, cli.DaemonHost(), metricsPort)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	startBinary(t, filepath.Join(root, distBinary), "--config", configPath, "--feature-gates=+telemetry.newPipelineTelemetry")
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	var ids map[string]float64
	eventually(t, time.Minute, 100*time.Millisecond, "streams_open of both receivers", func() error {
		samples, err := scrape(metricsURL)
		if err != nil {
			return fmt.Errorf("%w: %v", errNotYet, err)
		}
		ids = map[string]float64{}
		for _, s := range samples {
			if s.name != "otelcol_docker_logs_streams_open" {
				continue
			}
			if _, ok := s.labels["receiver"]; ok {
				return fmt.Errorf("streams_open%v carries a receiver label", s.labels)
			}
			ids[s.labels["otel_scope_otelcol_component_id"]]++
		}
		if len(ids) < 2 {
			return fmt.Errorf("%w: streams_open by component %v", errNotYet, ids)
		}
		return nil
	})
	if want := map[string]float64{"docker_logs": 1, "docker_logs/apps": 1}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("streams_open series by otel_scope_otelcol_component_id: %v, want %v", ids, want)
	}
}

// receiverMetrics lists the telemetry metrics declared in the receiver's metadata.yaml.
func receiverMetrics(t *testing.T, root string) []string {
	t.Helper()
	var md struct {
		Telemetry struct {
			Metrics map[string]any `yaml:"metrics"`
		} `yaml:"telemetry"`
	}
	readYAML(t, filepath.Join(root, "receiver/dockerlogsreceiver/metadata.yaml"), &md)
	var names []string
	for name := range md.Telemetry.Metrics {
		names = append(names, name)
	}
	if len(names) == 0 {
		t.Fatal("metadata.yaml declares no telemetry metric")
	}
	return names
}

var queriedName = regexp.MustCompile(`\botelcol_[a-zA-Z0-9_]+`)

// queriedMetrics lists the otelcol_ metrics the dashboards' queries and the alert rules name.
func queriedMetrics(t *testing.T, root string) []string {
	t.Helper()
	var exprs []string
	dashboards, _ := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	for _, path := range dashboards {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Expr string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, filepath.Join(root, "alerts", "docker-logs.rules.yml"), &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	seen := map[string]bool{}
	var names []string
	for _, e := range exprs {
		for _, n := range queriedName.FindAllString(e, -1) {
			// A recording rule's name (level:metric:operation) is Prometheus', not the collector's.
			if i := strings.Index(e, n); i > 0 && e[i-1] == ':' {
				continue
			}
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("the dashboards and rules name only %v", names)
	}
	return names
}

// labelValues sums a metric by one label, for the log.
func labelValues(samples []sample, name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range samples {
		if s.name == name {
			out[s.labels[label]] += s.value
		}
	}
	return out
}
