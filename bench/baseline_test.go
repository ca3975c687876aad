package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// A baseline is a second build of the distribution that B1 and B4 run back to back with bin/otelcol-dockerlogs in
// the same run, so that a change is judged by a ratio measured on the same machine at the same time, not against
// a figure of another day.

// baseline is the second build: its binary, how the page names it, and the shipped configuration it runs with.
type baseline struct {
	bin, label, config string
}

var baselineOnce struct {
	sync.Once
	b   baseline
	err error
}

// baselineBuild returns the baseline, or one with bin "" when neither -baseline-bin nor -baseline-rev is set. A
// revision is exported with `git archive` into .cache/bench/baseline-<rev>/ and built there with `make otelcol`,
// so the work tree and the repository stay as they are; it runs with that revision's collector-config.yaml, which
// its binary understands, and a binary given by path with this tree's.
func baselineBuild(t testing.TB) baseline {
	t.Helper()
	if *flagBaselineBin == "" && *flagBaselineRev == "" {
		return baseline{}
	}
	baselineOnce.Do(func() {
		if *flagBaselineBin != "" {
			baselineOnce.b = baseline{bin: *flagBaselineBin, label: "`" + *flagBaselineBin + "`", config: shippedConfig(t)}
			_, baselineOnce.err = os.Stat(*flagBaselineBin)
			return
		}
		baselineOnce.b, baselineOnce.err = buildRevision(t, *flagBaselineRev)
	})
	if baselineOnce.err != nil {
		t.Fatalf("baseline: %v", baselineOnce.err)
	}
	return baselineOnce.b
}

// buildRevision builds the distribution of a git revision of this repository.
func buildRevision(t testing.TB, rev string) (baseline, error) {
	root := distrotest.ModuleRoot(t)
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short=12", rev+"^{commit}").Output()
	if err != nil {
		return baseline{}, err
	}
	sha := strings.TrimSpace(string(out))
	dir := filepath.Join(workDir(t), "baseline-"+sha)
	bin := filepath.Join(dir, "bin", "otelcol-dockerlogs")
	b := baseline{bin: bin, label: "commit " + sha, config: filepath.Join(dir, "collector-config.yaml")}
	if _, err := os.Stat(bin); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return baseline{}, err
	}
	export := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, sha, dir)
	if b, err := export.CombinedOutput(); err != nil {
		return baseline{}, fmt.Errorf("export %s: %v\n%s", sha, err, b)
	}
	// The builder of this work tree is reused when the revision asks for the same version (it is kept per version).
	mk := exec.Command("make", "-C", dir, "otelcol", "OCB_DIR="+filepath.Join(root, ".cache", "tools", "ocb-$(OCB_VERSION)"))
	if b, err := mk.CombinedOutput(); err != nil {
		return baseline{}, fmt.Errorf("make otelcol at %s: %v\n%s", sha, err, b)
	}
	return b, nil
}
