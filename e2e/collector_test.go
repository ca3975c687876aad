package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// collectorSpec describes a container of the distribution's image.
type collectorSpec struct {
	name    string
	network string   // "host" or "none"
	binds   []string // added to the engine's socket, mounted read-only at /var/run/docker.sock
	env     []string
	groups  []string // added to the socket's group
}

// buildImage builds the distribution's image with make once per test process and returns its size in bytes.
func buildImage(t *testing.T, cli *client.Client) int64 {
	t.Helper()
	runMake(t, "image", "IMAGE="+imageTag)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	img, err := cli.ImageInspect(ctx, imageTag)
	if err != nil {
		t.Fatalf("inspect %s: %v", imageTag, err)
	}
	user := "<no config>"
	if img.Config != nil {
		user = img.Config.User
	}
	if user != imageUser {
		t.Fatalf("image %s runs as user %q, want %q (non-root)", imageTag, user, imageUser)
	}
	return img.Size
}

// startCollector runs the image as the Dockerfile documents: the image's own user, the socket's group added, the
// socket mounted read-only. The container is removed when the test ends, after its log is shown if the test failed.
func startCollector(t *testing.T, cli *client.Client, spec collectorSpec) string {
	t.Helper()
	sock, gid := engineSocket(t, cli)
	cfg := &container.Config{
		Image:  imageTag,
		Env:    spec.env,
		Labels: map[string]string{dockertest.TestLabel: "1"},
	}
	host := &container.HostConfig{
		NetworkMode: container.NetworkMode(spec.network),
		Binds:       append([]string{sock + ":/var/run/docker.sock:ro"}, spec.binds...),
		GroupAdd:    append([]string{strconv.Itoa(gid)}, spec.groups...),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := cli.ContainerCreate(ctx, cfg, host, nil, nil, spec.name)
	if err != nil {
		t.Fatalf("create collector container %s: %v", spec.name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			stdout, stderr := dockertest.Logs(t, cli, resp.ID)
			t.Logf("collector %s stderr (last 6 KiB):\n%s", spec.name, tail(stderr, 6144))
			t.Logf("collector %s stdout (last 2 KiB):\n%s", spec.name, tail(stdout, 2048))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cli.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("remove collector container %s: %v", spec.name, err)
		}
	})
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start collector container %s: %v", spec.name, err)
	}
	return resp.ID
}

// awaitReady waits until the collector container logged that it is ready, failing the test if it exited.
func awaitReady(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	eventually(t, time.Minute, 250*time.Millisecond, "collector start-up", func() error {
		requireRunning(t, cli, id)
		if _, stderr := dockertest.Logs(t, cli, id); !strings.Contains(stderr, "Everything is ready") {
			return fmt.Errorf("%w: no \"Everything is ready\" in the collector's log", errNotYet)
		}
		return nil
	})
}

// requireRunning fails the test when the collector container has exited.
func requireRunning(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatalf("inspect collector: %v", err)
	}
	if info.State == nil || !info.State.Running {
		code := -1
		if info.State != nil {
			code = info.State.ExitCode
		}
		t.Fatalf("collector container %s is not running (exit code %d)", info.Name, code)
	}
}

// processUIDs returns the user IDs of the processes in a container, as the engine reports them.
func processUIDs(t *testing.T, cli *client.Client, id string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	top, err := cli.ContainerTop(ctx, id, []string{"-o", "pid,uid,comm"})
	if err != nil {
		t.Fatalf("top of collector container: %v", err)
	}
	col := -1
	for i, title := range top.Titles {
		if strings.EqualFold(title, "UID") {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("top of collector container has no UID column: %q", top.Titles)
	}
	var uids []string
	for _, p := range top.Processes {
		uids = append(uids, p[col])
	}
	return uids
}
