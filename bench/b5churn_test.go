package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// churnOverlay selects the churn's containers and turns off the collector's log sampling, which the shipped
// configuration keeps at the collector's default (per message, 10 in 10 s, then 1 in 100): the soak checks that a
// removed_unread warning names each container not read whole, and a burst of removals would have some sampled away.
const churnOverlay = `
receivers:
  docker_logs:
    start_at: beginning
    include:
      names: [%q]
service:
  telemetry:
    logs:
      sampling:
        enabled: false
`

// churnSample is one reading of the collector during the churn soak.
type churnSample struct {
	sample
	positions, unread float64 // otelcol_docker_logs_positions_saved; gaps counted removed_unread so far
	alive             int
}

// churnCounts sorts the removed containers: read whole, counted removed_unread (and the lines they lacked), neither,
// or too short-lived to judge; warnedWhole are the whole ones a removed_unread warning named all the same.
type churnCounts struct {
	whole, warnedWhole, counted, countedLines int
	lost, lostLines, short, lines, dups       int
	warnings                                  int // removed_unread warnings in the collector's log
}

// gone is a container the churn removed: its name and ID, how long it lived, how many lines it wrote, and when it
// was killed.
type gone struct {
	name, id string
	lived    time.Duration
	lines    int
	killed   time.Time
}

// TestB5Churn keeps -b5-churn-containers containers alive and, every second, removes the oldest and starts a new
// one, for -b5-churn-duration; it runs only with -b5-churn.
func TestB5Churn(t *testing.T) {
	benchEnabled(t)
	if !*flagB5Churn {
		t.Skip("the churn soak runs with -b5-churn (30 minutes by default)")
	}
	cli := benchEngine(t)
	n, d := *flagChurnAlive, *flagChurnFor
	prefix := fmt.Sprintf("bench-%d-churn-", time.Now().Unix())
	type live struct {
		name, id string
		since    time.Time
	}
	var alive []live
	// The first ones lived since before startFleet; time.Now() after it would call the oldest one short-lived.
	began := time.Now()
	for name, id := range startFleet(t, cli, prefix, n, nil, "-rate", "5", "-both") {
		alive = append(alive, live{name, id, began})
	}
	defer removeEngineContainers(cli)
	s := startSink(t, true)
	c := startCollector(t, "churn", map[string]string{"DOCKER_HOST": cli.DaemonHost(), "LOKI_ENDPOINT": s.URL,
		"OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")}, shippedConfig(t), writeFile(t, t.TempDir(), "churn.yaml", fmt.Sprintf(churnOverlay, prefix+"*")))
	c.waitHealthy(t)
	var removed []gone
	var samples []churnSample
	const every = 10 * time.Second
	next, nextSample, seq, ops := c.started, c.started.Add(every), 0, 0
	for time.Since(c.started) < d {
		time.Sleep(time.Until(next))
		next = next.Add(time.Second)
		if now := time.Now(); next.Before(now) {
			next = now // behind: the engine takes longer than a second per change; the rate is stated
		}
		old := alive[0]
		alive = alive[1:]
		removed = append(removed, removeCounted(t, cli, old.name, old.id, old.since))
		name := fmt.Sprintf("%s%05d", prefix, n+seq)
		seq++
		alive = append(alive, live{name, startGen(t, cli, name, nil, "-rate", "5", "-both"), time.Now()})
		ops++
		if time.Now().After(nextSample) {
			c.alive(t)
			sm := churnSample{sample: sample{at: time.Since(c.started).Round(time.Second), goroutines: c.goroutines(t), cpu: c.cpu(t), records: s.records.Load()},
				positions: c.metric(t, "otelcol_docker_logs_positions_saved"), unread: c.metricWith(t, "otelcol_docker_logs_gaps", `cause="removed_unread"`), alive: len(alive)}
			sm.fds, _ = procFDs(c.pid)
			sm.rss, _ = procRSS(c.pid)
			samples = append(samples, sm)
			fmt.Printf("%6.0fs removed %5d records %8d goroutines %5d fds %4d rss %6.1f MiB positions %4.0f removed_unread %4.0f\n",
				sm.at.Seconds(), len(removed), sm.records, sm.goroutines, sm.fds, mib(sm.rss), sm.positions, sm.unread)
			nextSample = nextSample.Add(every)
		}
	}
	wall := time.Since(c.started)
	cut := time.Now()
	want := map[string]int{}
	for _, l := range alive {
		want[l.name] = linesUntil(t, cli, l.id, cut)
	}
	eventually(t, 3*time.Minute, time.Second, "every line of the containers alive at the end in the sink", func() (bool, string) {
		c.alive(t)
		missing := 0
		for key, w := range want {
			missing += s.tally(key, 0, w).missing
		}
		return missing == 0, fmt.Sprintf("%d lines missing", missing)
	})
	// A removed container is whole in the sink, or the collector named it in a removed_unread warning.
	time.Sleep(5 * time.Second)
	unreadMetric := c.metricWith(t, "otelcol_docker_logs_gaps", `cause="removed_unread"`)
	c.stop(t)
	logText, _ := os.ReadFile(c.logPath)
	k := churnCounts{warnings: strings.Count(string(logText), `"cause": "removed_unread"`)}
	for _, g := range removed {
		r := s.tally(g.name, 0, g.lines)
		k.lines += g.lines
		k.dups += r.dups
		named := namedUnread(string(logText), g.name)
		switch {
		case g.lived < time.Second:
			k.short++
		case r.missing == 0:
			k.whole++
			if named {
				k.warnedWhole++ // a warning of lines that may be lost, though none were: the counter over-counts
			}
		case named:
			k.counted++
			k.countedLines += r.missing
		default:
			k.lost++
			k.lostLines += r.missing
			t.Errorf("%s %s (lived %v, %d lines, killed %s): %d missing (sequence numbers %s) and no removed_unread warning names it",
				g.name, g.id, g.lived.Round(time.Second), g.lines, g.killed.UTC().Format("15:04:05.000"), r.missing, strings.Join(s.missingSpans(g.name, 0, g.lines), " "))
		}
	}
	var aliveTotal tally
	for key, w := range want {
		r := s.tally(key, 0, w)
		aliveTotal.want, aliveTotal.missing, aliveTotal.dups = aliveTotal.want+r.want, aliveTotal.missing+r.missing, aliveTotal.dups+r.dups
	}
	if k.dups+aliveTotal.dups > 0 {
		t.Errorf("%d lines duplicated", k.dups+aliveTotal.dups)
	}
	id := churnSection(n)
	text := churnReport(cli, id, n, d, wall, ops, removed, samples, k, aliveTotal, unreadMetric)
	setSection(id, text)
	fmt.Print(text)
}

