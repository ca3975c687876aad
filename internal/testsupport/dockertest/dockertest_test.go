package dockertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// checkLines parses every line of log and checks it carries want's sequence numbers in order on stream.
func checkLines(t *testing.T, log, sep, stream string, want []int) {
	t.Helper()
	lines := strings.SplitAfter(log, sep)
	if lines[len(lines)-1] != "" {
		t.Fatalf("%s log does not end with %q: ...%q", stream, sep, lines[len(lines)-1])
	}
	lines = lines[:len(lines)-1]
	if len(lines) != len(want) {
		t.Fatalf("%s has %d lines, want %d", stream, len(lines), len(want))
	}
	for i, line := range lines {
		prefix, seq, got, err := loggenline.ParseLine(line)
		if err != nil {
			t.Fatalf("%s line %d: %v", stream, i, err)
		}
		if prefix != "loggen" || seq != want[i] || got != stream {
			t.Fatalf("%s line %d = %q, want seq=%d stream=%s", stream, i, line, want[i], stream)
		}
	}
}

func seqs(from, to, step int) []int {
	var s []int
	for n := from; n < to; n += step {
		s = append(s, n)
	}
	return s
}

func TestBothStreamsToExit(t *testing.T) {
	cli := Engine(t)
	id := StartContainer(t, cli, ContainerSpec{Cmd: []string{"-count", "200", "-streams", "both"}})
	if code := WaitExit(t, cli, id, time.Minute); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	stdout, stderr := Logs(t, cli, id)
	checkLines(t, stdout, "\n", loggenline.Stdout, seqs(0, 200, 2))
	checkLines(t, stderr, "\n", loggenline.Stderr, seqs(1, 200, 2))
}

func TestTTYMergesStreams(t *testing.T) {
	cli := Engine(t)
	id := StartContainer(t, cli, ContainerSpec{TTY: true, Cmd: []string{"-count", "20"}})
	if code := WaitExit(t, cli, id, time.Minute); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	stdout, stderr := Logs(t, cli, id)
	if stderr != "" {
		t.Fatalf("TTY container has stderr %q", stderr)
	}
	// The terminal turns "\n" into "\r\n".
	checkLines(t, stdout, "\r\n", loggenline.Stdout, seqs(0, 20, 1))

	// Both streams share the terminal, so stderr lines come back in the one raw stream, labelled by loggen alone.
	id = StartContainer(t, cli, ContainerSpec{TTY: true, Cmd: []string{"-count", "4", "-streams", "both"}})
	WaitExit(t, cli, id, time.Minute)
	stdout, _ = Logs(t, cli, id)
	if want := "loggen seq=0 stream=stdout\r\nloggen seq=1 stream=stderr\r\nloggen seq=2 stream=stdout\r\nloggen seq=3 stream=stderr\r\n"; stdout != want {
		t.Fatalf("TTY log %q, want %q", stdout, want)
	}
}

func TestLongLinesSurviveTheEngine(t *testing.T) {
	cli := Engine(t)
	const size = 200 * 1024
	id := StartContainer(t, cli, ContainerSpec{Cmd: []string{"-count", "3", "-size", fmt.Sprint(size)}})
	WaitExit(t, cli, id, time.Minute)
	stdout, _ := Logs(t, cli, id)
	checkLines(t, stdout, "\n", loggenline.Stdout, seqs(0, 3, 1))
	if len(stdout) != 3*(size+1) {
		t.Fatalf("log has %d bytes, want %d", len(stdout), 3*(size+1))
	}
}

func TestStopEndsLoggenCleanly(t *testing.T) {
	cli := Engine(t)
	id := StartContainer(t, cli, ContainerSpec{Cmd: []string{"-rate", "100"}})
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	timeout := 10
	start := time.Now()
	if err := cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	// As PID 1 loggen sees SIGTERM only through its handler; without one the engine would kill it after 10s with 137.
	if code, took := WaitExit(t, cli, id, time.Minute), time.Since(start); code != 0 || took > 5*time.Second {
		t.Fatalf("exit code %d after %v, want 0 promptly", code, took)
	}
	stdout, _ := Logs(t, cli, id)
	if n := strings.Count(stdout, "\n"); n < 10 {
		t.Fatalf("only %d lines before the stop", n)
	}
}

func TestCreateContainerSettingsAndCleanup(t *testing.T) {
	cli := Engine(t)
	var id string
	t.Run("create", func(t *testing.T) {
		id = CreateContainer(t, cli, ContainerSpec{
			Labels:    map[string]string{"app": "x"},
			Env:       []string{"A=b"},
			LogDriver: "json-file",
			LogOpts:   map[string]string{"max-size": "100k", "max-file": "2"},
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		info, err := cli.ContainerInspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(info.Name, "/"+NamePrefix) || info.State.Status != "created" {
			t.Errorf("name %q state %q", info.Name, info.State.Status)
		}
		if info.Config.Labels[TestLabel] != "1" || info.Config.Labels["app"] != "x" {
			t.Errorf("labels %v", info.Config.Labels)
		}
		if info.HostConfig.NetworkMode != "none" || info.HostConfig.LogConfig.Type != "json-file" {
			t.Errorf("network %q log driver %q", info.HostConfig.NetworkMode, info.HostConfig.LogConfig.Type)
		}
		if opts := info.HostConfig.LogConfig.Config; opts["max-size"] != "100k" || opts["max-file"] != "2" {
			t.Errorf("log options %v", opts)
		}
		if !strings.Contains(strings.Join(info.Config.Env, " "), "A=b") {
			t.Errorf("env %v", info.Config.Env)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.ContainerInspect(ctx, id); !cerrdefs.IsNotFound(err) {
		t.Fatalf("container still there after its test ended: %v", err)
	}
}

func TestLoggenImageOnceForConcurrentCallers(t *testing.T) {
	cli := Engine(t)
	// Forget this process's earlier build so the parallel callers below race for it.
	programImages.Lock()
	delete(programImages.done, cli.DaemonHost()+" "+LoggenTag)
	programImages.Unlock()
	t.Run("callers", func(t *testing.T) {
		for i := range 4 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				if tag := LoggenImage(t, cli); tag != LoggenTag {
					t.Fatalf("tag %q, want %q", tag, LoggenTag)
				}
			})
		}
	})
}

func TestPrintLinesImageWritesItsArguments(t *testing.T) {
	cli := Engine(t)
	id := StartContainer(t, cli, ContainerSpec{Image: PrintLinesImage(t, cli),
		Cmd: []string{`stdout:{"level":"info"}`, "stderr:ERROR boom", "stdout:plain"}})
	if code := WaitExit(t, cli, id, time.Minute); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	stdout, stderr := Logs(t, cli, id)
	if want := "{\"level\":\"info\"}\nplain\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if want := "ERROR boom\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}
