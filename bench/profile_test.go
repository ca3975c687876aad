package bench

import (
	"bufio"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// packageSection sums a CPU profile's flat time by package (the function's import path and package name), which
// `go tool pprof` does not group by itself: it says which part of the collector the time is spent in.
func packageSection(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=100000", "-nodefraction=0", "-edgefraction=0", path).Output()
	if err != nil {
		return fmt.Sprintf("(go tool pprof -top %s: %v)\n\n", path, err)
	}
	flat, total := map[string]float64{}, 0.0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// flat flat% sum% cum cum% function...
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		sec, ok := seconds(f[0])
		if !ok {
			continue
		}
		flat[pkgOf(strings.Join(f[5:], " "))] += sec
		total += sec
	}
	if total == 0 {
		return ""
	}
	type row struct {
		pkg string
		sec float64
	}
	var rows []row
	for p, s := range flat {
		rows = append(rows, row{p, s})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].sec > rows[j].sec })
	var b strings.Builder
	b.WriteString("Flat time of the same profile summed by package (top 15):\n\n| package | flat | share |\n|---|---|---|\n")
	for i, r := range rows {
		if i == 15 {
			break
		}
		fmt.Fprintf(&b, "| `%s` | %.2f s | %.1f%% |\n", r.pkg, r.sec, 100*r.sec/total)
	}
	b.WriteString("\n")
	return b.String()
}

// pkgOf returns the package of a pprof function name: everything before the first dot after the last slash, the
// type parameters (which hold slashes of their own) left out.
func pkgOf(fn string) string {
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i]
	}
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return fn
	}
	return fn[:slash+1+dot]
}

// seconds parses a pprof duration such as 1.23s, 450ms or 80us.
func seconds(s string) (float64, bool) {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"mins", 60}, {"hrs", 3600}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}, {"s", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.scale, err == nil
		}
	}
	return 0, false
}