// removeCounted kills a container, reads how many lines it wrote, and removes it, as `docker rm -f` would.
func removeCounted(t *testing.T, cli *client.Client, name, id string, since time.Time) gone {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	killed := time.Now()
	if err := cli.ContainerKill(ctx, id, "KILL"); err != nil {
		t.Fatalf("kill %s: %v", name, err)
	}
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		t.Fatalf("wait %s: %v", name, err)
	}
	_, last := lastLine(t, cli, id)
	if err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
		t.Fatalf("remove %s: %v", name, err)
	}
	return gone{name: name, id: id, lived: time.Since(since), lines: last + 1, killed: killed}
}

// namedUnread reports whether the collector's log holds a removed_unread warning naming the container.
func namedUnread(log, name string) bool {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "removed_unread") && strings.Contains(l, name+`"`) {
			return true
		}
	}
	return false
}

// churnSection names the section of a churn run: B5churn for the target's 50 containers on the default 50 streams,
// a variant of its own otherwise, so that a run with more containers than streams does not replace the target's.
func churnSection(n int) string {
	if n == 50 {
		return "B5churn"
	}
	id := fmt.Sprintf("B5churn_api%dx50", n)
	sectionTitles[id] = fmt.Sprintf("B5' variant: %d containers alive on the default 50 streams, one started and one removed every second", n)
	return id
}

