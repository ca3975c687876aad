package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// TestComposeFile checks compose.yaml, which cannot run here (its Loki, Prometheus and Grafana images come from a
// registry): with `docker compose config` when the plugin is installed, and in any case by reading it and the
// files it mounts: Prometheus scrapes the collector with the alert rules loaded (promtool checks its
// configuration), Grafana has both data sources and the dashboard.
func TestComposeFile(t *testing.T) {
	root := distrotest.ModuleRoot(t)
	path := filepath.Join(root, "compose.yaml")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil {
		cmd := exec.CommandContext(ctx, "docker", "compose", "-f", path, "config", "--quiet")
		cmd.Env = append(os.Environ(), "DOCKER_GID=999")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker compose config: %v\n%s", err, out)
		}
	} else {
		t.Log("docker compose plugin not installed: compose.yaml is only parsed")
	}

	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			GroupAdd    []string          `yaml:"group_add"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   []string          `yaml:"depends_on"`
			Command     []string          `yaml:"command"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	readYAML(t, path, &compose)

	collector, ok := compose.Services["collector"]
	if !ok {
		t.Fatalf("compose.yaml has no collector service: %v", compose.Services)
	}
	if collector.Image != "otelcol-dockerlogs:dev" {
		t.Errorf("collector image %q, want otelcol-dockerlogs:dev (what make image builds)", collector.Image)
	}
	if len(collector.GroupAdd) != 2 || !strings.Contains(collector.GroupAdd[0], "DOCKER_GID") || collector.GroupAdd[1] != "0" {
		t.Errorf("collector group_add %q, want the socket's group from DOCKER_GID, and 0 for the log files", collector.GroupAdd)
	}
	if !slices.Contains(collector.Volumes, "/var/run/docker.sock:/var/run/docker.sock:ro") {
		t.Errorf("collector volumes %q do not mount the socket read-only", collector.Volumes)
	}
	if !slices.ContainsFunc(collector.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/var/lib/docker/containers:ro") }) {
		t.Errorf("collector volumes %q do not mount the daemon's containers directory read-only (log_files)", collector.Volumes)
	}
	if !slices.ContainsFunc(collector.Volumes, func(v string) bool { return strings.HasSuffix(v, ":"+storageInImage) }) {
		t.Errorf("collector volumes %q keep no checkpoints in %s", collector.Volumes, storageInImage)
	}
	if got := collector.Environment["LOKI_ENDPOINT"]; got != "http://loki:3100" {
		t.Errorf("collector LOKI_ENDPOINT %q, want http://loki:3100", got)
	}
	if !strings.HasPrefix(compose.Services["loki"].Image, "grafana/loki:3.") {
		t.Errorf("loki image %q, want grafana/loki:3.x (native OTLP ingestion)", compose.Services["loki"].Image)
	}
	grafana := compose.Services["grafana"]
	if !strings.HasPrefix(grafana.Image, "grafana/grafana:") {
		t.Errorf("grafana image %q", grafana.Image)
	}

	if got := collector.Environment["OTELCOL_LISTEN_HOST"]; got != "0.0.0.0" {
		t.Errorf("collector OTELCOL_LISTEN_HOST %q, want 0.0.0.0: Prometheus scrapes :8888 from another container", got)
	}
	checkComposePrometheus(t, root, compose.Services["prometheus"].Image, compose.Services["prometheus"].Command, compose.Services["prometheus"].Volumes)

	// Grafana gets Loki and Prometheus as data sources, and the dashboard, from provisioning files of the repository.
	if !slices.Contains(grafana.DependsOn, "loki") || !slices.Contains(grafana.DependsOn, "prometheus") {
		t.Errorf("grafana depends_on %q, want loki and prometheus", grafana.DependsOn)
	}
	mounts := composeMounts(grafana.Volumes)
	var dsFiles, dashFiles []string
	for target, src := range mounts {
		switch filepath.Dir(target) {
		case "/etc/grafana/provisioning/datasources":
			dsFiles = append(dsFiles, src)
		case "/etc/grafana/provisioning/dashboards":
			dashFiles = append(dashFiles, src)
		}
	}
	if len(dsFiles) != 1 || len(dashFiles) != 1 {
		t.Fatalf("grafana volumes %q: want one data source and one dashboard provisioning file", grafana.Volumes)
	}
	var ds struct {
		Datasources []struct {
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(root, dsFiles[0]), &ds)
	urls := map[string]string{}
	for _, d := range ds.Datasources {
		urls[d.Type] = d.URL
	}
	want := map[string]string{"loki": "http://loki:3100", "prometheus": "http://prometheus:9090"}
	if len(ds.Datasources) != len(want) || urls["loki"] != want["loki"] || urls["prometheus"] != want["prometheus"] {
		t.Errorf("%s provisions %+v, want %v", dsFiles[0], ds.Datasources, want)
	}

	// The dashboard provider reads a folder that is the repository's dashboards/, mounted.
	var providers struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(root, dashFiles[0]), &providers)
	if len(providers.Providers) != 1 || providers.Providers[0].Type != "file" {
		t.Fatalf("%s: providers %+v, want one of type file", dashFiles[0], providers.Providers)
	}
	folder, ok := mounts[providers.Providers[0].Options.Path]
	if !ok {
		t.Fatalf("%s reads dashboards from %s, which no grafana volume mounts (%q)", dashFiles[0], providers.Providers[0].Options.Path, grafana.Volumes)
	}
	raw, err := os.ReadFile(filepath.Join(root, folder, "docker-logs.json"))
	if err != nil {
		t.Fatalf("the dashboards folder %s mounted for grafana: %v", folder, err)
	}
	var dash struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	for _, v := range dash.Templating.List {
		if v.Type == "datasource" && urls[fmt.Sprint(v.Query)] == "" {
			t.Errorf("the dashboard's data source variable wants type %v, which %s does not provision", v.Query, dsFiles[0])
		}
	}
	t.Logf("grafana: data sources %v, dashboard %s from %s", urls, dash.UID, folder)
}

