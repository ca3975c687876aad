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

var baselineOnce struct {
	sync.Once
	path, label string
	err         error
}

// baselineBinary returns the baseline collector and how to name it, or "" when neither -baseline-bin nor
// -baseline-rev is set. A revision is exported with `git archive` into .cache/bench/baseline-<rev>/ and built
// there with `make otelcol`, so the work tree and the repository stay as they are.
func baselineBinary(t testing.TB) (string, string) {
	t.Helper()
	if *flagBaselineBin == "" && *flagBaselineRev == "" {
		return "", ""
	}
	baselineOnce.Do(func() {
		if *flagBaselineBin != "" {
			baselineOnce.path, baselineOnce.label = *flagBaselineBin, "`"+*flagBaselineBin+"`"
			_, baselineOnce.err = os.Stat(*flagBaselineBin)
			return
		}
		baselineOnce.path, baselineOnce.label, baselineOnce.err = buildRevision(t, *flagBaselineRev)
	})
	if baselineOnce.err != nil {
		t.Fatalf("baseline: %v", baselineOnce.err)
	}
	return baselineOnce.path, baselineOnce.label
}

// buildRevision builds the distribution of a git revision of this repository and returns its binary and label.
func buildRevision(t testing.TB, rev string) (string, string, error) {
	root := distrotest.ModuleRoot(t)
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short=12", rev+"^{commit}").Output()
	if err != nil {
		return "", "", err
	}
	sha := strings.TrimSpace(string(out))
	dir := filepath.Join(workDir(t), "baseline-"+sha)
	bin := filepath.Join(dir, "bin", "otelcol-dockerlogs")
	label := "commit " + sha
	if _, err := os.Stat(bin); err == nil {
		return bin, label, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	export := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, sha, dir)
	if b, err := export.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("export %s: %v\n%s", sha, err, b)
	}
	// The builder of this work tree is reused when the revision asks for the same version (it is kept per version).
	mk := exec.Command("make", "-C", dir, "otelcol", "OCB_DIR="+filepath.Join(root, ".cache", "tools", "ocb-$(OCB_VERSION)"))
	if b, err := mk.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("make otelcol at %s: %v\n%s", sha, err, b)
	}
	return bin, label, nil
}
