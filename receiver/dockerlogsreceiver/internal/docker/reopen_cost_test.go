package docker_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// TestReopenCost measures what one reopen costs the daemon on a container with a long history: a naive
// `since` reopen against the bounded `tail` reopen the receiver makes. It prints figures and asserts only
// correctness; run it with `make load-reopen` (DOCKERLOGS_LOAD=1).
func TestReopenCost(t *testing.T) {
	if os.Getenv("DOCKERLOGS_LOAD") == "" {
		t.Skip("load measurement: set DOCKERLOGS_LOAD=1 (make load-reopen)")
	}
	lines := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("DOCKERLOGS_LOAD_LINES")); err == nil {
		lines = n
	}
	cli := dockertest.Engine(t)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", strconv.Itoa(lines), "-size", "100"}})
	dockertest.WaitExit(t, cli, id, 10*time.Minute)

	c, err := docker.NewClient(docker.Settings{Endpoint: cli.DaemonHost(), Timeout: 30 * time.Second})
	require.NoError(t, err)
	defer c.Close()

	// The cursor sits on the last line; its anchor is the line before.
	last := readAll(t, c, id, docker.LogsRequest{Tail: 2})
	require.Len(t, last, 2)
	anchor, cursor := last[0], last[1]

	pid := dockertest.DaemonPID(t)
	for round := 1; round <= 3; round++ {
		cpu0, t0 := dockertest.ProcessCPU(t, pid), time.Now()
		naive := readAll(t, c, id, docker.LogsRequest{Since: cursor})
		cpu1, t1 := dockertest.ProcessCPU(t, pid), time.Now()
		bounded := readAll(t, c, id, docker.LogsRequest{Since: anchor, Tail: 1000})
		cpu2, t2 := dockertest.ProcessCPU(t, pid), time.Now()
		require.Equal(t, []int64{cursor}, naive)
		require.Equal(t, []int64{anchor, cursor}, bounded, "the tail reached back to the anchor")
		t.Logf("round %d, %d lines of history: since-only reopen %v wall, dockerd %.2f CPU-s; bounded tail reopen %v wall, dockerd %.2f CPU-s",
			round, lines, t1.Sub(t0).Round(time.Millisecond), (cpu1 - cpu0).Seconds(), t2.Sub(t1).Round(time.Millisecond), (cpu2 - cpu1).Seconds())
	}
}

// readAll reads a non-following stream to its end and returns the lines' timestamps.
func readAll(t *testing.T, c *docker.Client, id string, req docker.LogsRequest) []int64 {
	t.Helper()
	body, err := c.Logs(context.Background(), id, req)
	require.NoError(t, err)
	defer body.Close()
	r := decode.NewReader(body, decode.Options{})
	var out []int64
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, l.Timestamp)
	}
}
