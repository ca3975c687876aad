package bench

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
)

const b4Overlay = `
receivers:
  docker_logs:
    start_at: beginning
    max_concurrent_streams: %d
    include:
      names: [%q]
`

// b4Files switches the receiver to the json-file files; the directory is the daemon's own containers directory.
const b4Files = `
    log_files:
      enabled: true
      directory: %q
`

// b4Idle selects no container: what the collector holds with nothing to read.
const b4Idle = `
receivers:
  docker_logs:
    include:
      names: ["no-such-container-*"]
`

// b4Reading is one collector's run of B4.
type b4Reading struct {
	label string
	r     steady
}

// TestB4 runs -b4-containers containers at 5 lines/s each on -b4-streams streams (time_slice at its default, 10 s),
// through the API or with -b4-files from the json-file files; with a baseline, that binary runs first on a fleet of
// its own, then bin/otelcol-dockerlogs.
func TestB4(t *testing.T) {
	benchEnabled(t)
	cli := benchEngine(t)
	streams, files := *flagB4Streams, *flagB4Files
	const slice = 10 * time.Second // the receiver's default time_slice
	n := *flagB4Containers
	// A container waits for the others' turns: ceil(C/N) slices make one cycle, C > N; with C <= N no handover
	// happens. The pool bounds streams on the file path as on the API, so the same formula holds there.
	turns := int(math.Ceil(float64(n) / float64(streams)))
	cycle := time.Duration(turns) * slice
	if n <= streams {
		cycle = 0
	}
	id := b4Section(n, streams, files)
	idle := idleCollector(t, cli)
	var runs []b4Reading
	for i, build := range []baseline{baselineBuild(t), {bin: distBinary(t), label: "bin/otelcol-dockerlogs (this tree)", config: shippedConfig(t)}} {
		if build.bin == "" {
			continue
		}
		label := build.label
		if i == 0 {
			label = "baseline: " + label
		}
		prefix := fmt.Sprintf("bench-%d-many-", time.Now().Unix())
		run := steadyRun{bin: build.bin, config: build.config, name: "b4", overlay: func(ids map[string]string) string {
			o := fmt.Sprintf(b4Overlay, streams, prefix+"*")
			if files {
				o += fmt.Sprintf(b4Files, containersDir(t, cli, ids))
			}
			return o
		}}
		if o := *flagB4Overlay; o != "" {
			if !filepath.IsAbs(o) {
				o = filepath.Join(distrotest.ModuleRoot(t), o)
			}
			run.extra = []string{o}
		}
		if *flagB4Profile > 0 {
			run.profileFor = *flagB4Profile
			run.profilePath = filepath.Join(workDir(t), fmt.Sprintf("%s-%d.pprof", strings.ToLower(id), len(runs)))
		}
		r := runSteadyWith(t, cli, run, prefix, n, *flagB4Duration, 10*time.Second, cycle+10*time.Second, 3*cycle+2*time.Minute)
		runs = append(runs, b4Reading{label: label, r: r})
		if run.profileFor > 0 {
			runs[len(runs)-1].label += fmt.Sprintf(" (profile `.cache/bench/%s`)", filepath.Base(run.profilePath))
		}
	}
	text := b4Report(cli, id, n, streams, files, cycle, idle, runs)
	if *flagB4Profile > 0 {
		text += profileSection(t, filepath.Join(workDir(t), fmt.Sprintf("%s-%d.pprof", strings.ToLower(id), len(runs)-1)), *flagB4Profile)
		text += packageSection(t, filepath.Join(workDir(t), fmt.Sprintf("%s-%d.pprof", strings.ToLower(id), len(runs)-1)))
	}
	setSection(id, text)
	fmt.Print(text)
}

