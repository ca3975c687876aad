package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/otlpsink"
)

// recipeLine is a line a container writes and what a recipe should make of its record.
type recipeLine struct {
	stream string // stdout or stderr
	body   string
	// attrs are the record's attributes besides log.iostream.
	attrs    map[string]any
	severity plog.SeverityNumber
	sevText  string
}

// TestRecipes runs bin/otelcol-dockerlogs with the shipped collector-config.yaml and each recipe of recipes/,
// as the README says to, against a container that writes sample lines, and checks what reaches the OTLP
// endpoint. A third --config, test-only, moves the fixed ports to free ones and selects only the test's
// containers.
func TestRecipes(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	image := dockertest.PrintLinesImage(t, cli)
	runMake(t, "otelcol")
	for _, tc := range []struct {
		recipe string
		lines  []recipeLine
	}{
		{"json-attributes.yaml", []recipeLine{
			{stream: "stdout", body: `{"level":"info","msg":"GET /cart","status":200,"user":{"id":"u1"}}`,
				attrs: map[string]any{"level": "info", "msg": "GET /cart", "status": float64(200), "user": map[string]any{"id": "u1"}}},
			{stream: "stderr", body: `{"error":"timeout","retry":true}`, attrs: map[string]any{"error": "timeout", "retry": true}},
			{stream: "stdout", body: "a plain line"},
			{stream: "stderr", body: `{"cut short":`},
		}},
		{"severity.yaml", []recipeLine{
			{stream: "stdout", body: `{"level":"error","msg":"db down"}`, severity: plog.SeverityNumberError, sevText: "ERROR"},
			{stream: "stdout", body: `{"level":"WARNING","msg":"slow"}`, severity: plog.SeverityNumberWarn, sevText: "WARN"},
			{stream: "stdout", body: "2026-12-01T10:00:00Z INFO ready", severity: plog.SeverityNumberInfo, sevText: "INFO"},
			{stream: "stderr", body: "[debug] tick", severity: plog.SeverityNumberDebug, sevText: "DEBUG"},
			{stream: "stderr", body: "Fatal: cannot bind", severity: plog.SeverityNumberFatal, sevText: "FATAL"},
			{stream: "stdout", body: "trace id=7 entering", severity: plog.SeverityNumberTrace, sevText: "TRACE"},
			{stream: "stderr", body: "no level here"},
		}},
		{"stderr-severity.yaml", []recipeLine{
			{stream: "stderr", body: "connection reset by peer", severity: plog.SeverityNumberWarn, sevText: "WARN"},
			{stream: "stderr", body: "ERROR cannot connect", severity: plog.SeverityNumberError, sevText: "ERROR"},
			{stream: "stderr", body: `{"level":"info","msg":"listening"}`, severity: plog.SeverityNumberInfo, sevText: "INFO"},
			{stream: "stdout", body: "no level on stdout"},
		}},
	} {
		t.Run(tc.recipe, func(t *testing.T) {
			name := runName(t) + "recipe"
			sink := startRecipeRun(t, cli, image, tc.recipe, name)
			args := make([]string, len(tc.lines))
			for i, l := range tc.lines {
				args[i] = l.stream + ":" + l.body
			}
			dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: name, Image: image, Cmd: args,
				Labels: map[string]string{recipeLabel: name}})
			eventually(t, 2*time.Minute, 200*time.Millisecond, "the container's records at the OTLP endpoint", func() error {
				if n := len(sink.got(name)); n < len(tc.lines) {
					return fmt.Errorf("%w: %d of %d records", errNotYet, n, len(tc.lines))
				}
				return nil
			})
			time.Sleep(2 * time.Second) // a record more would show now
			got := map[string]plog.LogRecord{}
			for _, lr := range sink.got(name) {
				if _, dup := got[lr.Body().Str()]; dup {
					t.Errorf("%q arrived twice", lr.Body().Str())
				}
				got[lr.Body().Str()] = lr
			}
			if len(got) != len(tc.lines) {
				t.Errorf("%d records, want %d", len(got), len(tc.lines))
			}
			for _, l := range tc.lines {
				lr, ok := got[l.body]
				if !ok {
					t.Errorf("no record of %q", l.body)
					continue
				}
				want := map[string]any{"log.iostream": l.stream}
				for k, v := range l.attrs {
					want[k] = v
				}
				if attrs := lr.Attributes().AsRaw(); !reflect.DeepEqual(attrs, want) {
					t.Errorf("%q: attributes %v, want %v", l.body, attrs, want)
				}
				if lr.SeverityNumber() != l.severity || lr.SeverityText() != l.sevText {
					t.Errorf("%q: severity %v %q, want %v %q", l.body, lr.SeverityNumber(), lr.SeverityText(), l.severity, l.sevText)
				}
			}
		})
	}
}

// startRecipeRun runs the collector with a recipe for the containers labelled label, into a record sink it
// returns once the collector follows the daemon's events; the collector's metrics are logged if the test fails.
func startRecipeRun(t *testing.T, cli *client.Client, image, recipe, label string) *recordSink {
	t.Helper()
	sink := startRecordSink(t)
	metricsURL := startRecipeCollector(t, cli.DaemonHost(), sink.URL, recipe, label)
	t.Cleanup(func() {
		if t.Failed() {
			logReceiverMetrics(t, metricsURL)
		}
	})
	awaitDiscovery(t, cli, sink, image, label)
	return sink
}

