package dockerlogsreceiver

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestLoadLogFilesHostCPU reads one container's history of DOCKERLOGS_LOAD_LINES (1,000,000) lines of ~100 bytes
// through the API and from its json-file files, twice each in turns, and prints the host's CPU per line for each
// path: the collector's (this process) plus the daemon's, from /proc. It checks only that every line arrived.
func TestLoadLogFilesHostCPU(t *testing.T) {
	loadEnabled(t)
	lines := envInt("DOCKERLOGS_LOAD_LINES", 1_000_000)
	cli := dockertest.Engine(t)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", strconv.Itoa(lines), "-size", "100", "-linger", "1h"}})
	require.Eventually(t, func() bool { return lastSeq(t, id) == lines-1 }, 10*time.Minute, 200*time.Millisecond)
	daemon := dockertest.DaemonPID(t)

	for round := range 2 {
		for _, files := range []bool{false, true} {
			cfg := testConfig()
			cfg.StartAt = StartAtBeginning
			cfg.Include.Names = []string{strings.TrimPrefix(inspectName(t, id), "/")}
			if files {
				containersDir(t, cli, id, cfg)
				cfg.LogFiles.Enabled = true
			}
			sink := &counter{}
			cpu0, d0, t0 := dockertest.ProcessCPU(t, os.Getpid()), dockertest.ProcessCPU(t, daemon), time.Now()
			r := startReceiver(t, cfg, sink, nil)
			if files {
				readsFiles(t, r, id)
			}
			require.Eventually(t, func() bool { return sink.n.Load() >= int64(lines) }, 10*time.Minute, 5*time.Millisecond)
			wall, cpu, dcpu := time.Since(t0), dockertest.ProcessCPU(t, os.Getpid())-cpu0, dockertest.ProcessCPU(t, daemon)-d0
			require.NoError(t, r.Shutdown(context.Background()))
			require.Equal(t, int64(lines), sink.n.Load())
			path := "API       "
			if files {
				path = "json files"
			}
			perLine := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(lines) }
			fmt.Printf("round %d, %s: %d lines in %v (%.0f lines/s); collector %.2f CPU-s (%.2f µs/line), dockerd %.2f CPU-s (%.2f µs/line), host %.2f µs/line\n",
				round+1, path, lines, wall.Round(time.Millisecond), float64(lines)/wall.Seconds(), cpu.Seconds(), perLine(cpu),
				dcpu.Seconds(), perLine(dcpu), perLine(cpu+dcpu))
		}
	}
}
