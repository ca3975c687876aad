package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

const b4Overlay = `
receivers:
  docker_logs:
    start_at: beginning
    max_concurrent_streams: %d
    include:
      names: [%q]
`

// TestB4 runs -b4-containers containers at 5 lines/s each on 20 streams (time_slice at its default, 10 s).
func TestB4(t *testing.T) {
	benchEnabled(t)
	cli := benchEngine(t)
	const streams = 20
	const slice = 10 * time.Second // the receiver's default time_slice
	n := *flagB4Containers
	// A container waits for the others' turns: ceil(C/N) slices make one cycle, C > N; with C <= N no handover happens.
	turns := int(math.Ceil(float64(n) / streams))
	cycle := time.Duration(turns) * slice
	if n <= streams {
		cycle = 0
	}
	prefix := fmt.Sprintf("bench-%d-many-", time.Now().Unix())
	r := runSteady(t, cli, prefix, n, fmt.Sprintf(b4Overlay, streams, prefix+"*"), *flagB4Duration, 10*time.Second, cycle+10*time.Second, 3*cycle+2*time.Minute)
	p50, p99, mx := percentile(r.lags, 50)/1e3, percentile(r.lags, 99)/1e3, percentile(r.lags, 100)/1e3
	maxG, maxRSS := 0, int64(0)
	for _, s := range r.samples {
		maxG, maxRSS = max(maxG, s.goroutines), max(maxRSS, s.rss)
	}
	last := r.samples[len(r.samples)-1]
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["B4"], runContext(cli))
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| every line once | %d lines: %d missing, %d duplicated | %s |\n", r.total.want, r.total.missing, r.total.dups, yes(r.total.missing == 0 && r.total.dups == 0))
	fmt.Fprintf(&b, "| max delivery lag <= 2x the predicted cycle (%v) | max %.1f s (%.2fx), p99 %.1f s, p50 %.1f s | %s |\n\n",
		cycle, mx, mx/cycle.Seconds(), p99, p50, yes(cycle > 0 && mx <= 2*cycle.Seconds()))
	fmt.Fprintf(&b, "%d containers writing 5 lines/s each (stdout and stderr alternately, %d lines/s in all), read with\n"+
		"`max_concurrent_streams: %d` and the default `time_slice` (10 s) and `rotation_interval` (5 m), for %v.\n\n"+
		"**Predicted cycle.** With C containers on N streams and C > N, each stream hands its slot over after `time_slice`,\n"+
		"to the container that waited longest, so every container gets one turn per cycle of ceil(C/N) x `time_slice`\n"+
		"(here ceil(%d/%d) x 10 s = %v); a line waits at most one cycle less its own turn, plus the reopen, the receiver's\n"+
		"`flush_interval` (200 ms) and the exporter's batch timeout (200 ms). With C <= N no slot is handed over, and\n"+
		"`rotation_interval` only closes and reopens a stream at once, so the lag is the flush and batch timeouts.\n\n"+
		"Lag is the sink's arrival time minus the daemon's timestamp of the line, for the %d lines stamped from one cycle\n"+
		"plus 10 s after the collector's start (when the backlog of the containers' start-up has been read) to the end.\n\n",
		n, 5*n, streams, *flagB4Duration, n, streams, cycle, len(r.lags))
	b.WriteString("| collector | at the end | max over the run |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| goroutines | %d | %d |\n| RSS | %.0f MiB | %.0f MiB |\n| open files | %d | |\n| CPU | %.1f s in %v (%.1f us/line) | |\n\n",
		last.goroutines, maxG, float64(last.rss)/(1<<20), float64(maxRSS)/(1<<20), last.fds, last.cpu.Seconds(), r.wall,
		float64(last.cpu.Microseconds())/float64(max(last.records, 1)))
	setSection("B4", b.String())
	fmt.Print(b.String())
}