// composeMounts maps the container paths of a service's bind mounts of repository files to those files (./x -> x).
func composeMounts(volumes []string) map[string]string {
	out := map[string]string{}
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "./") {
			continue // a named volume or a host path outside the repository
		}
		out[parts[1]] = filepath.Clean(parts[0])
	}
	return out
}

// checkComposePrometheus checks the compose file's Prometheus: it scrapes the collector service on its metrics
// port and loads alerts/docker-logs.rules.yml, and promtool accepts its configuration with the rules mounted as
// the container sees them.
func checkComposePrometheus(t *testing.T, root, image string, command, volumes []string) {
	t.Helper()
	if !strings.HasPrefix(image, "prom/prometheus:") {
		t.Errorf("prometheus image %q", image)
	}
	configPath := "/etc/prometheus/prometheus.yml"
	for _, arg := range command {
		if v, ok := strings.CutPrefix(arg, "--config.file="); ok {
			configPath = v
		}
	}
	mounts := composeMounts(volumes)
	src, ok := mounts[configPath]
	if !ok {
		t.Fatalf("prometheus reads %s, which no volume mounts from the repository (%q)", configPath, volumes)
	}
	var config map[string]any
	readYAML(t, filepath.Join(root, src), &config)
	var parsed struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, filepath.Join(root, src), &parsed)
	var targets []string
	for _, sc := range parsed.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	if !slices.Contains(targets, "collector:8888") {
		t.Errorf("%s scrapes %q, want collector:8888 (the collector service's metrics)", src, targets)
	}

	// The rule files as the container sees them: every mount a rule_files pattern matches.
	var rules []string
	dir := t.TempDir()
	for target, file := range mounts {
		for _, pattern := range parsed.RuleFiles {
			if ok, _ := filepath.Match(pattern, target); ok {
				rules = append(rules, file)
				copyFile(t, filepath.Join(root, file), filepath.Join(dir, target))
			}
		}
	}
	if !slices.Contains(rules, filepath.Join("alerts", "docker-logs.rules.yml")) {
		t.Fatalf("%s rule_files %q load %q, not alerts/docker-logs.rules.yml", src, parsed.RuleFiles, rules)
	}
	var mapped []any
	for _, pattern := range parsed.RuleFiles {
		mapped = append(mapped, filepath.Join(dir, pattern))
	}
	config["rule_files"] = mapped
	b, err := yaml.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	checked := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(checked, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "promtool.sh"), "check", "config", checked).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config (%s, the rules at their paths in the container): %v\n%s", src, err, out)
	}
	t.Logf("prometheus: %s scrapes %v with the rules %v; promtool check config: %s", src, targets, rules, strings.Join(strings.Fields(string(out)), " "))
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(false)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
