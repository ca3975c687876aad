package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// toolPaths caches what scripts/tool.sh found per program, so one test process installs a package once.
var toolPaths = struct {
	sync.Mutex
	done map[string]toolResult
}{done: map[string]toolResult{}}

type toolResult struct {
	path string
	err  error
}

// needTool returns the path of a program scripts/tool.sh provides (prometheus, chromium), installing its Debian
// package when missing and possible; without it the test fails under CI=true and is skipped otherwise.
func needTool(t testing.TB, name string) string {
	t.Helper()
	toolPaths.Lock()
	defer toolPaths.Unlock()
	res, ok := toolPaths.done[name]
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, filepath.Join(distrotest.ModuleRoot(t), "scripts", "tool.sh"), name)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			res.err = fmt.Errorf("scripts/tool.sh %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
		} else {
			res.path = strings.TrimSpace(stdout.String())
			if msg := strings.TrimSpace(stderr.String()); msg != "" {
				t.Logf("%s (%v)", msg, time.Since(start).Round(100*time.Millisecond))
			}
		}
		toolPaths.done[name] = res
	}
	if res.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", res.err)
		}
		t.Skipf("%v (install %s to run this test)", res.err, name)
	}
	return res.path
}

// prometheus is a Prometheus server on 127.0.0.1 with its own empty storage.
type prometheus struct {
	base string // http://127.0.0.1:port
}

// startPrometheus runs Prometheus with a configuration file until the test ends.
func startPrometheus(t testing.TB, bin, configPath string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+configPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	exited := startProcess(t, cmd, 30*time.Second, func() {
		_ = logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil && len(b) > 0 {
				t.Logf("prometheus log:\n%s", tail(string(b), 4096))
			}
		}
	})
	p := &prometheus{base: "http://" + addr}
	eventually(t, time.Minute, 200*time.Millisecond, "Prometheus to be ready", func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("prometheus exited during start-up: %v", err)
		default:
		}
		if code, _, err := httpGet(p.base + "/-/ready"); err != nil || code != http.StatusOK {
			return fmt.Errorf("%w: GET /-/ready: %d %v", errNotYet, code, err)
		}
		return nil
	})
	return p
}

// api GETs a path of Prometheus' HTTP API and decodes the data of a successful answer into v.
func (p *prometheus) api(path string, params url.Values, v any) error {
	u := p.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := httpClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("GET %s: HTTP %d: %.300s", u, resp.StatusCode, body)
	}
	if answer.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s", u, answer.Status, answer.Error)
	}
	return json.Unmarshal(answer.Data, v)
}

// promSeries is one series of an instant query's answer.
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [unix time, "value"]
}

// number is the series' value; NaN and ±Inf parse too.
func (s promSeries) number() float64 {
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// query runs an instant query and returns its series; a scalar answer comes back as one series without labels.
func (p *prometheus) query(expr string) ([]promSeries, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var series []promSeries
		err := json.Unmarshal(data.Result, &series)
		return series, err
	case "scalar":
		var v [2]any
		err := json.Unmarshal(data.Result, &v)
		return []promSeries{{Value: v}}, err
	default:
		return nil, fmt.Errorf("query %q: result type %s", expr, data.ResultType)
	}
}

// promRuleGroup is a group of GET /api/v1/rules.
type promRuleGroup struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	LastEvaluation time.Time `json:"lastEvaluation"`
	Rules          []struct {
		Name           string    `json:"name"`
		Type           string    `json:"type"` // recording or alerting
		Health         string    `json:"health"`
		LastError      string    `json:"lastError"`
		State          string    `json:"state"` // alerting rules: inactive, pending, firing
		LastEvaluation time.Time `json:"lastEvaluation"`
	} `json:"rules"`
}

// rules returns the rule groups Prometheus loaded.
func (p *prometheus) rules() ([]promRuleGroup, error) {
	var data struct {
		Groups []promRuleGroup `json:"groups"`
	}
	err := p.api("/api/v1/rules", nil, &data)
	return data.Groups, err
}

// chromium runs a headless Chromium on one page: --dump-dom prints the page's DOM once its scripts have run
// (virtual time lets the page's own requests finish first), --screenshot=PATH writes a PNG.
func chromium(t testing.TB, bin, pageURL string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	all := append([]string{
		// --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile"),
		"--window-size=1400,900", "--virtual-time-budget=15000",
	}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, pageURL)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("chromium %s: %w: %s", strings.Join(args, " "), err, tail(stderr.String(), 2048))
	}
	return stdout.String(), nil
}

var (
	htmlTag   = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	htmlSpace = regexp.MustCompile(`\s+`)
)

// pageText is the visible text of an HTML document, tags dropped and white space folded.
func pageText(html string) string {
	text := htmlTag.ReplaceAllString(html, " ")
	for _, r := range [][2]string{{"&quot;", `"`}, {"&#34;", `"`}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", " "}} {
		text = strings.ReplaceAll(text, r[0], r[1])
	}
	return strings.TrimSpace(htmlSpace.ReplaceAllString(text, " "))
}

// artifactsDir is where tests keep files for a person to look at (gitignored): moduleRoot/.artifacts.
func artifactsDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(distrotest.ModuleRoot(t), ".artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
