package dockerlogsreceiver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// counter is a consumer that only counts records, so that a load run measures the receiver.
type counter struct{ n atomic.Int64 }

func (c *counter) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (c *counter) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.n.Add(int64(ld.LogRecordCount()))
	return nil
}

func loadEnabled(t *testing.T) {
	if os.Getenv("DOCKERLOGS_LOAD") == "" {
		t.Skip("load measurement: set DOCKERLOGS_LOAD=1 (make load)")
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// openFDs counts this process's open file descriptors.
func openFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

// TestLoadThroughput reads one container's history of DOCKERLOGS_LOAD_LINES (1,000,000) lines of ~100 bytes
// from the beginning and prints the receiver's rate and CPU; compare with `docker logs` on the same machine.
func TestLoadThroughput(t *testing.T) {
	loadEnabled(t)
	lines := envInt("DOCKERLOGS_LOAD_LINES", 1_000_000)
	cli := dockertest.Engine(t)
	// The container stays running with its whole history written, as a long-lived service would.
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", strconv.Itoa(lines), "-size", "100", "-linger", "1h"}})
	require.Eventually(t, func() bool { return lastSeq(t, id) == lines-1 }, 10*time.Minute, 200*time.Millisecond)

	cfg := testConfig()
	cfg.StartAt = StartAtBeginning
	cfg.Include.Names = []string{strings.TrimPrefix(inspectName(t, id), "/")}
	sink := &counter{}
	daemon := dockertest.DaemonPID(t)
	cpu0, d0, t0 := dockertest.ProcessCPU(t, os.Getpid()), dockertest.ProcessCPU(t, daemon), time.Now()
	r := startReceiver(t, cfg, sink, nil)
	require.Eventually(t, func() bool { return sink.n.Load() >= int64(lines) }, 10*time.Minute, 5*time.Millisecond)
	wall, cpu, dcpu := time.Since(t0), dockertest.ProcessCPU(t, os.Getpid())-cpu0, dockertest.ProcessCPU(t, daemon)-d0
	require.NoError(t, r.Shutdown(context.Background()))
	require.Equal(t, int64(lines), sink.n.Load())
	fmt.Printf("receiver:       %d lines of 100 B in %v: %.0f lines/s, receiver CPU %.2f s (%.2f µs/line), dockerd CPU %.2f s\n",
		lines, wall.Round(time.Millisecond), float64(lines)/wall.Seconds(), cpu.Seconds(), float64(cpu.Microseconds())/float64(lines), dcpu.Seconds())

	// The same history read raw, as `docker logs --timestamps` does, in the same run for a fair ratio.
	cpu0, d0, t0 = dockertest.ProcessCPU(t, os.Getpid()), dockertest.ProcessCPU(t, daemon), time.Now()
	body, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	require.NoError(t, err)
	nl := &newlineCounter{}
	_, err = stdcopy.StdCopy(nl, nl, body)
	body.Close()
	require.NoError(t, err)
	wall, cpu, dcpu = time.Since(t0), dockertest.ProcessCPU(t, os.Getpid())-cpu0, dockertest.ProcessCPU(t, daemon)-d0
	require.Equal(t, lines, nl.n)
	fmt.Printf("raw API read:   %d lines in %v: %.0f lines/s, client CPU %.2f s, dockerd CPU %.2f s\n",
		lines, wall.Round(time.Millisecond), float64(lines)/wall.Seconds(), cpu.Seconds(), dcpu.Seconds())
}

// newlineCounter counts lines written to it.
type newlineCounter struct{ n int }

func (c *newlineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// TestLoadManyContainers runs DOCKERLOGS_LOAD_CONTAINERS (60) containers writing 20 lines/s each through
// max_concurrent_streams 50 with a 10 s rotation for DOCKERLOGS_LOAD_SECONDS (120), and prints goroutines,
// file descriptors, heap and lines every 10 s: they must stay flat while rotations go on.
func TestLoadManyContainers(t *testing.T) {
	loadEnabled(t)
	containers := envInt("DOCKERLOGS_LOAD_CONTAINERS", 60)
	seconds := envInt("DOCKERLOGS_LOAD_SECONDS", 120)
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)
	prefix := fmt.Sprintf("load-%d-", time.Now().Unix())

	cfg := testConfig()
	cfg.MaxConcurrentStreams = 50
	cfg.RotationInterval = 10 * time.Second
	cfg.TimeSlice = 2 * time.Second
	cfg.Include.Names = []string{prefix + "*"}
	sink := &counter{}
	turns := newTurnLog()
	r := startReceiver(t, cfg, sink, turns)
	for i := range containers {
		dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: fmt.Sprintf("%s%03d", prefix, i), Image: image,
			Cmd: []string{"-rate", "20", "-streams", "both"}})
	}
	fmt.Printf("%6s %8s %10s %5s %8s %11s %9s %5s\n", "t(s)", "lines", "rotations", "open", "waiting", "goroutines", "heap(MB)", "fds")
	var ms runtime.MemStats
	for elapsed := 10; elapsed <= seconds; elapsed += 10 {
		time.Sleep(10 * time.Second)
		runtime.ReadMemStats(&ms)
		st := r.pool.Stats()
		fmt.Printf("%6d %8d %10d %5d %8d %11d %9.1f %5d\n", elapsed, sink.n.Load(), turns.rotations(), st.Open, st.Waiting,
			runtime.NumGoroutine(), float64(ms.HeapInuse)/(1<<20), openFDs())
		require.LessOrEqual(t, st.Open, cfg.MaxConcurrentStreams)
	}
	require.NoError(t, r.Shutdown(context.Background()))
}

// lastSeq returns the sequence number of the container's last log line, or -1.
func lastSeq(t *testing.T, id string) int {
	body, err := dockertest.Engine(t).ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, Tail: "1"})
	require.NoError(t, err)
	defer body.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, io.Discard, body)
	_, seq, _, err := loggenline.ParseLine(strings.TrimSpace(out.String()))
	if err != nil {
		return -1
	}
	return seq
}

// inspectName returns a container's name as the daemon reports it.
func inspectName(t *testing.T, id string) string {
	t.Helper()
	info, err := dockertest.Engine(t).ContainerInspect(context.Background(), id)
	require.NoError(t, err)
	return info.Name
}
