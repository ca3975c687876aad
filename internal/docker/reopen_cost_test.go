package docker_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/logstream"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
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

	pid := dockerdPID(t)
	for round := 1; round <= 3; round++ {
		cpu0, t0 := cpuTicks(t, pid), time.Now()
		naive := readAll(t, c, id, docker.LogsRequest{Since: cursor})
		cpu1, t1 := cpuTicks(t, pid), time.Now()
		bounded := readAll(t, c, id, docker.LogsRequest{Since: anchor, Tail: 1000})
		cpu2, t2 := cpuTicks(t, pid), time.Now()
		require.Equal(t, []int64{cursor}, naive)
		require.Equal(t, []int64{anchor, cursor}, bounded, "the tail reached back to the anchor")
		t.Logf("round %d, %d lines of history: since-only reopen %v wall, dockerd %.2f CPU-s; bounded tail reopen %v wall, dockerd %.2f CPU-s",
			round, lines, t1.Sub(t0).Round(time.Millisecond), float64(cpu1-cpu0)/100, t2.Sub(t1).Round(time.Millisecond), float64(cpu2-cpu1)/100)
	}
}

// readAll reads a non-following stream to its end and returns the lines' timestamps.
func readAll(t *testing.T, c *docker.Client, id string, req docker.LogsRequest) []int64 {
	t.Helper()
	body, err := c.Logs(context.Background(), id, req)
	require.NoError(t, err)
	defer body.Close()
	r := logstream.NewReader(body, logstream.Options{})
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

// dockerdPID finds the daemon to measure: the private one's pid file, else the only dockerd running.
func dockerdPID(t *testing.T) int {
	t.Helper()
	if host := os.Getenv("DOCKER_HOST"); strings.HasPrefix(host, "unix://") {
		pidFile := strings.TrimSuffix(strings.TrimPrefix(host, "unix://"), "docker.sock") + "docker.pid"
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
	}
	out, err := exec.Command("pgrep", "-o", "-x", "dockerd").Output()
	require.NoError(t, err, "no dockerd process to measure")
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err)
	return pid
}

// cpuTicks returns a process's user+system time in clock ticks (1/100 s).
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	// Fields after the command name, which ends with the last ')'.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime
}
