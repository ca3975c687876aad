package dockertest

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// Logs returns a container's whole log as "docker logs" gives it, stdout and stderr apart (a TTY container has only stdout).
func Logs(t testing.TB, cli *client.Client, id string) (stdout, stderr string) {
	t.Helper()
	// Large logs take a while to decode on the engine side.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatalf("inspect container %.12s: %v", id, err)
	}
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("logs of container %.12s: %v", id, err)
	}
	defer rc.Close()
	var out, errOut strings.Builder
	// Only non-TTY logs are multiplexed into frames; a TTY log is one raw stream.
	if info.Config != nil && info.Config.Tty {
		_, err = io.Copy(&out, rc)
	} else {
		_, err = stdcopy.StdCopy(&out, &errOut, rc)
	}
	if err != nil {
		t.Fatalf("read logs of container %.12s: %v", id, err)
	}
	return out.String(), errOut.String()
}
