package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// What the Dockerfile and collector-config.yaml provide, checked against those files below.
const (
	imageName     = "otelcol-dockerlogs:dev"
	configInImage = "/etc/otelcol-dockerlogs/config.yaml"
	storageDir    = "/var/lib/otelcol-dockerlogs"
	gatewayPath   = "/otlp/v1/logs"
	socketMount   = "/var/run/docker.sock:/var/run/docker.sock:ro"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImageAndConfigProvideWhatDeployFilesUse ties the constants above to the Dockerfile, the Makefile and the shipped configuration.
func TestImageAndConfigProvideWhatDeployFilesUse(t *testing.T) {
	docker := read(t, "Dockerfile")
	for _, want := range []string{"COPY config.yaml " + configInImage, "ENV OTELCOL_STORAGE_DIR=" + storageDir} {
		if !strings.Contains(docker, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if !strings.Contains(read(t, "Makefile"), "IMAGE ?= "+imageName) {
		t.Errorf("Makefile does not build %s by default", imageName)
	}
	// The agents' exporter posts to ${LOKI_ENDPOINT}/otlp + /v1/logs: the gateway must serve that path.
	if !regexp.MustCompile(`endpoint: \$\{env:LOKI_ENDPOINT[^}]*\}/otlp\n`).MatchString(read(t, "collector-config.yaml")) {
		t.Errorf("collector-config.yaml: otlp_http no longer posts to ${LOKI_ENDPOINT}/otlp; the gateway's %s must follow", gatewayPath)
	}
}

type stack struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		GroupAdd    []string          `yaml:"group_add"`
		Volumes     []string          `yaml:"volumes"`
		Configs     []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"configs"`
		Deploy struct {
			Mode string `yaml:"mode"`
		} `yaml:"deploy"`
	} `yaml:"services"`
	Configs map[string]struct {
		File string `yaml:"file"`
	} `yaml:"configs"`
}

func TestSwarmStack(t *testing.T) {
	var s stack
	if err := yaml.Unmarshal([]byte(read(t, "deploy/swarm/stack.yaml")), &s); err != nil {
		t.Fatal(err)
	}
	agent, ok := s.Services["agent"]
	if !ok {
		t.Fatal("no agent service")
	}
	if agent.Deploy.Mode != "global" {
		t.Errorf("agent deploy.mode = %q, want global (one per node)", agent.Deploy.Mode)
	}
	for name, svc := range s.Services {
		if !strings.Contains(svc.Image, imageName) {
			t.Errorf("%s: image %q is not %s", name, svc.Image, imageName)
		}
		if len(svc.Command) < 2 || svc.Command[0] != "--config" || svc.Command[1] != configInImage {
			t.Errorf("%s: command %q does not start with the shipped configuration", name, svc.Command)
		}
		if !hasVolume(svc.Volumes, ":"+storageDir) {
			t.Errorf("%s: no volume on %s (positions and the export queue)", name, storageDir)
		}
	}
	if !hasVolume(agent.Volumes, socketMount) || len(agent.GroupAdd) == 0 {
		t.Errorf("agent: the socket must be mounted read-only (%s) with its group added: %q %q", socketMount, agent.Volumes, agent.GroupAdd)
	}
	gw := s.Services["gateway"]
	if len(gw.Configs) != 1 || !contains(gw.Command, gw.Configs[0].Target) {
		t.Fatalf("gateway: its overlay config is not passed with --config: %+v %q", gw.Configs, gw.Command)
	}
	file := s.Configs[gw.Configs[0].Source].File
	if file != "./gateway.yaml" {
		t.Errorf("gateway overlay file %q", file)
	}
	if !strings.HasSuffix(agent.Environment["LOKI_ENDPOINT"], "gateway:4318}") {
		t.Errorf("agent LOKI_ENDPOINT %q does not default to the gateway", agent.Environment["LOKI_ENDPOINT"])
	}
	checkGatewayOverlay(t, read(t, "deploy/swarm/gateway.yaml"))
}

// checkGatewayOverlay checks the gateway's overlay: the otlp receiver on HTTP at the path the agents post to, as the pipeline's only receiver.
func checkGatewayOverlay(t *testing.T, text string) {
	t.Helper()
	var o struct {
		Receivers struct {
			OTLP struct {
				Protocols struct {
					HTTP struct {
						Endpoint    string `yaml:"endpoint"`
						LogsURLPath string `yaml:"logs_url_path"`
					} `yaml:"http"`
				} `yaml:"protocols"`
			} `yaml:"otlp"`
		} `yaml:"receivers"`
		Service struct {
			Pipelines struct {
				Logs struct {
					Receivers []string `yaml:"receivers"`
				} `yaml:"logs"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal([]byte(text), &o); err != nil {
		t.Fatalf("gateway overlay: %v", err)
	}
	h := o.Receivers.OTLP.Protocols.HTTP
	if h.Endpoint != "0.0.0.0:4318" || h.LogsURLPath != gatewayPath {
		t.Errorf("gateway otlp http: endpoint %q path %q, want 0.0.0.0:4318 %s", h.Endpoint, h.LogsURLPath, gatewayPath)
	}
	if r := o.Service.Pipelines.Logs.Receivers; len(r) != 1 || r[0] != "otlp" {
		t.Errorf("gateway pipeline receivers %q, want [otlp]", r)
	}
}

func TestNomadJobs(t *testing.T) {
	agent := read(t, "deploy/nomad/otelcol-dockerlogs-agent.nomad.hcl")
	gateway := read(t, "deploy/nomad/otelcol-dockerlogs-gateway.nomad.hcl")
	for name, text := range map[string]string{"agent": agent, "gateway": gateway} {
		if err := balanced(text); err != nil {
			t.Errorf("%s job: %v", name, err)
		}
		for _, want := range []string{`"--config", "` + configInImage + `"`, `target = "` + storageDir + `"`, `default = "` + imageName + `"`, `driver = "docker"`} {
			if !strings.Contains(text, want) {
				t.Errorf("%s job lacks %s", name, want)
			}
		}
	}
	if !regexp.MustCompile(`(?m)^\s*type\s*=\s*"system"`).MatchString(agent) {
		t.Error(`agent job is not type = "system" (one per client)`)
	}
	if !strings.Contains(agent, `"`+socketMount+`"`) || !strings.Contains(agent, "group_add") {
		t.Error("agent job does not mount the socket read-only with its group")
	}
	// The gateway's template holds the same overlay as the Swarm stack's.
	m := regexp.MustCompile(`(?s)data\s*=\s*<<-EOT\n(.*?)\n\s*EOT`).FindStringSubmatch(gateway)
	if m == nil {
		t.Fatal("gateway job: no heredoc template")
	}
	checkGatewayOverlay(t, dedent(m[1]))
}

// TestShippedBinaryValidates runs `otelcol-dockerlogs validate` on the gateway's configuration when the distribution is built.
func TestShippedBinaryValidates(t *testing.T) {
	bin := filepath.Join("..", "bin", "otelcol-dockerlogs")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("bin/otelcol-dockerlogs not built (make otelcol)")
	}
	cmd := exec.Command(bin, "validate", "--config", filepath.Join("..", "collector-config.yaml"), "--config", filepath.Join("swarm", "gateway.yaml"))
	cmd.Env = append(os.Environ(), "OTELCOL_STORAGE_DIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
}

// balanced checks an HCL file's structure: braces and brackets pair up outside strings, comments and heredocs.
func balanced(text string) error {
	var stack []rune
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := regexp.MustCompile(`<<-?(\w+)\s*$`).FindStringSubmatch(line); m != nil {
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != m[1]; i++ {
			}
			if i == len(lines) {
				return fmt.Errorf("line %d: heredoc %s not closed", i, m[1])
			}
		}
		inString := false
		for j, r := range line {
			switch {
			case r == '"' && (j == 0 || line[j-1] != '\\'):
				inString = !inString
			case inString:
			case r == '#':
				goto next
			case r == '{' || r == '[':
				stack = append(stack, r)
			case r == '}' || r == ']':
				open := map[rune]rune{'}': '{', ']': '['}[r]
				if len(stack) == 0 || stack[len(stack)-1] != open {
					return fmt.Errorf("line %d: unexpected %c", i+1, r)
				}
				stack = stack[:len(stack)-1]
			}
		}
		if inString {
			return fmt.Errorf("line %d: string not closed", i+1)
		}
	next:
	}
	if len(stack) > 0 {
		return fmt.Errorf("%d blocks not closed", len(stack))
	}
	return nil
}

func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

func hasVolume(vs []string, part string) bool {
	for _, v := range vs {
		if strings.Contains(v, part) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
