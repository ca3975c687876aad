package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// components are the component types builder-config.yaml puts into the distribution.
var components = map[string][]string{
	"receivers":  {"docker_logs", "file_log", "otlp"},
	"processors": {"memory_limiter", "batch", "transform", "filter", "attributes", "resource", "redaction"},
	"exporters":  {"otlp_http", "debug"},
	"extensions": {"file_storage", "health_check", "pprof"},
}

// contribStable are the contrib modules released as v1 beside v0.165.1, with the version of that release.
var contribStable = map[string]string{
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl": "v1.4.1",
}

// TestDistributionBinary checks what `make otelcol` builds: the shipped configuration validates, the
// components are all there, and every collector module is on the one release.
func TestDistributionBinary(t *testing.T) {
	skipShort(t)
	took := runMake(t, "otelcol")
	root := distrotest.ModuleRoot(t)
	bin := filepath.Join(root, distBinary)
	if fi, err := os.Stat(bin); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("%s: %.1f MiB (make otelcol took %v in this run)", distBinary, float64(fi.Size())/(1<<20), took.Round(100*time.Millisecond))
	}

	// The shipped configuration alone (the image), and with the console view that `make run` adds.
	for _, configs := range [][]string{{"collector-config.yaml"}, {"collector-config.yaml", "deploy/run/console.yaml"}} {
		args := []string{"validate"}
		for _, c := range configs {
			args = append(args, "--config", c)
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", distBinary, strings.Join(args, " "), err, out)
		}
	}

	out, err := exec.Command(bin, "components").Output()
	if err != nil {
		t.Fatalf("%s components: %v", distBinary, err)
	}
	var listed map[string]any
	if err := yaml.Unmarshal(out, &listed); err != nil {
		t.Fatalf("components output is not YAML: %v\n%s", err, out)
	}
	for kind, want := range components {
		entries, _ := listed[kind].([]any)
		have := map[string]string{}
		for _, e := range entries {
			m, _ := e.(map[string]any)
			name, _ := m["name"].(string)
			module, _ := m["module"].(string)
			have[name] = module
		}
		for _, name := range want {
			module, ok := have[name]
			switch {
			case !ok:
				t.Errorf("components: %s %s is missing (have %v)", kind, name, have)
			case name == "docker_logs":
				if module != "github.com/otelcol-dockerlogs/otelcol-dockerlogs v0.0.0" {
					t.Errorf("components: docker_logs comes from %q, want the local root module", module)
				}
			case !strings.HasSuffix(module, " v0.165.0") && !strings.HasSuffix(module, " v0.165.1"):
				t.Errorf("components: %s %s comes from %q, not release v0.165", kind, name, module)
			}
		}
		if len(have) != len(want) {
			t.Errorf("components: %s are %v, want exactly %v", kind, have, want)
		}
	}

	// Every collector module in the generated go.mod is on v0.165.0 / v1.71.0 (core) or v0.165.1 (contrib).
	gomod, err := os.ReadFile(filepath.Join(root, distGoMod))
	if err != nil {
		t.Fatal(err)
	}
	modLine := regexp.MustCompile(`(?m)^\s*(go\.opentelemetry\.io/collector\S*|github\.com/open-telemetry/opentelemetry-collector-contrib/\S+) (v\S+)`)
	n := 0
	for _, m := range modLine.FindAllStringSubmatch(string(gomod), -1) {
		n++
		module, version := m[1], m[2]
		ok := version == "v0.165.0" || version == "v1.71.0"
		if strings.HasPrefix(module, "github.com/open-telemetry/opentelemetry-collector-contrib/") {
			ok = version == "v0.165.1" || version == contribStable[module]
		}
		if !ok {
			t.Errorf("%s: %s %s is not on the collector release v0.165.0 / v1.71.0 / contrib v0.165.1 (v1 modules: contribStable)", distGoMod, module, version)
		}
	}
	if n < 10 {
		t.Errorf("%s lists only %d collector modules; did ocb's output change?", distGoMod, n)
	}
	if !regexp.MustCompile(`(?m)^replace github\.com/otelcol-dockerlogs/otelcol-dockerlogs v0\.0\.0 => \.\./\.\.$`).Match(gomod) {
		t.Errorf("%s does not replace the root module with the working tree (../..):\n%s", distGoMod, gomod)
	}
}

// requireSet fails with the row when a field is empty.
func requireSet(t *testing.T, row map[string]string, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if row[f] == "" {
			t.Fatalf("record without %s: %v", f, row)
		}
	}
}

func describeCounts(m map[string]int) string {
	var b strings.Builder
	for k, v := range m {
		fmt.Fprintf(&b, " %s=%d", k, v)
	}
	return b.String()
}