// churnReport renders the B5' section id.
func churnReport(cli *client.Client, id string, n int, d, wall time.Duration, ops int, removed []gone, samples []churnSample,
	k churnCounts, aliveTotal tally, unreadMetric float64) string {
	warm := time.Minute
	var x, g, f, m, p []float64
	for _, s := range samples {
		if s.at < warm {
			continue
		}
		x = append(x, s.at.Minutes())
		g, f, m, p = append(g, float64(s.goroutines)), append(f, float64(s.fds)), append(m, mib(s.rss)), append(p, s.positions)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles[id], runContext(cli))
	if len(x) < 2 {
		b.WriteString("Too short to fit slopes (less than a minute after the warm-up).\n\n")
		return b.String()
	}
	slopes := func(v []float64) (all, med float64, lo, hi float64) {
		mm := minuteMedians(x, v)
		lo, hi = v[0], v[0]
		for _, e := range v {
			lo, hi = min(lo, e), max(hi, e)
		}
		return slope(x, v), slope(mm[0], mm[1]), lo, hi
	}
	gs, gm, glo, ghi := slopes(g)
	fs, fm, flo, fhi := slopes(f)
	ms, mm, mlo, mhi := slopes(m)
	ps, pm, plo, phi := slopes(p)
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| goroutines flat: slope \\|s\\| < 0.1/min | %+.3f/min of per-minute medians, %+.3f/min fit of all samples (%.0f-%.0f) | %s |\n", gm, gs, glo, ghi, yes(gm > -0.1 && gm < 0.1))
	fmt.Fprintf(&b, "| open files flat: slope \\|s\\| < 0.1/min | %+.3f/min of per-minute medians, %+.3f/min fit of all samples (%.0f-%.0f) | %s |\n", fm, fs, flo, fhi, yes(fm > -0.1 && fm < 0.1))
	fmt.Fprintf(&b, "| RSS growth < 1 MiB over 10 minutes | %+.3f MiB/min of per-minute medians, %+.3f MiB/min fit of all samples (%.0f-%.0f MiB) | %s |\n", mm, ms, mlo, mhi, yes(ms*10 < 1))
	fmt.Fprintf(&b, "| `otelcol_docker_logs_positions_saved` flat: slope \\|s\\| < 0.1/min | %+.3f/min of per-minute medians, %+.3f/min fit of all samples (%.0f-%.0f) | %s |\n", pm, ps, plo, phi, yes(pm > -0.1 && pm < 0.1))
	fmt.Fprintf(&b, "| every removed container that lived >= 1 s whole or counted `removed_unread` | %d removed: %d whole (%d of them named in a `removed_unread` warning all the same), %d counted, lacking %d lines (the gaps counter says %.0f, the log has %d warnings), %d neither (%d lines), %d lived < 1 s | %s |\n",
		len(removed), k.whole, k.warnedWhole, k.counted, k.countedLines, unreadMetric, k.warnings, k.lost, k.lostLines, k.short, yes(k.lost == 0))
	fmt.Fprintf(&b, "| (no line twice; the containers alive at the end whole) | removed: %d lines, %d duplicated; alive at the end: %d lines, %d missing, %d duplicated | %s |\n\n",
		k.lines, k.dups, aliveTotal.want, aliveTotal.missing, aliveTotal.dups, yes(k.dups == 0 && aliveTotal.missing == 0 && aliveTotal.dups == 0))
	fmt.Fprintf(&b, "%d containers alive at once, each writing 5 lines/s (stdout and stderr alternately); every second the oldest is\n"+
		"killed, its line count read, and removed (`docker rm -f`), and a new one started, for %v (%d changes in %v: %.2f/s,\n"+
		"the engine's pace on this machine). The shipped configuration with the default pool (50 streams), the collector's log\n"+
		"sampling off (so that no removed_unread warning is dropped in a burst). Sampled every 10 s:\n"+
		"goroutines (pprof), open files (`/proc/PID/fd`), RSS (`VmRSS`), `otelcol_docker_logs_positions_saved` and the\n"+
		"`removed_unread` gaps so far. Slopes are least-squares fits per minute from %v on, of all samples and of each whole\n"+
		"minute's median. A removed container counts as whole when the sink holds each line it wrote once; as counted when\n"+
		"the collector logged a `removed_unread` warning naming it.\n\n", n, d, ops, wall.Round(time.Second), float64(ops)/wall.Seconds(), warm)
	b.WriteString("| t | records | goroutines | open files | RSS | positions saved | removed_unread | collector CPU |\n|---|---|---|---|---|---|---|---|\n")
	for i, s := range samples {
		// A long soak keeps the table readable: one row a minute after the first ten.
		if i >= 10 && i%6 != 5 && i != len(samples)-1 {
			continue
		}
		fmt.Fprintf(&b, "| %v | %d | %d | %d | %.1f MiB | %.0f | %.0f | %.1f s |\n", s.at, s.records, s.goroutines, s.fds, mib(s.rss), s.positions, s.unread, s.cpu.Seconds())
	}
	b.WriteString("\n")
	return b.String()
}
