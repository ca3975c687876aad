package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// collector is one bin/otelcol-dockerlogs process of a benchmark.
type collector struct {
	name                   string
	cmd                    *exec.Cmd
	pid                    int
	health, metrics, pprof int
	exited                 chan error
	logPath                string
	started                time.Time
	stopped                bool
}

var httpc = &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCollector runs the distribution with configs (later ones override earlier ones) plus the ports overlay,
// with DOCKER_HOST, LOKI_ENDPOINT and OTELCOL_STORAGE_DIR from env; it is stopped when the test ends.
func startCollector(t testing.TB, name string, env map[string]string, configs ...string) *collector {
	t.Helper()
	return startCollectorBin(t, distBinary(t), name, env, configs...)
}

// startCollectorBin is startCollector with another build of the distribution (a baseline to compare with).
func startCollectorBin(t testing.TB, bin, name string, env map[string]string, configs ...string) *collector {
	t.Helper()
	c := &collector{name: name, health: freePort(t), metrics: freePort(t), pprof: freePort(t)}
	dir := t.TempDir()
	configs = append(configs, writeFile(t, dir, "ports.yaml", distrotest.PortsOverlay(c.health, c.pprof, c.metrics)))
	var args []string
	for _, cfg := range configs {
		args = append(args, "--config", cfg)
	}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Env = append(os.Environ(), "OTELCOL_LISTEN_HOST=127.0.0.1")
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.logPath = filepath.Join(workDir(t), strings.ReplaceAll(t.Name(), "/", "-")+"-"+name+".log")
	logFile, err := os.Create(c.logPath)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	c.pid = c.cmd.Process.Pid
	c.exited = make(chan error, 1)
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// alive fails the test when the collector has exited.
func (c *collector) alive(t testing.TB) {
	t.Helper()
	select {
	case err := <-c.exited:
		c.exited <- err
		c.stopped = true
		t.Fatalf("collector %s exited: %v; log %s:\n%s", c.name, err, c.logPath, c.logTail())
	default:
	}
}

func (c *collector) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// waitHealthy waits until the health check answers 200 and returns the time since the process started.
func (c *collector) waitHealthy(t testing.TB) time.Duration {
	t.Helper()
	eventually(t, time.Minute, 20*time.Millisecond, c.name+" healthy", func() (bool, string) {
		c.alive(t)
		resp, err := httpc.Get(fmt.Sprintf("http://127.0.0.1:%d/", c.health))
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return time.Since(c.started)
}

// cpu returns the collector's utime+stime so far.
func (c *collector) cpu(t testing.TB) time.Duration {
	t.Helper()
	d, err := procCPU(c.pid)
	if err != nil {
		c.alive(t)
		t.Fatal(err)
	}
	return d
}

// metric sums the samples of a Prometheus metric (name, or name_total) on the collector's telemetry endpoint.
func (c *collector) metric(t testing.TB, name string) float64 {
	t.Helper()
	return c.metricWith(t, name, "")
}

// metricWith is metric over the samples whose labels contain label (such as `cause="removed_unread"`).
func (c *collector) metricWith(t testing.TB, name, label string) float64 {
	t.Helper()
	resp, err := httpc.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.metrics))
	if err != nil {
		t.Fatalf("metrics of %s: %v", c.name, err)
	}
	defer resp.Body.Close()
	return metricSum(resp.Body, name, label)
}

// metricSum sums the samples of name (or name_total) in a Prometheus text exposition whose labels contain label.
func metricSum(r io.Reader, name, label string) float64 {
	var sum float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		metric := line[:strings.IndexAny(line+" ", "{ ")]
		if metric != name && metric != name+"_total" {
			continue
		}
		labels := ""
		if end := strings.LastIndexByte(line, '}'); end > len(metric) {
			labels = line[len(metric) : end+1]
		}
		if label != "" && !strings.Contains(labels, label) {
			continue
		}
		// The value follows the labels, or the name itself when the metric has none.
		f := strings.Fields(line[len(metric)+len(labels):])
		if len(f) > 0 {
			v, _ := strconv.ParseFloat(f[0], 64)
			sum += v
		}
	}
	return sum
}

// goroutines reads the collector's goroutine count from its pprof endpoint.
func (c *collector) goroutines(t testing.TB) int {
	t.Helper()
	resp, err := httpc.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/goroutine?debug=1", c.pprof))
	if err != nil {
		t.Fatalf("goroutines of %s: %v", c.name, err)
	}
	defer resp.Body.Close()
	first, _ := bufio.NewReader(resp.Body).ReadString('\n')
	_, _ = io.Copy(io.Discard, resp.Body)
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(first, "goroutine profile: total")))
	if err != nil {
		t.Fatalf("goroutine profile of %s starts %q", c.name, first)
	}
	return n
}

// profile records a CPU profile of the collector for d into path.
func (c *collector) profile(d time.Duration, path string) error {
	resp, err := httpc.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", c.pprof, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 30 s); an exit status other than 0 fails the test.
func (c *collector) stop(t testing.TB) {
	if c.stopped {
		return
	}
	c.stopped = true
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exited:
		if err != nil {
			t.Errorf("collector %s exit: %v; log %s:\n%s", c.name, err, c.logPath, c.logTail())
		}
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		t.Errorf("collector %s did not stop within 30 s of SIGTERM; killed", c.name)
	}
}
