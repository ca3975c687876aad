package bench

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const b8Overlay = `
receivers:
  docker_logs:
    start_at: beginning
    include:
      names: [%q]
    max_lines_per_second: %d
`

// b8Limit is the read limit B8 puts on every container: far above what a quiet container writes.
const b8Limit = 2000

// TestB8 runs one container writing as fast as the flag lets it (-b8-noisy-rate lines/s) beside 20 writing 10
// lines/s, on one collector, first without a read limit, then with max_lines_per_second, and states the quiet
// containers' delivery lag in each run.
func TestB8(t *testing.T) {
	benchEnabled(t)
	cli := benchEngine(t)
	runs := []struct {
		what  string
		limit int
	}{
		{"no read limit", 0},
		{fmt.Sprintf("`max_lines_per_second: %d`", b8Limit), b8Limit},
	}
	type result struct {
		p50, p99, max float64
		lines, dups   int
		missing       int
		noisy         int
		cpu           time.Duration
	}
	var results []result
	for i, run := range runs {
		prefix := fmt.Sprintf("bench-%d-b8-%d-", time.Now().Unix(), i)
		quiet := startFleet(t, cli, prefix+"quiet-", 20, nil, "-rate", "10")
		startGen(t, cli, prefix+"noisy", nil, "-rate", fmt.Sprint(*flagB8NoisyRate))
		s := startSink(t, true)
		s.lagOf = func(key string) bool { return strings.HasPrefix(key, prefix+"quiet-") }
		dir := t.TempDir()
		c := startCollector(t, "b8", map[string]string{"DOCKER_HOST": cli.DaemonHost(), "LOKI_ENDPOINT": s.URL,
			"OTELCOL_STORAGE_DIR": filepath.Join(dir, "storage")}, shippedConfig(t),
			writeFile(t, dir, "b8.yaml", fmt.Sprintf(b8Overlay, prefix+"*", run.limit)))
		c.waitHealthy(t)
		// Lines from 10 s after the start (the collector settled) to the end of the run.
		s.measureLag(c.started.Add(10*time.Second), c.started.Add(*flagB8Duration))
		time.Sleep(time.Until(c.started.Add(*flagB8Duration)))
		c.alive(t)
		cut := time.Now()
		cpu := c.cpu(t)
		want := map[string]int{}
		for name, id := range quiet {
			want[name] = linesUntil(t, cli, id, cut)
		}
		var r result
		eventually(t, 3*time.Minute, time.Second, "the quiet containers' lines up to the cut in the sink", func() (bool, string) {
			c.alive(t)
			r.missing = 0
			for key, w := range want {
				r.missing += s.tally(key, 0, w).missing
			}
			return r.missing == 0, fmt.Sprintf("%d lines missing", r.missing)
		})
		for key, w := range want {
			tl := s.tally(key, 0, w)
			r.lines, r.dups = r.lines+tl.want, r.dups+tl.dups
		}
		r.noisy = s.maxSeqs()[prefix+"noisy"]
		lags := s.lagsMS()
		r.p50, r.p99, r.max = percentile(lags, 50)/1e3, percentile(lags, 99)/1e3, percentile(lags, 100)/1e3
		r.cpu = cpu
		c.stop(t)
		removeContainers()
		results = append(results, r)
		if r.dups > 0 {
			t.Errorf("%s: %d quiet lines duplicated", run.what, r.dups)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["B8"], runContext(cli))
	fmt.Fprintf(&b, "One container writing %d lines/s of ~100 B (as fast as this machine lets one writer go, in practice) beside 20\n"+
		"writing 10 lines/s, on one collector with the shipped configuration, for %v per run; first without a read limit,\n"+
		"then with `max_lines_per_second: %d` (far above the quiet containers' rate). Lag is the sink's arrival time minus\n"+
		"the daemon's timestamp, for the quiet containers' lines from 10 s after the collector's start.\n\n",
		*flagB8NoisyRate, *flagB8Duration, b8Limit)
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| with the limit, the quiet containers' p99 delivery lag <= 2 s | %.2f s (without: %.2f s) | %s |\n\n",
		results[1].p99, results[0].p99, yes(results[1].p99 <= 2))
	b.WriteString("| run | quiet lines once | quiet lag p50 | p99 | max | noisy lines delivered | collector CPU |\n|---|---|---|---|---|---|---|\n")
	for i, r := range results {
		fmt.Fprintf(&b, "| %s | %d (%d duplicated) | %.2f s | %.2f s | %.2f s | %d | %.1f s |\n", runs[i].what, r.lines, r.dups, r.p50, r.p99, r.max, r.noisy, r.cpu.Seconds())
	}
	b.WriteString("\n")
	setSection("B8", b.String())
	fmt.Print(b.String())
}
