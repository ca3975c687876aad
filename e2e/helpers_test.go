package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// Paths and names shared with the Makefile.
const (
	// distBinary is what `make otelcol` writes.
	distBinary = "bin/otelcol-dockerlogs"
	// distGoMod is the go.mod ocb generates.
	distGoMod = "build/otelcol-dockerlogs/go.mod"
	// victoriaLogsBinary is where `make victoria-logs` installs VictoriaLogs (VLOGS in the Makefile).
	victoriaLogsBinary = ".cache/tools/victoria-logs-v1.52.1/victoria-logs"
	// imageTag is the tag the tests build with `make image IMAGE=...`, apart from the users' otelcol-dockerlogs:dev.
	imageTag = "otelcol-dockerlogs:e2e"
	// imageUser is the user the Dockerfile sets.
	imageUser = "10001:10001"
	// configInImage is where the image expects its configuration.
	configInImage = "/etc/otelcol-dockerlogs/config.yaml"
	// storageInImage is the file_storage directory of the image.
	storageInImage = "/var/lib/otelcol-dockerlogs"
)

// skipShort skips the long tests (each builds the distribution) under -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds the distribution; skipped with -short")
	}
}

// makeResult is the outcome of one make run, kept per target list so each test process builds once.
type makeResult struct {
	took time.Duration
	err  error
}

var makeRuns = struct {
	sync.Mutex
	done map[string]makeResult
}{done: map[string]makeResult{}}

// runMake runs make with the given arguments in the module root once per test process and fails the test when it failed.
func runMake(t testing.TB, args ...string) time.Duration {
	t.Helper()
	key := strings.Join(args, " ")
	makeRuns.Lock()
	defer makeRuns.Unlock()
	res, ok := makeRuns.done[key]
	if !ok {
		res = doMake(t, args)
		makeRuns.done[key] = res
	}
	if res.err != nil {
		t.Fatalf("make %s: %v", key, res.err)
	}
	return res.took
}

func doMake(t testing.TB, args []string) makeResult {
	root := distrotest.ModuleRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	// Two test runs in one working tree would otherwise regenerate build/ and re-stage the image context at once.
	unlock, err := lockFile(filepath.Join(root, ".cache", "e2e-make.lock"))
	if err != nil {
		return makeResult{err: err}
	}
	defer unlock()
	cmd := exec.CommandContext(ctx, "make", append([]string{"--no-print-directory"}, args...)...)
	cmd.Dir = root
	// A make running these tests must not hand its own flags (and jobserver descriptors) to this one.
	cmd.Env = withoutEnv(os.Environ(), "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		return makeResult{took: took, err: fmt.Errorf("%w after %v; output (last 4 KiB):\n%s", err, took.Round(time.Second), tail(string(out), 4096))}
	}
	t.Logf("make %s: %v", strings.Join(args, " "), took.Round(100*time.Millisecond))
	return makeResult{took: took}
}

// lockFile takes an exclusive flock on path, waiting for it, and returns its release.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// runName returns a prefix unique to this run for the names of the containers a test makes.
func runName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "e2e-" + hex.EncodeToString(b) + "-"
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago: the collector runs with host networking.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// httpClient keeps no idle connections, so no transport goroutine outlives a request (goleak).
var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// httpGet returns the status and body of a GET.
func httpGet(rawURL string) (int, string, error) {
	resp, err := httpClient.Get(rawURL)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// engineSocket returns the path and group of the engine's unix socket, skipping the test for an engine reached otherwise.
func engineSocket(t testing.TB, cli *client.Client) (path string, gid int) {
	t.Helper()
	u, err := client.ParseHostURL(cli.DaemonHost())
	if err != nil {
		t.Fatalf("engine address %q: %v", cli.DaemonHost(), err)
	}
	if u.Scheme != "unix" {
		t.Skipf("the collector container needs the engine's unix socket mounted; the engine is at %s", cli.DaemonHost())
	}
	// The Docker client puts a unix socket's path in Host.
	path = u.Host
	fi, err := os.Stat(path)
	if err != nil {
		t.Skipf("the engine's socket %s is not on this machine (%v); the collector container could not mount it", path, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("no owner information for %s", path)
	}
	return path, int(st.Gid)
}

// shareWithUser makes a host directory writable (or a file readable) by the image's non-root user.
func shareWithUser(t testing.TB, path string, dir bool) {
	t.Helper()
	uid, gid := 10001, 10001
	if err := os.Chown(path, uid, gid); err == nil {
		return
	}
	// Not root: open it to everyone instead.
	mode := os.FileMode(0o644)
	if dir {
		mode = 0o777
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// startProcess starts cmd and stops it when the test ends: SIGTERM, then SIGKILL after grace; afterStop
// runs once it has exited. The returned channel receives the process's end.
func startProcess(t testing.TB, cmd *exec.Cmd, grace time.Duration, afterStop func()) chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(grace):
			_ = cmd.Process.Kill()
			<-exited
		}
		afterStop()
	})
	return exited
}

