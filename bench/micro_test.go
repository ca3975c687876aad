package bench

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

// microBenches are the Go benchmarks of the hot path, by package, with the lines each operation handles.
var microBenches = []struct {
	pkg, pattern string
	linesPerOp   map[string]float64
	what         string
}{
	{"./receiver/dockerlogsreceiver/internal/decode/", "BenchmarkReader", map[string]float64{"BenchmarkReaderMultiplexed": 100_000, "BenchmarkReaderTTY": 100_000},
		"frame demultiplexing, timestamp parsing and line assembly of 100,000 ~100-byte entries (multiplexed: one in ten on stderr; TTY: one raw stream)"},
	{"./receiver/dockerlogsreceiver/internal/records/", "BenchmarkBuildLogs", map[string]float64{"BenchmarkBuildLogs": 1000},
		"building the plog records of one batch of 1,000 lines (resource, scope, timestamps, body, `log.iostream`)"},
}

var benchLineRE = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+(\d+)\s+(.*)$`)

// TestMicro runs the hot path's Go benchmarks (go test -bench -benchmem) and reports their cost per line.
func TestMicro(t *testing.T) {
	benchEnabled(t)
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["micro"], runContext(nil))
	b.WriteString("`go test -run '^$' -bench <name> -benchmem -count 3 <package>`; each row is the median of 3 runs, per line.\n\n")
	b.WriteString("| benchmark | what one line costs | ns/line | B/line | allocs/line |\n|---|---|---|---|---|\n")
	for _, mb := range microBenches {
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", mb.pattern, "-benchmem", "-count", "3", mb.pkg)
		cmd.Dir = distrotest.ModuleRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go test -bench %s %s: %v\n%s", mb.pattern, mb.pkg, err, out)
		}
		fmt.Print(string(out))
		runs := map[string][][3]float64{}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			m := benchLineRE.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			per := mb.linesPerOp[m[1]]
			if per == 0 {
				continue
			}
			f := strings.Fields(m[4])
			var ns, by, al float64
			for i := 1; i < len(f); i++ {
				v, _ := strconv.ParseFloat(f[i-1], 64)
				switch f[i] {
				case "ns/op":
					ns = v / per
				case "B/op":
					by = v / per
				case "allocs/op":
					al = v / per
				}
			}
			runs[m[1]] = append(runs[m[1]], [3]float64{ns, by, al})
		}
		var names []string
		for name := range mb.linesPerOp {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			r := runs[name]
			if len(r) == 0 {
				t.Errorf("no result for %s", name)
				continue
			}
			med := func(i int) float64 {
				v := make([]float64, len(r))
				for j := range r {
					v[j] = r[j][i]
				}
				return sortedCopy(v)[len(v)/2]
			}
			fmt.Fprintf(&b, "| `%s` (%s) | %s | %.1f | %.1f | %.4f |\n", name, strings.TrimSuffix(strings.TrimPrefix(mb.pkg, "./"), "/"), mb.what, med(0), med(1), med(2))
		}
	}
	fmt.Fprintf(&b, "\n(%s/%s, GOMAXPROCS %d.)\n\n", runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	setSection("micro", b.String())
	fmt.Print(b.String())
}
