package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// readFromTheStart makes the load run's collector read the history container, and only it, from its first line.
const readFromTheStart = `
receivers:
  docker_logs:
    start_at: beginning
    include:
      names: [%q]
`

// pipelineCommon is what the compared pipelines share: the receiver with its checkpoints, and memory_limiter.
const pipelineCommon = `
extensions:
  health_check:
    endpoint: ${env:OTELCOL_LISTEN_HOST:-localhost}:13133
  file_storage:
    directory: ${env:OTELCOL_STORAGE_DIR}
    create_directory: true
receivers:
  docker_logs:
    endpoint: ${env:DOCKER_HOST}
    storage: file_storage
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
`

// pipelineBefore is the pipeline collector-config.yaml had before it was made durable: a batch processor in front
// of an exporter with an in-memory queue that gives up after 10 minutes (the debug exporter it also had is left
// out here, so that only the delivery path is compared).
const pipelineBefore = pipelineCommon + `  batch:
    timeout: 1s
    send_batch_size: 2048
    send_batch_max_size: 8192
exporters:
  otlp_http:
    endpoint: ${env:LOKI_ENDPOINT}/otlp
    retry_on_failure:
      initial_interval: 5s
      max_interval: 60s
      max_elapsed_time: 10m
    sending_queue:
      num_consumers: 2
      queue_size: 1000
service:
  extensions: [health_check, file_storage]
  pipelines:
    logs:
      receivers: [docker_logs]
      processors: [memory_limiter, batch]
      exporters: [otlp_http]
`

// pipelineWaitForResult acknowledges a batch only once the store accepted it, with no disk: the other design considered.
const pipelineWaitForResult = pipelineCommon + `exporters:
  otlp_http:
    endpoint: ${env:LOKI_ENDPOINT}/otlp
    retry_on_failure:
      initial_interval: 1s
      max_interval: 15s
      max_elapsed_time: 0
    # No batching: a caller that waits for the result would wait for the batch's timeout too.
    sending_queue:
      wait_for_result: true
      block_on_overflow: true
      num_consumers: 4
service:
  extensions: [health_check, file_storage]
  pipelines:
    logs:
      receivers: [docker_logs]
      processors: [memory_limiter]
      exporters: [otlp_http]
`

// TestLoadPipelines reads one container's history of DOCKERLOGS_LOAD_LINES (1,000,000) lines of ~100 bytes with
// bin/otelcol-dockerlogs under each pipeline design, into an OTLP sink that only counts, and prints the rate and
// the CPU of the collector and of the daemon, beside a raw read of the same history in the same run.
func TestLoadPipelines(t *testing.T) {
	if os.Getenv("DOCKERLOGS_LOAD") == "" {
		t.Skip("load measurement: set DOCKERLOGS_LOAD=1 (make load-pipeline)")
	}
	lines := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("DOCKERLOGS_LOAD_LINES")); err == nil {
		lines = n
	}
	cli := dockertest.Engine(t)
	runMake(t, "otelcol")
	root := distrotest.ModuleRoot(t)
	name := runName(t) + "history"
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: name,
		Cmd: []string{"-count", strconv.Itoa(lines), "-size", "100", "-linger", "1h"}})
	eventually(t, 15*time.Minute, time.Second, "the history to be written", func() error {
		if seq := lastSeq(t, cli, id); seq != lines-1 {
			return fmt.Errorf("%w: last seq %d", errNotYet, seq)
		}
		return nil
	})
	daemon := dockertest.DaemonPID(t)

	d0, t0 := dockertest.ProcessCPU(t, daemon), time.Now()
	raw := rawRead(t, cli, id)
	rawWall := time.Since(t0)
	rawRate := float64(raw) / rawWall.Seconds()
	fmt.Printf("%-44s %d lines in %6.2f s: %7.0f lines/s; dockerd CPU %5.2f s\n", "raw API read (docker logs --timestamps)",
		raw, rawWall.Seconds(), rawRate, (dockertest.ProcessCPU(t, daemon) - d0).Seconds())

	dir := t.TempDir()
	write := func(file, text string) string {
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	only := write("only-history.yaml", fmt.Sprintf(readFromTheStart, name))
	variants := []struct {
		name    string
		configs []string
	}{
		{"before: batch processor, memory queue", []string{write("before.yaml", pipelineBefore), only}},
		{"durable: disk queue, batch in exporter", []string{filepath.Join(root, "collector-config.yaml"), only}},
		{"wait_for_result: memory queue, no disk", []string{write("wait.yaml", pipelineWaitForResult), only}},
	}
	for _, v := range variants {
		sink := startCountingSink(t, name)
		var args []string
		for _, c := range v.configs {
			args = append(args, "--config", c)
		}
		cmd := exec.Command(filepath.Join(root, distBinary), args...)
		cmd.Env = append(withoutEnv(os.Environ(), "DOCKER_HOST", "LOKI_ENDPOINT", "OTELCOL_STORAGE_DIR", "OTELCOL_LISTEN_HOST"),
			"DOCKER_HOST="+cli.DaemonHost(), "LOKI_ENDPOINT="+sink.URL, "OTELCOL_STORAGE_DIR="+filepath.Join(t.TempDir(), "storage"),
			"OTELCOL_LISTEN_HOST=127.0.0.1")
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		d0, t0 := dockertest.ProcessCPU(t, daemon), time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var cpu time.Duration
		eventually(t, 15*time.Minute, 20*time.Millisecond, v.name+": every line in the sink", func() error {
			select {
			case err := <-exited:
				exited <- err
				return fmt.Errorf("collector exited: %v\n%s", err, tail(out.String(), 4096))
			default:
			}
			cpu = dockertest.ProcessCPU(t, cmd.Process.Pid)
			if sink.records.Load() < int64(lines) {
				return errNotYet
			}
			return nil
		})
		wall, dcpu := time.Since(t0), dockertest.ProcessCPU(t, daemon)-d0
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			t.Errorf("%s: collector exit: %v\n%s", v.name, err, tail(out.String(), 4096))
		}
		fmt.Printf("%-44s %d lines in %6.2f s: %7.0f lines/s (%.2fx raw); collector CPU %5.2f s (%.2f us/line); dockerd CPU %5.2f s\n",
			v.name, sink.records.Load(), wall.Seconds(), float64(lines)/wall.Seconds(), float64(lines)/wall.Seconds()/rawRate,
			cpu.Seconds(), float64(cpu.Microseconds())/float64(lines), dcpu.Seconds())
	}
}

// rawRead reads a container's whole log as `docker logs --timestamps` does and returns its line count.
func rawRead(t *testing.T, cli *client.Client, id string) int {
	t.Helper()
	body, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	nl := &lineCounter{}
	if _, err := stdcopy.StdCopy(nl, nl, body); err != nil {
		t.Fatal(err)
	}
	return nl.n
}

// lineCounter counts the newlines written to it.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// lastSeq returns the sequence number of a loggen container's newest line, or -1.
func lastSeq(t *testing.T, cli *client.Client, id string) int {
	t.Helper()
	body, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	var stdout, stderr strings.Builder
	if _, err := stdcopy.StdCopy(&stdout, &stderr, body); err != nil {
		return -1
	}
	_, seq, _, err := loggenline.ParseLine(strings.TrimSpace(stdout.String() + stderr.String()))
	if err != nil {
		return -1
	}
	return seq
}
