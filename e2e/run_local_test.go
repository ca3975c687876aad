package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// runLocalScreenshot is the screenshot TestRunLocal keeps of the log store's page, under .artifacts/.
const runLocalScreenshot = "make-run-logs.png"

// netDialer checks whether a port answers.
var netDialer = net.Dialer{Timeout: time.Second}

var (
	printedLogsURL    = regexp.MustCompile(`run-local\.sh: logs:\s+(http://\S+)`)
	printedMetricsURL = regexp.MustCompile(`run-local\.sh: metrics:\s+(http://\S+)`)
	demoLine          = regexp.MustCompile(`demo seq=\d+ stream=std(out|err)`)
)

// TestRunLocal runs what `make run` runs (scripts/run-local.sh, without LOKI_ENDPOINT) as a person would, and
// looks where it says to look: the log store's web page, opened in headless Chromium at the printed address,
// shows the demo container's lines (a screenshot is kept in .artifacts/), and Prometheus at the printed address
// scrapes the collector and has the alert rules loaded. The collector never fails to export, and a Ctrl-C
// (SIGINT to the whole process group, as a terminal sends it) stops everything the script started.
func TestRunLocal(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	runMake(t, "otelcol")
	runMake(t, "victoria-logs")
	needTool(t, "prometheus")
	chromiumBin := needTool(t, "chromium")
	root := distrotest.ModuleRoot(t)

	// The script runs the shipped configuration, whose ports are fixed: wait for another collector to finish.
	eventually(t, 3*time.Minute, time.Second, "the shipped configuration's ports to be free", func() error {
		for _, port := range []int{8888, 13133, 1777} {
			if conn, err := (&netDialer).Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
				conn.Close()
				return fmt.Errorf("%w: 127.0.0.1:%d is in use", errNotYet, port)
			}
		}
		return nil
	})

	demo := runName(t) + "demo"
	vlogsPort, promPort := freePort(t), freePort(t)
	cmd := exec.Command(filepath.Join(root, "scripts", "run-local.sh"))
	cmd.Dir = root
	cmd.Env = append(withoutEnv(os.Environ(), "DOCKER_HOST", "LOKI_ENDPOINT", "OTELCOL_STORAGE_DIR", "OTELCOL_LISTEN_HOST",
		"RUN_DIR", "VLOGS_PORT", "PROM_PORT", "VLOGS_BIN", "DEMO", "DEMO_NAME", "CONSOLE"),
		"DOCKER_HOST="+cli.DaemonHost(), "RUN_DIR="+t.TempDir(), "DEMO=1", "DEMO_NAME="+demo,
		"VLOGS_PORT="+strconv.Itoa(vlogsPort), "PROM_PORT="+strconv.Itoa(promPort),
		"VLOGS_BIN="+filepath.Join(root, victoriaLogsBinary))
	// A process group of its own, as a terminal's foreground job: Ctrl-C goes to every process in it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(time.Minute):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-exited
			}
		}
		// Nothing the script started may outlive it; a failed test must not leave processes behind either.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("run-local.sh output (last 6 KiB):\n%s", tail(out.String(), 6144))
		}
	})

	// running fails the check that calls it once the script has ended.
	running := func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("run-local.sh exited: %v", err)
		default:
			return nil
		}
	}
	var logsURL, metricsURL string
	eventually(t, 3*time.Minute, 200*time.Millisecond, "run-local.sh to print the addresses", func() error {
		if err := running(); err != nil {
			return err
		}
		logs, metrics := printedLogsURL.FindStringSubmatch(out.String()), printedMetricsURL.FindStringSubmatch(out.String())
		if logs == nil || metrics == nil {
			return fmt.Errorf("%w: no logs: and metrics: addresses printed", errNotYet)
		}
		logsURL, metricsURL = logs[1], metrics[1]
		return nil
	})
	t.Logf("printed: logs %s", logsURL)
	t.Logf("printed: metrics %s", metricsURL)
	vl := &victoriaLogs{base: fmt.Sprintf("http://127.0.0.1:%d", vlogsPort)}
	if !strings.HasPrefix(logsURL, vl.base+"/select/vmui/") || !strings.Contains(logsURL, url.QueryEscape(demo)) {
		t.Fatalf("logs address %s: want the web UI of %s with a query for %s", logsURL, vl.base, demo)
	}

	// The demo container's lines reach the store, then the page at the printed address shows them.
	eventually(t, 2*time.Minute, time.Second, "the demo container's lines in the log store", func() error {
		if err := running(); err != nil {
			return err
		}
		n, err := vl.count(fmt.Sprintf("container.name:=%q", demo))
		if err != nil || n < 4 {
			return fmt.Errorf("%w: %d lines of %s stored (%v)", errNotYet, n, demo, err)
		}
		return nil
	})
	var text string
	eventually(t, 3*time.Minute, time.Second, "the log store's page to show the demo lines", func() error {
		if err := running(); err != nil {
			return err
		}
		dom, err := chromium(t, chromiumBin, logsURL, "--dump-dom")
		if err != nil {
			return err
		}
		if text = pageText(dom); !demoLine.MatchString(text) {
			return fmt.Errorf("%w: the page shows no \"demo seq=N stream=...\" line: %.600s", errNotYet, text)
		}
		return nil
	})
	t.Logf("the page at the printed address shows %d demo lines, e.g. %q", len(demoLine.FindAllString(text, -1)), demoLine.FindString(text))
	shot := filepath.Join(artifactsDir(t), runLocalScreenshot)
	if _, err := chromium(t, chromiumBin, logsURL, "--screenshot="+shot); err != nil {
		t.Fatal(err)
	}
	if png, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 10_000 {
		t.Fatalf("screenshot %s: %d bytes, %v", shot, len(png), err)
	}
	t.Logf("screenshot of the log store's page: %s", shot)

	// Prometheus at the printed address scrapes the collector and evaluates the rules.
	u, err := url.Parse(metricsURL)
	if err != nil || u.Host != "127.0.0.1:"+strconv.Itoa(promPort) || u.Path != "/graph" || u.Query().Get("g0.expr") == "" {
		t.Fatalf("metrics address %s: want Prometheus' graph page on 127.0.0.1:%d with a query (%v)", metricsURL, promPort, err)
	}
	if code, _, err := httpGet(metricsURL); err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v", metricsURL, code, err)
	}
	prom := &prometheus{base: "http://" + u.Host}
	eventually(t, 2*time.Minute, time.Second, "Prometheus to have the collector's lines read", func() error {
		if err := running(); err != nil {
			return err
		}
		series, err := prom.query(u.Query().Get("g0.expr"))
		if err != nil {
			return err
		}
		if v, ok := largestNumber(series); !ok || v <= 0 {
			return fmt.Errorf("%w: %s = %v", errNotYet, u.Query().Get("g0.expr"), series)
		}
		return nil
	})
	checkRules(t, prom, filepath.Join(root, "alerts", "docker-logs.rules.yml"))

	if strings.Contains(out.String(), "Exporting failed") {
		t.Errorf("the collector failed to export:\n%s", tail(out.String(), 4096))
	}

	// Ctrl-C.
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("run-local.sh after Ctrl-C: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("run-local.sh still running 2 minutes after Ctrl-C")
	}
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("processes of run-local.sh still running after it ended (kill -0 -%d: %v)", pgid, err)
	}
	for _, port := range []int{vlogsPort, promPort, 8888, 13133} {
		if conn, err := (&netDialer).Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			conn.Close()
			t.Errorf("127.0.0.1:%d still answers after run-local.sh ended", port)
		}
	}
	ps := exec.Command("docker", "ps", "-aq", "--filter", "name=^"+demo+"$")
	ps.Env = append(withoutEnv(os.Environ(), "DOCKER_HOST"), "DOCKER_HOST="+cli.DaemonHost())
	if ids, err := ps.Output(); err != nil || len(bytes.TrimSpace(ids)) > 0 {
		t.Errorf("the demo container %s is still there after run-local.sh ended (%q, %v)", demo, ids, err)
	}
	for _, msg := range []string{"stopping Prometheus", "stopping the log store", "removing " + demo} {
		if !strings.Contains(out.String(), msg) {
			t.Errorf("run-local.sh did not say %q", msg)
		}
	}
}