// awaitDiscovery starts short-lived probe containers until the collector delivers one's line: from then on it
// follows the daemon's events, and a container that starts and exits at once is read. (The receiver subscribes
// to events after its Start has returned, so the health check answers a moment before: a container that started
// and exited in that moment would not be read.)
func awaitDiscovery(t *testing.T, cli *client.Client, sink *recordSink, image, label string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; ; i++ {
		probe := fmt.Sprintf("%s-probe-%d", label, i)
		dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: probe, Image: image, Cmd: []string{"stdout:probe"},
			Labels: map[string]string{recipeLabel: label}})
		for wait := time.Now().Add(5 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
			if len(sink.got(probe)) > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probe container's line reached the OTLP endpoint in 2 minutes (%d probes)", i+1)
		}
	}
}

// recipeLabel marks the containers of one recipe test; the collector reads only those.
const recipeLabel = "otelcol-dockerlogs.e2e-recipe"

// startRecipeCollector runs bin/otelcol-dockerlogs with collector-config.yaml, recipes/<recipe> and a test-only
// fragment, exporting to lokiURL, until the test ends; it returns once the health check answers, with the URL
// of the collector's own metrics.
func startRecipeCollector(t *testing.T, dockerHost, lokiURL, recipe, label string) (metricsURL string) {
	t.Helper()
	root := distrotest.ModuleRoot(t)
	dir := t.TempDir()
	health, metrics := freePort(t), freePort(t)
	overrides := filepath.Join(dir, "test-overrides.yaml")
	err := os.WriteFile(overrides, fmt.Appendf(nil, `
extensions:
  health_check: {endpoint: "127.0.0.1:%d"}
  pprof: {endpoint: "127.0.0.1:%d"}
receivers:
  docker_logs:
    include:
      labels: {%q: %q}
service:
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}
`, health, freePort(t), recipeLabel, label, metrics), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, distBinary), "--config", filepath.Join(root, "collector-config.yaml"),
		"--config", filepath.Join(root, "recipes", recipe), "--config", overrides)
	cmd.Env = append(withoutEnv(os.Environ(), "DOCKER_HOST", "LOKI_ENDPOINT", "OTELCOL_STORAGE_DIR", "OTELCOL_LISTEN_HOST"),
		"DOCKER_HOST="+dockerHost, "LOKI_ENDPOINT="+lokiURL, "OTELCOL_STORAGE_DIR="+filepath.Join(dir, "storage"),
		"OTELCOL_LISTEN_HOST=127.0.0.1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	exited := startProcess(t, cmd, 30*time.Second, func() {
		if t.Failed() {
			t.Logf("collector output (last 8 KiB):\n%s", tail(out.String(), 8192))
		}
	})
	healthURL := fmt.Sprintf("http://127.0.0.1:%d/", health)
	eventually(t, time.Minute, 100*time.Millisecond, "the collector's health check", func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("collector exited: %v; output:\n%s", err, tail(out.String(), 4096))
		default:
		}
		if code, _, err := httpGet(healthURL); err != nil || code != http.StatusOK {
			return fmt.Errorf("%w: %d %v", errNotYet, code, err)
		}
		return nil
	})
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics)
}

// logReceiverMetrics logs the receiver's and the exporter's own metrics, to tell where records stopped.
func logReceiverMetrics(t *testing.T, metricsURL string) {
	samples, err := scrape(metricsURL)
	if err != nil {
		t.Logf("metrics: %v", err)
		return
	}
	var b strings.Builder
	for _, s := range samples {
		if strings.Contains(s.name, "docker_logs") || strings.Contains(s.name, "log_records") {
			fmt.Fprintf(&b, "%s%v %v\n", s.name, s.labels, s.value)
		}
	}
	t.Logf("collector metrics:\n%s", b.String())
}

// recordSink is an OTLP/HTTP log endpoint that keeps the records it receives by container.name.
type recordSink struct {
	URL     string // what LOKI_ENDPOINT is set to: the exporter posts to URL/otlp/v1/logs
	mu      sync.Mutex
	records map[string][]plog.LogRecord
	// resources holds the resource attributes each container's records came with, the last ones seen.
	resources map[string]map[string]any
}

func startRecordSink(t testing.TB) *recordSink {
	t.Helper()
	s := &recordSink{records: map[string][]plog.LogRecord{}, resources: map[string]map[string]any{}}
	s.URL = otlpsink.Serve(t, s.serve)
	return s
}

// resource returns the resource attributes of one container's records.
func (s *recordSink) resource(container string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resources[container]
}

// got returns the records of one container.
func (s *recordSink) got(container string) []plog.LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]plog.LogRecord(nil), s.records[container]...)
}

func (s *recordSink) serve(w http.ResponseWriter, r *http.Request) {
	logs, ok := otlpsink.Logs(w, r, lokiOTLPPath)
	if !ok {
		return
	}
	s.mu.Lock()
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		name, _ := rls.At(i).Resource().Attributes().Get("container.name")
		s.resources[name.Str()] = rls.At(i).Resource().Attributes().AsRaw()
		for j := range rls.At(i).ScopeLogs().Len() {
			lrs := rls.At(i).ScopeLogs().At(j).LogRecords()
			for k := range lrs.Len() {
				s.records[name.Str()] = append(s.records[name.Str()], lrs.At(k))
			}
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}
