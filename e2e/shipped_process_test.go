package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// Fixed addresses of the shipped configuration (collector-config.yaml) with OTELCOL_LISTEN_HOST=127.0.0.1.
const (
	shippedHealthURL  = "http://127.0.0.1:13133/"
	shippedMetricsURL = "http://127.0.0.1:8888/metrics"
)

// shippedCollector runs bin/otelcol-dockerlogs with the shipped collector-config.yaml as a user runs it, and can
// crash it (SIGKILL), stop it (SIGTERM) and start it again over the same storage directory.
type shippedCollector struct {
	t      *testing.T
	name   string // in messages: "collector NAME"; empty for the one collector of a test
	bin    string
	args   []string
	env    []string
	health string        // URL of its health check
	out    *lockedBuffer // the output of every run, one after the other
	cmd    *exec.Cmd
	exited chan error
}

// newShippedCollector prepares a collector reading the engine of cli and exporting to LOKI_ENDPOINT=lokiURL;
// extraEnv (NAME=value) is added to its environment. It is stopped when the test ends.
func newShippedCollector(t *testing.T, cli *client.Client, lokiURL string, extraEnv ...string) *shippedCollector {
	t.Helper()
	runMake(t, "otelcol")
	root := distrotest.ModuleRoot(t)
	storage := filepath.Join(t.TempDir(), "storage")
	env := append(withoutEnv(os.Environ(), "DOCKER_HOST", "LOKI_ENDPOINT", "OTELCOL_STORAGE_DIR", "OTELCOL_LISTEN_HOST", "OTELCOL_QUEUE_BYTES"),
		"DOCKER_HOST="+cli.DaemonHost(), "LOKI_ENDPOINT="+lokiURL, "OTELCOL_STORAGE_DIR="+storage, "OTELCOL_LISTEN_HOST=127.0.0.1")
	c := &shippedCollector{
		t:      t,
		bin:    filepath.Join(root, distBinary),
		args:   []string{"--config", filepath.Join(root, "collector-config.yaml")},
		env:    append(env, extraEnv...),
		health: shippedHealthURL,
		out:    &lockedBuffer{},
	}
	c.stopAtCleanup()
	return c
}

// stopAtCleanup stops the collector when the test ends, and shows its output if the test failed.
func (c *shippedCollector) stopAtCleanup() {
	c.t.Cleanup(func() {
		if c.running() {
			c.stop()
		}
		if c.t.Failed() {
			c.t.Logf("%s output (last 8 KiB):\n%s", c.label(), tail(c.out.String(), 8192))
		}
	})
}

// label names the collector in messages.
func (c *shippedCollector) label() string {
	if c.name == "" {
		return "collector"
	}
	return "collector " + c.name
}

// start runs the collector and waits until its health check answers.
func (c *shippedCollector) start() {
	c.t.Helper()
	if c.running() {
		c.t.Fatal("collector started twice")
	}
	// The previous run's health check must not answer for this one.
	eventually(c.t, 30*time.Second, 100*time.Millisecond, "the previous collector's ports to close", func() error {
		if _, _, err := httpGet(c.health); err == nil {
			return fmt.Errorf("%w: %s still answers", errNotYet, c.health)
		}
		return nil
	})
	fmt.Fprintf(c.out, "----- start %s\n", time.Now().Format(time.RFC3339Nano))
	c.cmd = exec.Command(c.bin, c.args...)
	c.cmd.Env = c.env
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", c.bin, err)
	}
	c.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan<- error) { exited <- cmd.Wait() }(c.cmd, c.exited)
	eventually(c.t, time.Minute, 100*time.Millisecond, c.label()+"'s health check", func() error {
		select {
		case err := <-c.exited:
			c.cmd = nil
			return fmt.Errorf("%s exited during start-up: %v", c.label(), err)
		default:
		}
		if code, _, err := httpGet(c.health); err != nil || code != http.StatusOK {
			return fmt.Errorf("%w: %d %v", errNotYet, code, err)
		}
		return nil
	})
}

// running reports whether a started collector has not been stopped or killed.
func (c *shippedCollector) running() bool {
	return c.cmd != nil
}

// kill crashes the collector with SIGKILL: nothing is flushed, nothing is closed.
func (c *shippedCollector) kill() {
	c.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
	c.cmd = nil
	fmt.Fprintf(c.out, "----- killed %s\n", time.Now().Format(time.RFC3339Nano))
}

// stop shuts the collector down with SIGTERM and fails the test unless it exits cleanly within a minute.
func (c *shippedCollector) stop() {
	c.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exited:
		c.cmd = nil
		fmt.Fprintf(c.out, "----- stopped %s\n", time.Now().Format(time.RFC3339Nano))
		if err != nil {
			c.t.Errorf("%s exit after SIGTERM: %v", c.label(), err)
		}
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		<-c.exited
		c.cmd = nil
		c.t.Errorf("%s still running a minute after SIGTERM; killed", c.label())
	}
}

// rss returns the running collector's resident memory in bytes.
func (c *shippedCollector) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", c.cmd.Process.Pid)
}

// metric returns the sum of a metric's samples with the given labels on the running collector's :8888.
func (c *shippedCollector) metric(name string, labels map[string]string) (float64, error) {
	samples, err := scrape(shippedMetricsURL)
	if err != nil {
		return 0, err
	}
	v, _ := metricSum(samples, name, labels)
	return v, nil
}