// victoriaLogs is a VictoriaLogs server on 127.0.0.1 with its own empty storage.
type victoriaLogs struct {
	base string // http://127.0.0.1:port
}

// startVictoriaLogs starts the binary `make victoria-logs` installed, and stops it when the test ends.
func startVictoriaLogs(t testing.TB) *victoriaLogs {
	t.Helper()
	bin := filepath.Join(distrotest.ModuleRoot(t), victoriaLogsBinary)
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	logFile, err := os.Create(filepath.Join(dir, "victoria-logs.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-httpListenAddr="+addr, "-storageDataPath="+filepath.Join(dir, "data"), "-loggerLevel=WARN")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	exited := startProcess(t, cmd, 15*time.Second, func() {
		_ = logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil && len(b) > 0 {
				t.Logf("victoria-logs log:\n%s", tail(string(b), 4096))
			}
		}
	})
	vl := &victoriaLogs{base: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, err := httpGet(vl.base + "/health"); err == nil && code == http.StatusOK {
			return vl
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("victoria-logs exited during start-up: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-logs did not answer at %s/health within 30s", vl.base)
		}
	}
}

// query runs a LogsQL query and returns its rows, each a map of field name to value.
func (vl *victoriaLogs) query(q string) ([]map[string]string, error) {
	resp, err := httpClient.PostForm(vl.base+"/select/logsql/query", url.Values{"query": {q}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("query %q: HTTP %d: %s", q, resp.StatusCode, b)
	}
	// Read whole before parsing: the client's timeout covers the body, and parsing tens of thousands of rows on a
	// loaded machine under -race can outlast it, which cut the body mid-row.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	var rows []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		row := map[string]string{}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("query %q: row %q: %w", q, sc.Text(), err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// count returns how many records match a LogsQL filter.
func (vl *victoriaLogs) count(filter string) (int, error) {
	rows, err := vl.query(filter + " | stats count() n")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("count %q: %d rows", filter, len(rows))
	}
	return strconv.Atoi(rows[0]["n"])
}

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parseMetrics parses the samples of a Prometheus text exposition.
func parseMetrics(text string) []sample {
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// metricSum adds the samples of a metric (with or without a _total suffix) whose labels include want; found tells whether any matched.
func metricSum(samples []sample, name string, want map[string]string) (sum float64, found bool) {
	for _, s := range samples {
		if s.name != name && s.name != name+"_total" {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && s.labels[k] == v
		}
		if ok {
			sum += s.value
			found = true
		}
	}
	return sum, found
}

// scrape reads the collector's own metrics.
func scrape(metricsURL string) ([]sample, error) {
	code, body, err := httpGet(metricsURL)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", metricsURL, code)
	}
	return parseMetrics(body), nil
}

// errNotYet marks a condition that is still expected to become true.
var errNotYet = errors.New("not yet")

// eventually polls check until it returns nil, fails with an error other than errNotYet, or timeout passes.
func eventually(t testing.TB, timeout, every time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if !errors.Is(err, errNotYet) || time.Now().After(deadline) {
			t.Fatalf("%s (waited up to %v): %v", what, timeout, err)
		}
		time.Sleep(every)
	}
}
