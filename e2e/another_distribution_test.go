package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// ocbVersion is the OCB_VERSION of the Makefile: `make ocb` installs that builder under .cache/tools.
const ocbVersion = "v0.165.0"

// anotherDistribution is the smallest ocb manifest of a distribution other than ours that adds the receiver:
// one receivers entry (gomod names this repository's module, import its package), otlp_http and debug. path
// stands where a released version would be fetched from the module proxy.
const anotherDistribution = `dist:
  name: otelcol-minimal
  module: example.com/otelcol-minimal
  output_path: %s
receivers:
  - gomod: github.com/otelcol-dockerlogs/otelcol-dockerlogs v0.0.0
    import: github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver
    path: %s
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/otlphttpexporter v0.165.0
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter v0.165.0
`

// anotherDistributionConfig reads the labelled containers with no storage extension (positions then live for one
// run, as the receiver README says) and sends them to the test's OTLP endpoint and to the console.
const anotherDistributionConfig = `receivers:
  docker_logs:
    endpoint: %s
    include:
      labels: {%q: %q}
exporters:
  otlp_http:
    logs_endpoint: %s
    compression: none
  debug: {verbosity: detailed}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [docker_logs]
      exporters: [otlp_http, debug]
`

// TestAnotherDistributionAddsTheReceiver builds a second distribution with ocb from a minimal manifest that
// names the receiver the way any other distribution would, runs it, and checks that a container's lines arrive:
// the receiver depends on nothing of ours that only builder-config.yaml brings.
func TestAnotherDistributionAddsTheReceiver(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	image := dockertest.PrintLinesImage(t, cli)
	runMake(t, "ocb")
	root := distrotest.ModuleRoot(t)
	ocb := filepath.Join(root, ".cache", "tools", "ocb-"+ocbVersion, "builder")

	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	manifest := filepath.Join(dir, "builder-config.yaml")
	if err := os.WriteFile(manifest, fmt.Appendf(nil, anotherDistribution, src, root), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	build := exec.Command(ocb, "--config", manifest)
	build.Dir = dir
	build.Env = withoutEnv(os.Environ(), "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("ocb --config %s: %v\n%s", manifest, err, tail(string(out), 8192))
	}
	bin := filepath.Join(src, "otelcol-minimal")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("ocb wrote no binary: %v", err)
	}
	t.Logf("ocb built %s in %v", bin, time.Since(start).Round(time.Second))

	out, err := exec.Command(bin, "components").CombinedOutput()
	if err != nil {
		t.Fatalf("%s components: %v\n%s", bin, err, out)
	}
	if !strings.Contains(string(out), "name: docker_logs") {
		t.Fatalf("%s components does not list docker_logs:\n%s", bin, out)
	}

	label := runName(t) + "another"
	sink := startRecordSink(t)
	config := filepath.Join(dir, "config.yaml")
	err = os.WriteFile(config, fmt.Appendf(nil, anotherDistributionConfig, cli.DaemonHost(), recipeLabel, label,
		sink.URL+lokiOTLPPath), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", config)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	startProcess(t, cmd, 30*time.Second, func() {
		if t.Failed() {
			t.Logf("collector output (last 8 KiB):\n%s", tail(logs.String(), 8192))
		}
	})
	awaitDiscovery(t, cli, sink, image, label)

	name := label + "-lines"
	lines := []string{"stdout:first line", "stderr:second line", "stdout:third line"}
	dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: name, Image: image, Cmd: lines,
		Labels: map[string]string{recipeLabel: label}})
	eventually(t, 2*time.Minute, 200*time.Millisecond, name+"'s three records", func() error {
		if n := len(sink.got(name)); n < len(lines) {
			return fmt.Errorf("%w: %d of %d records", errNotYet, n, len(lines))
		}
		return nil
	})
	// Stdout and stderr are two streams: their records may arrive in either order, each exactly once.
	got := map[string]int{}
	for _, lr := range sink.got(name) {
		stream, _ := lr.Attributes().Get("log.iostream")
		got[stream.Str()+":"+lr.Body().Str()]++
	}
	for _, l := range lines {
		if got[l] != 1 {
			t.Errorf("%q arrived %d times, want once (all: %v)", l, got[l], got)
		}
	}
	if len(got) != len(lines) {
		t.Errorf("records %v, want exactly %v", got, lines)
	}
	if !strings.Contains(logs.String(), "first line") {
		t.Errorf("the debug exporter printed no record; collector output:\n%s", tail(logs.String(), 4096))
	}
}
