package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// TestLabel marks every container and image these helpers make, so leftovers can be found and removed.
const TestLabel = "otelcol-dockerlogs.test"

// NamePrefix starts the generated container names.
const NamePrefix = "dlr-test-"

// apiTimeout bounds every engine call a helper makes.
const apiTimeout = 60 * time.Second

// ContainerSpec describes a test container.
type ContainerSpec struct {
	Name      string            // optional; NamePrefix and a random suffix when empty
	Image     string            // default: LoggenImage
	Cmd       []string          // arguments to the entrypoint, e.g. {"-count", "200", "-streams", "both"}
	TTY       bool              // allocate a terminal: stdout and stderr merge into one raw stream
	Labels    map[string]string // added to TestLabel=1
	Env       []string          // "KEY=value" entries
	LogDriver string            // "" = engine default (json-file)
	LogOpts   map[string]string // logging driver options, e.g. {"max-size": "100k", "max-file": "2"}
	// RestartPolicy, e.g. "always", makes the engine start the container again when it exits or the engine restarts.
	RestartPolicy container.RestartPolicyMode
	// Healthcheck, when set, is the container's health check.
	Healthcheck *container.HealthConfig
	// Binds are host paths mounted into the container, "host:container[:ro]".
	Binds []string
	// Memory limits the container's memory in bytes (0 = no limit); with swap as large, going past it means an OOM kill.
	Memory int64
}

// CreateContainer creates (does not start) a container without network and registers its forced removal with t.Cleanup.
func CreateContainer(t testing.TB, cli *client.Client, spec ContainerSpec) (id string) {
	t.Helper()
	if spec.Image == "" {
		spec.Image = LoggenImage(t, cli)
	}
	if spec.Name == "" {
		spec.Name = NamePrefix + randomSuffix(t)
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	labels[TestLabel] = "1"
	cfg := &container.Config{Image: spec.Image, Cmd: spec.Cmd, Tty: spec.TTY, Labels: labels, Env: spec.Env, Healthcheck: spec.Healthcheck}
	// The engine here has no bridge network (no iptables), and test containers need none.
	host := &container.HostConfig{NetworkMode: "none", LogConfig: container.LogConfig{Type: spec.LogDriver, Config: spec.LogOpts},
		RestartPolicy: container.RestartPolicy{Name: spec.RestartPolicy}, Binds: spec.Binds}
	if spec.Memory > 0 {
		host.Resources = container.Resources{Memory: spec.Memory, MemorySwap: spec.Memory}
	}

	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	resp, err := cli.ContainerCreate(ctx, cfg, host, nil, nil, spec.Name)
	if err != nil {
		t.Fatalf("create container %s from %s: %v", spec.Name, spec.Image, err)
	}
	t.Cleanup(func() { removeContainer(t, cli, resp.ID) })
	return resp.ID
}

// StartContainer creates and starts a container.
func StartContainer(t testing.TB, cli *client.Client, spec ContainerSpec) (id string) {
	t.Helper()
	id = CreateContainer(t, cli, spec)
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if err := cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		t.Fatalf("start container %.12s: %v", id, err)
	}
	return id
}

// WaitExit waits until the container has exited and returns its exit code, failing the test after timeout.
func WaitExit(t testing.TB, cli *client.Client, id string, timeout time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The client's goroutine sends exactly one of the two, also when ctx ends, so receiving one leaves nothing behind.
	resC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case res := <-resC:
		if res.Error != nil {
			t.Fatalf("wait for container %.12s: %s", id, res.Error.Message)
		}
		return int(res.StatusCode)
	case err := <-errC:
		t.Fatalf("wait for container %.12s to exit (timeout %v): %v; state: %s", id, timeout, err, state(cli, id))
		return 0
	}
}

// state describes a container's state for failure messages.
func state(cli *client.Client, id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	if info.State == nil {
		return "unknown"
	}
	return info.State.Status
}

func removeContainer(t testing.TB, cli *client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	// A test may remove its container itself; a removal already under way ends the same.
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		t.Errorf("remove container %.12s: %v", id, err)
	}
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random container name: %v", err)
	}
	return hex.EncodeToString(b)
}
