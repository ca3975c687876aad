package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestComposeFile checks compose.yaml, which cannot run here (its Loki and Grafana images come from a registry):
// with `docker compose config` when the plugin is installed, and in any case by reading it.
func TestComposeFile(t *testing.T) {
	root := moduleRoot(t)
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
	if len(collector.GroupAdd) != 1 || !strings.Contains(collector.GroupAdd[0], "DOCKER_GID") {
		t.Errorf("collector group_add %q, want the socket's group from DOCKER_GID", collector.GroupAdd)
	}
	if !slices.Contains(collector.Volumes, "/var/run/docker.sock:/var/run/docker.sock:ro") {
		t.Errorf("collector volumes %q do not mount the socket read-only", collector.Volumes)
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

	// Grafana gets Loki as a data source from a provisioning file of the repository.
	var provisioned string
	for _, v := range grafana.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		if strings.HasPrefix(dst, "/etc/grafana/provisioning/datasources/") {
			provisioned = src
		}
	}
	if provisioned == "" {
		t.Fatalf("grafana volumes %q provision no data source", grafana.Volumes)
	}
	var ds struct {
		Datasources []struct {
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(root, provisioned), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "loki" || ds.Datasources[0].URL != "http://loki:3100" {
		t.Errorf("%s provisions %+v, want one loki data source at http://loki:3100", provisioned, ds.Datasources)
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