// b4Section names the section of a B4 variant: B4 for the target's 200 containers on 20 streams of the API.
func b4Section(n, streams int, files bool) string {
	path := "api"
	if files {
		path = "files"
	}
	if n == 200 && streams == 20 && !files && *flagB4Overlay == "" {
		return "B4"
	}
	id := fmt.Sprintf("B4_%s%dx%d", path, n, streams)
	if *flagB4Overlay != "" {
		base := strings.TrimSuffix(filepath.Base(*flagB4Overlay), filepath.Ext(*flagB4Overlay))
		id += "_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, base)
		sectionTitles[id] = fmt.Sprintf("B4 variant: %d containers on %d streams, %s, with `%s`", n, streams,
			map[bool]string{false: "through the API", true: "from the json-file files (`log_files`)"}[files], filepath.Base(*flagB4Overlay))
		return id
	}
	sectionTitles[id] = fmt.Sprintf("B4 variant: %d containers on %d streams, %s", n, streams, map[bool]string{false: "through the API", true: "from the json-file files (`log_files`)"}[files])
	return id
}

// containersDir is the daemon's containers directory, from the log path of one of the containers.
func containersDir(t *testing.T, cli *client.Client, ids map[string]string) string {
	t.Helper()
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		info, err := cli.ContainerInspect(ctx, id)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Dir(filepath.Dir(info.LogPath))
	}
	t.Fatal("no container")
	return ""
}

// idleCollector measures the shipped collector selecting no container: the fixed part of its resources.
func idleCollector(t *testing.T, cli *client.Client) sample {
	t.Helper()
	s := startSink(t, false)
	c := startCollector(t, "idle", map[string]string{"DOCKER_HOST": cli.DaemonHost(), "LOKI_ENDPOINT": s.URL,
		"OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")}, shippedConfig(t), writeFile(t, t.TempDir(), "idle.yaml", b4Idle))
	c.waitHealthy(t)
	time.Sleep(10 * time.Second)
	out := sample{at: time.Since(c.started), goroutines: c.goroutines(t), cpu: c.cpu(t)}
	out.fds, _ = procFDs(c.pid)
	out.rss, _ = procRSS(c.pid)
	c.stop(t)
	return out
}

