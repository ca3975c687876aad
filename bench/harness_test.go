package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// Flags of the benchmarks; `make bench` passes them after -args. The defaults are the workloads of the targets.
var (
	flagLines        = flag.Int("lines", 1_000_000, "B1: lines of ~100 B in the history container")
	flagB3Containers = flag.Int("b3-containers", 5, "B3: containers restarted over")
	flagB8NoisyRate  = flag.Int("b8-noisy-rate", 50_000, "B8: lines per second the noisy container writes")
	flagB8Duration   = flag.Duration("b8-duration", time.Minute, "B8: length of each run")
	flagB3History    = flag.Int("b3-history", 200_000, "B3: lines of history per restarted container")
	flagB4Containers = flag.Int("b4-containers", 200, "B4: containers at 5 lines/s on 20 streams")
	flagB4Duration   = flag.Duration("b4-duration", 5*time.Minute, "B4: how long the containers write")
	flagB4Streams    = flag.Int("b4-streams", 20, "B4: max_concurrent_streams")
	flagB4Files      = flag.Bool("b4-files", false, "B4: read the json-file files directly (log_files) instead of the API")
	flagB4Overlay    = flag.String("b4-overlay", "", "B4: a YAML file, relative to the module root, added after the benchmark's own overlay (a setting to try, such as the receiver's flush_interval)")
	flagB4Profile    = flag.Duration("b4-profile", 0, "B4: CPU profile of the collector for this long once the start-up backlog is read (0: none)")
	flagBaselineBin  = flag.String("baseline-bin", "", "B1, B4: a second collector binary run back to back with bin/otelcol-dockerlogs in the same run")
	flagBaselineRev  = flag.String("baseline-rev", "", "B1, B4: like -baseline-bin, the distribution of this git revision, built into .cache/bench/")
	flagB5Churn      = flag.Bool("b5-churn", false, "B5': run the churn soak (TestB5Churn), skipped otherwise")
	flagChurnAlive   = flag.Int("b5-churn-containers", 50, "B5': containers alive at once")
	flagChurnFor     = flag.Duration("b5-churn-duration", 30*time.Minute, "B5': length of the churn (1h for the long soak)")
	flagB5Containers = flag.Int("b5-containers", 50, "B5: containers of the soak")
	flagB5Duration   = flag.Duration("b5-duration", 10*time.Minute, "B5: length of the soak")
	flagB6Containers = flag.Int("b6-containers", 5, "B6: containers per engine")
	flagB6Duration   = flag.Duration("b6-duration", 30*time.Second, "B6: how long the containers write")
	flagOwnEngine    = flag.Bool("own-engine", false, "run each benchmark on a private dockerd of its own (dockertest.StartDaemon, root), so that no other user of the engine adds to its CPU")
	flagDoc          = flag.String("doc", "docs/benchmarks.md", "page rewritten with the figures, relative to the module root")
)

// benchLabel marks every container the benchmarks start, beside dockertest's test label.
const benchLabel = "otelcol-dockerlogs.bench"

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	removeContainers()
	if err := writeReport(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: write report:", err)
		code = 1
	}
	os.Exit(code)
}

// benchEnabled skips a benchmark unless DOCKERLOGS_BENCH is set: each one takes minutes and loads the engine.
func benchEnabled(t *testing.T) {
	t.Helper()
	if os.Getenv("DOCKERLOGS_BENCH") == "" {
		t.Skip("benchmark against the real engine: set DOCKERLOGS_BENCH=1 (make bench)")
	}
}

// workDir is .cache/bench under the module root: built helpers, profiles, collector logs.
func workDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(distrotest.ModuleRoot(t), ".cache", "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// engine returns a negotiating client of the engine at host ("" = DOCKER_HOST).
func engine(t testing.TB, host string) *client.Client {
	t.Helper()
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("no Docker engine answers at %s: %v (run through scripts/with-docker.sh)", cli.DaemonHost(), err)
	}
	return cli
}

// benchEngine is the engine a benchmark runs on: the one at DOCKER_HOST, or with -own-engine a private dockerd
// that lives as long as the test.
func benchEngine(t *testing.T) *client.Client {
	t.Helper()
	if !*flagOwnEngine {
		return engine(t, "")
	}
	d := dockertest.StartDaemon(t, dockertest.DaemonOptions{})
	cli := engine(t, d.Host)
	// Runs before the daemon's own cleanup, whose removal of hundreds of containers one by one would not fit its timeout.
	t.Cleanup(func() { removeEngineContainers(cli) })
	return cli
}

// built compiles a main package of the module once per process into .cache/bench and returns the binary's path.
var builtOnce sync.Map

func built(t testing.TB, pkg string, env ...string) string {
	t.Helper()
	key := pkg + strings.Join(env, " ")
	if p, ok := builtOnce.Load(key); ok {
		return p.(string)
	}
	out := filepath.Join(workDir(t), filepath.Base(pkg)+"-"+strconv.Itoa(len(env)))
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = distrotest.ModuleRoot(t)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	builtOnce.Store(key, out)
	return out
}

// distBinary is the distribution `make otelcol` built; make bench builds it first.
func distBinary(t testing.TB) string {
	t.Helper()
	p := filepath.Join(distrotest.ModuleRoot(t), "bin", "otelcol-dockerlogs")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run make otelcol (make bench does)", p)
	}
	return p
}

// shippedConfig is the configuration the distribution ships.
func shippedConfig(t testing.TB) string {
	return filepath.Join(distrotest.ModuleRoot(t), "collector-config.yaml")
}

// writeFile writes text to a new file in dir and returns its path.
func writeFile(t testing.TB, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// eventually polls cond every interval until it returns true, failing the test after timeout with what it last said.
func eventually(t testing.TB, timeout, interval time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (%s)", what, timeout, state)
		}
		time.Sleep(interval)
	}
}
