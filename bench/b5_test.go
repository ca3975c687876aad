package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

const b5Overlay = `
receivers:
  docker_logs:
    start_at: beginning
    rotation_interval: 2s
    include:
      names: [%q]
`

// TestB5 soaks -b5-containers containers at 5 lines/s with rotation_interval 2s for -b5-duration.
func TestB5(t *testing.T) {
	benchEnabled(t)
	cli := benchEngine(t)
	n, d := *flagB5Containers, *flagB5Duration
	prefix := fmt.Sprintf("bench-%d-soak-", time.Now().Unix())
	r := runSteady(t, cli, prefix, n, fmt.Sprintf(b5Overlay, prefix+"*"), d, 10*time.Second, 10*time.Second, 2*time.Minute)
	// The first minute (30 s in a run shorter than 3 minutes) is the warm-up: pools, queue files and caches fill.
	warm := time.Minute
	if d < 3*time.Minute {
		warm = 30 * time.Second
	}
	var x, g, f, m []float64
	var s0, s1 sample
	for _, s := range r.samples {
		if s.at < warm {
			continue
		}
		if len(x) == 0 {
			s0 = s
		}
		s1 = s
		x = append(x, s.at.Minutes())
		g, f, m = append(g, float64(s.goroutines)), append(f, float64(s.fds)), append(m, float64(s.rss)/(1<<20))
	}
	minMax := func(v []float64) (float64, float64) {
		lo, hi := v[0], v[0]
		for _, e := range v {
			lo, hi = min(lo, e), max(hi, e)
		}
		return lo, hi
	}
	gs, fs, ms := slope(x, g), slope(x, f), slope(x, m)
	// A sample can fall while streams are being reopened (every 2 s, 50 of them), which moves a count by a few
	// either way: the slope of per-minute medians is less sensitive to such a sample than the fit of all of them.
	mg, mf, mm := minuteMedians(x, g), minuteMedians(x, f), minuteMedians(x, m)
	mflo, mfhi := minMax(mf[1])
	gsMed, msMed := slope(mg[0], mg[1]), slope(mm[0], mm[1])
	glo, ghi := minMax(g)
	flo, fhi := minMax(f)
	mlo, mhi := minMax(m)
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["B5"], runContext(cli))
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| goroutine slope \\|s\\| < 0.1/min | %+.3f/min fit of all samples, %+.3f/min of per-minute medians (%.0f-%.0f) | %s |\n",
		gs, gsMed, glo, ghi, yes(gsMed < 0.1 && gsMed > -0.1))
	// A sample taken while streams are being reopened can miss a few descriptors: flat is judged on the minutes' medians.
	fmt.Fprintf(&b, "| open files flat | %+.3f/min; samples %.0f-%.0f, per-minute medians %.0f-%.0f | %s |\n", fs, flo, fhi, mflo, mfhi, yes(mfhi-mflo <= 2))
	fmt.Fprintf(&b, "| RSS growth < 1 MiB over 10 minutes | %+.2f MiB/min fit of all samples (%+.1f MiB over 10 min), %+.2f MiB/min of per-minute medians; %+.1f MiB from %v to %v (%.0f-%.0f MiB) | %s |\n",
		ms, ms*10, msMed, float64(s1.rss-s0.rss)/(1<<20), s0.at, s1.at, mlo, mhi, yes(ms*10 < 1))
	fmt.Fprintf(&b, "| (every line once) | %d lines: %d missing, %d duplicated | %s |\n\n", r.total.want, r.total.missing, r.total.dups, yes(r.total.missing == 0 && r.total.dups == 0))
	fmt.Fprintf(&b, "%d containers writing 5 lines/s each, `rotation_interval: 2s` (every stream closed and reopened every 2 s; the\n"+
		"pool's default 50 streams), for %v, sampled every 10 s: goroutines (pprof), open files (`/proc/PID/fd`), RSS\n"+
		"(`VmRSS`). Slopes are least-squares fits per minute from %v on, of all samples and of each whole minute's median.\n\n", n, d, warm)
	b.WriteString("| t | records | goroutines | open files | RSS | collector CPU |\n|---|---|---|---|---|---|\n")
	for _, s := range r.samples {
		fmt.Fprintf(&b, "| %v | %d | %d | %d | %.1f MiB | %.1f s |\n", s.at, s.records, s.goroutines, s.fds, float64(s.rss)/(1<<20), s.cpu.Seconds())
	}
	b.WriteString("\n")
	setSection("B5", b.String())
	fmt.Print(b.String())
}

// minuteMedians groups samples by whole minute of x and returns each minute's midpoint and median of y.
func minuteMedians(x, y []float64) [2][]float64 {
	var out [2][]float64
	for i := 0; i < len(x); {
		j, m := i, math.Floor(x[i])
		for j < len(x) && math.Floor(x[j]) == m {
			j++
		}
		if j-i >= 3 {
			out[0] = append(out[0], m+0.5)
			out[1] = append(out[1], percentile(sortedCopy(y[i:j]), 50))
		}
		i = j
	}
	return out
}