// b4Report renders a B4 section from its runs (the last one is this tree's binary).
func b4Report(cli *client.Client, id string, n, streams int, files bool, cycle time.Duration, idle sample, runs []b4Reading) string {
	r := runs[len(runs)-1].r
	p50, p99, mx := percentile(r.lags, 50)/1e3, percentile(r.lags, 99)/1e3, percentile(r.lags, 100)/1e3
	maxG, maxRSS := 0, int64(0)
	for _, s := range r.samples {
		maxG, maxRSS = max(maxG, s.goroutines), max(maxRSS, s.rss)
	}
	last := r.samples[len(r.samples)-1]
	path := "the API"
	if files {
		path = "the json-file files (`log_files.enabled: true`, the daemon's containers directory)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles[id], runContext(cli))
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| every line once | %d lines: %d missing, %d duplicated | %s |\n", r.total.want, r.total.missing, r.total.dups, yes(r.total.missing == 0 && r.total.dups == 0))
	if cycle > 0 {
		fmt.Fprintf(&b, "| max delivery lag <= 2x the predicted cycle (%v) | max %.1f s (%.2fx), p99 %.1f s, p50 %.1f s | %s |\n\n",
			cycle, mx, mx/cycle.Seconds(), p99, p50, yes(mx <= 2*cycle.Seconds()))
	} else {
		fmt.Fprintf(&b, "| p99 delivery lag <= 2 s (every container followed at once) | p99 %.2f s, p50 %.2f s, max %.2f s | %s |\n\n",
			p99, p50, mx, yes(p99 <= 2))
	}
	fmt.Fprintf(&b, "%d containers writing 5 lines/s each (stdout and stderr alternately, %d lines/s in all), read from %s with\n"+
		"`max_concurrent_streams: %d` and the default `time_slice` (10 s) and `rotation_interval` (5 m), for %v.\n\n",
		n, 5*n, path, streams, *flagB4Duration)
	if cycle > 0 {
		fmt.Fprintf(&b, "**Predicted cycle.** With C containers on N streams and C > N, each stream hands its slot over after `time_slice`,\n"+
			"to the container that waited longest, so every container gets one turn per cycle of ceil(C/N) x `time_slice`\n"+
			"(here ceil(%d/%d) x 10 s = %v); a line waits at most one cycle less its own turn, plus the reopen, the receiver's\n"+
			"`flush_interval` (1 s) and the exporter's batch timeout (200 ms).\n\n", n, streams, cycle)
	} else {
		b.WriteString("With C <= N every container has a stream of its own and no slot is handed over; `rotation_interval` only\n" +
			"closes and reopens a stream at once, so the lag is the reading itself plus the receiver's `flush_interval` (1 s)\n" +
			"and the exporter's batch timeout (200 ms).\n\n")
	}
	fmt.Fprintf(&b, "Lag is the sink's arrival time minus the daemon's timestamp of the line, for the %d lines stamped from one cycle\n"+
		"plus 10 s after the collector's start (when the backlog of the containers' start-up has been read) to the end.\n\n", len(r.lags))
	perC := func(v, base float64) string { return fmt.Sprintf("%.2f", (v-base)/float64(n)) }
	b.WriteString("| collector | at the end | max over the run | idle (no container selected) | per container, net of idle |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| goroutines | %d | %d | %d | %s |\n", last.goroutines, maxG, idle.goroutines, perC(float64(last.goroutines), float64(idle.goroutines)))
	fmt.Fprintf(&b, "| RSS | %.0f MiB | %.0f MiB | %.0f MiB | %s MiB |\n", mib(last.rss), mib(maxRSS), mib(idle.rss), perC(mib(last.rss), mib(idle.rss)))
	fmt.Fprintf(&b, "| open files | %d | | %d | %s |\n", last.fds, idle.fds, perC(float64(last.fds), float64(idle.fds)))
	fmt.Fprintf(&b, "| CPU | %.1f s in %v (%.1f us/line) | | | |\n", last.cpu.Seconds(), r.wall, usPerLine(last.cpu, last.records))
	if r.daemonCPU > 0 {
		fmt.Fprintf(&b, "| dockerd CPU, net of the containers' writing (%.3f CPU-s/s before the collector) | %.1f s in %v (%.1f us/line) | | | |\n",
			r.daemonIdle.Seconds(), r.daemonNet().Seconds(), r.wall, usPerLine(r.daemonNet(), last.records))
	}
	fmt.Fprintf(&b, "| asked of the daemon: log streams opened; lines sent again (a reopen's overlap) | %.0f; %.0f (%.2f and %.2f per 1,000 lines) | | | |\n",
		r.asked.streams, r.asked.again, perThousand(r.asked.streams, last.records), perThousand(r.asked.again, last.records))
	b.WriteString("\n")
	if len(runs) > 1 {
		b.WriteString("**Back to back in this run**, each binary on a fleet of its own (same flags), the baseline first:\n\n")
		b.WriteString("| collector | lines once | max lag | p99 lag | collector CPU/line | dockerd CPU/line (net) | streams opened / 1,000 lines | lines sent again / 1,000 lines | goroutines | RSS | open files |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, x := range runs {
			l := x.r.samples[len(x.r.samples)-1]
			fmt.Fprintf(&b, "| %s | %d (%d missing, %d dup.) | %.1f s | %.1f s | %.1f us | %.1f us | %.2f | %.2f | %d | %.0f MiB | %d |\n", x.label,
				x.r.total.want, x.r.total.missing, x.r.total.dups, percentile(x.r.lags, 100)/1e3, percentile(x.r.lags, 99)/1e3,
				usPerLine(l.cpu, l.records), usPerLine(x.r.daemonNet(), l.records), perThousand(x.r.asked.streams, l.records),
				perThousand(x.r.asked.again, l.records), l.goroutines, mib(l.rss), l.fds)
		}
		a, z := runs[0].r.samples[len(runs[0].r.samples)-1], last
		fmt.Fprintf(&b, "| ratio, this tree / baseline | | | | %.2fx | %.2fx | | | | | |\n\n",
			usPerLine(z.cpu, z.records)/usPerLine(a.cpu, a.records), usPerLine(r.daemonNet(), z.records)/usPerLine(runs[0].r.daemonNet(), a.records))
	}
	return b.String()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func usPerLine(d time.Duration, lines int64) float64 {
	return float64(d.Microseconds()) / float64(max(lines, 1))
}
