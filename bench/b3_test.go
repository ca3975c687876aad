package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// b3Rotation makes the receiver rotate the history container's stream every second.
const b3Rotation = `
receivers:
  docker_logs:
    start_at: end
    rotation_interval: 1s
    include:
      names: [%q]
`

// b3Restart reads the restart containers, each from its newest line at the first start.
const b3Restart = `
receivers:
  docker_logs:
    start_at: end
    include:
      names: [%q]
`

// naiveReopen is what a reader without a bounded tail does to resume: `since` its position, non-following;
// it returns the daemon CPU the request cost.
func naiveReopen(t *testing.T, cli *client.Client, daemon int, id string, since time.Time) time.Duration {
	t.Helper()
	d0, _ := procCPU(daemon)
	rc, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true,
		Since: strconv.FormatInt(since.Unix(), 10) + "." + fmt.Sprintf("%09d", since.Nanosecond())})
	if err != nil {
		t.Fatal(err)
	}
	_, err = stdcopy.StdCopy(io.Discard, io.Discard, rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := procCPU(daemon)
	return d1 - d0
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestB3 measures the daemon's CPU per planned rotation on the history container against a naive `since` reopen,
// and a collector restart with saved positions while -b3-containers containers keep writing.
func TestB3(t *testing.T) {
	benchEnabled(t)
	cli := benchEngine(t)
	daemon, err := daemonPID(cli.DaemonHost())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["B3"], runContext(cli))
	rows := [][3]string{}

	// Planned rotations on the history container.
	id, name, _ := historyContainer(t, cli)
	last, _ := lastLine(t, cli, id)
	var naive []time.Duration
	for range 3 {
		naive = append(naive, naiveReopen(t, cli, daemon, id, last))
	}
	naiveCPU := median(naive)
	b0, _ := procCPU(daemon)
	time.Sleep(10 * time.Second)
	b1, _ := procCPU(daemon)
	idle := (b1 - b0).Seconds() / 10 // daemon CPU per second with no reader: the container's own writing and others' use
	s := startSink(t, false)
	c := startCollector(t, "b3-rotation", map[string]string{"DOCKER_HOST": cli.DaemonHost(), "LOKI_ENDPOINT": s.URL,
		"OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")}, shippedConfig(t), writeFile(t, t.TempDir(), "rot.yaml", fmt.Sprintf(b3Rotation, name)))
	c.waitHealthy(t)
	time.Sleep(3 * time.Second)
	const window = 20 * time.Second
	r0, d0 := c.metric(t, "otelcol_docker_logs_rotations"), must(procCPU(daemon))
	time.Sleep(window)
	r1, d1 := c.metric(t, "otelcol_docker_logs_rotations"), must(procCPU(daemon))
	c.stop(t)
	rotations := r1 - r0
	if rotations <= 0 {
		t.Fatalf("no rotations counted in %v (otelcol_docker_logs_rotations %v -> %v)", window, r0, r1)
	}
	perRotation := ((d1 - d0).Seconds() - idle*window.Seconds()) / rotations
	fmt.Fprintf(&b, "**Planned rotations.** The history container of B1 (%d lines, still writing 10 lines/s), read with\n"+
		"`rotation_interval: 1s` for %v: %.0f rotations, dockerd %.2f CPU-s in that window against %.3f CPU-s/s\n"+
		"measured with no reader (the container's own writing and the engine's background). A naive reopen, `since`\n"+
		"the newest line's timestamp (non-following; median of 3: %v), is what a reader without a bounded tail pays at\n"+
		"each rotation.\n\n", *flagLines, window, rotations, (d1 - d0).Seconds(), idle, fmtDurs(naive))
	rows = append(rows, [3]string{"dockerd CPU per planned rotation <= 2% of a naive reopen",
		fmt.Sprintf("%.1f ms vs %.0f ms: %.2f%%", perRotation*1e3, naiveCPU.Seconds()*1e3, 100*perRotation/naiveCPU.Seconds()),
		yes(perRotation <= 0.02*naiveCPU.Seconds())})

	// A restart with saved positions while the containers keep writing.
	k, hist := *flagB3Containers, *flagB3History
	prefix := fmt.Sprintf("bench-%d-restart-", time.Now().Unix())
	ids := startFleet(t, cli, prefix, k, nil, "-burst", strconv.Itoa(hist), "-size", "100", "-rate", "20", "-both")
	eventually(t, 20*time.Minute, time.Second, "the restart containers' histories", func() (bool, string) {
		for n, id := range ids {
			if _, seq := lastLine(t, cli, id); seq < hist {
				return false, fmt.Sprintf("%s at seq %d", n, seq)
			}
		}
		return true, ""
	})
	storage := filepath.Join(t.TempDir(), "storage")
	overlay := writeFile(t, t.TempDir(), "restart.yaml", fmt.Sprintf(b3Restart, prefix+"*"))
	env := map[string]string{"DOCKER_HOST": cli.DaemonHost(), "OTELCOL_STORAGE_DIR": storage}
	ts := startSink(t, true)
	env["LOKI_ENDPOINT"] = ts.URL
	c1 := startCollector(t, "b3-before", env, shippedConfig(t), overlay)
	eventually(t, 2*time.Minute, 200*time.Millisecond, "every restart container read", func() (bool, string) {
		c1.alive(t)
		got := ts.maxSeqs()
		for n := range ids {
			if got[n] < hist {
				return false, n + " not yet"
			}
		}
		return true, ""
	})
	// The daemon's CPU while the collector follows the containers: what reading them costs in a steady state.
	const steadyFor = 5 * time.Second
	ds0 := must(procCPU(daemon))
	time.Sleep(steadyFor)
	steadyRate := (must(procCPU(daemon)) - ds0).Seconds() / steadyFor.Seconds()
	c1.stop(t)
	const down = 10 * time.Second
	const after = 10 * time.Second
	// restart stops nothing: it waits `down` (the collector is stopped), starts the collector on the same storage
	// with overlays, and returns when it answered, when each container's first new line arrived, and the daemon's
	// CPU over the first `after` from its start and over the downtime.
	restart := func(name string, overlays ...string) (*collector, time.Duration, []float64, time.Duration, float64) {
		before := ts.maxSeqs()
		db0 := must(procCPU(daemon))
		time.Sleep(down)
		idle := (must(procCPU(daemon)) - db0).Seconds() / down.Seconds()
		ts.watchNew(before)
		dr0 := must(procCPU(daemon))
		c := startCollector(t, name, env, append([]string{shippedConfig(t), overlay}, overlays...)...)
		healthy := c.waitHealthy(t)
		eventually(t, time.Minute, 20*time.Millisecond, "a new line of every container after the restart", func() (bool, string) {
			c.alive(t)
			f := ts.firstNewLines()
			return len(f) == k, fmt.Sprintf("%d of %d", len(f), k)
		})
		time.Sleep(time.Until(c.started.Add(after)))
		dcpu := must(procCPU(daemon)) - dr0
		var firsts []float64
		for _, at := range ts.firstNewLines() {
			firsts = append(firsts, at.Sub(c.started).Seconds())
		}
		return c, healthy, sortedCopy(firsts), dcpu, idle
	}
	c2, healthy, firsts, dcpu, idleRestart := restart("b3-after")
	c2.stop(t)
	restartPerContainer := (dcpu.Seconds() - idleRestart*after.Seconds()) / float64(k)
	restartOverSteady := (dcpu.Seconds() - steadyRate*after.Seconds()) / float64(k)
	// Again with the exporter's batch timeout at 10 ms, to tell the receiver's part of the first line's delay from the queue's.
	fast := writeFile(t, t.TempDir(), "fast.yaml", "exporters:\n  otlp_http:\n    sending_queue:\n      batch:\n        flush_timeout: 10ms\n")
	c3, healthy3, firsts3, _, _ := restart("b3-after-fast-flush", fast)
	var naiveR []time.Duration
	for _, id := range ids {
		naiveR = append(naiveR, naiveReopen(t, cli, daemon, id, time.Now().Add(-down-after)))
	}
	naiveRestart := median(naiveR)
	// Every line from the first delivered to the cut, once, across both restarts.
	cut := time.Now()
	want := map[string]int{}
	for n, id := range ids {
		want[n] = linesUntil(t, cli, id, cut)
	}
	eventually(t, 2*time.Minute, 200*time.Millisecond, "every line up to the cut", func() (bool, string) {
		for key, n := range want {
			if r := ts.tally(key, ts.minSeq(key), n); r.missing > 0 {
				return false, fmt.Sprintf("%s missing %d", key, r.missing)
			}
		}
		return true, ""
	})
	c3.stop(t)
	var total tally
	for key, n := range want {
		r := ts.tally(key, ts.minSeq(key), n)
		total.want, total.missing, total.dups = total.want+r.want, total.missing+r.missing, total.dups+r.dups
	}
	fmt.Fprintf(&b, "**Restart.** %d containers, each with %d lines of history, writing 20 lines/s on stdout and stderr.\n"+
		"The collector (`start_at: end`, positions in `file_storage`) read them, was stopped (SIGTERM) for %v while they kept\n"+
		"writing, and started again on the same storage. It answered its health check %.2f s after its process started;\n"+
		"the first new line of each container reached the sink %.2f s (first) to %.2f s (last) after the start. The exporter's\n"+
		"queue waits up to its `flush_timeout` (200 ms) for 2,048 records, which 100 lines/s never fill: restarted once more with\n"+
		"`flush_timeout: 10ms`, it answered after %.2f s and the first new lines arrived after %.2f s to %.2f s.\n\n"+
		"dockerd CPU in the %v after the (first) restart: %.2f CPU-s. Less %.3f CPU-s/s measured while the collector was down,\n"+
		"that is %.1f ms per container; less %.3f CPU-s/s measured while the collector was following the same containers\n"+
		"before the stop (what reading 100 lines/s costs the daemon anyway), %.1f ms per container. A naive `since` reopen\n"+
		"of one of these containers: median %v.\n"+
		"Across both restarts, %d lines from each container's first delivered line to a cut after them: %d missing, %d duplicated.\n\n",
		k, hist, down, healthy.Seconds(), firsts[0], firsts[len(firsts)-1], healthy3.Seconds(), firsts3[0], firsts3[len(firsts3)-1],
		after, dcpu.Seconds(), idleRestart, restartPerContainer*1e3, steadyRate, restartOverSteady*1e3,
		naiveRestart.Round(time.Millisecond), total.want, total.missing, total.dups)
	rows = append(rows,
		[3]string{"first new line within 0.5 s of the restart", fmt.Sprintf("%.2f s (first container), %.2f s (last); %.2f-%.2f s with `flush_timeout: 10ms`",
			firsts[0], firsts[len(firsts)-1], firsts3[0], firsts3[len(firsts3)-1]), yes(firsts[len(firsts)-1] <= 0.5)},
		[3]string{"dockerd CPU per container after a restart <= 2% of a naive reopen",
			fmt.Sprintf("%.1f ms vs %.0f ms: %.2f%% (net of idle); %.1f ms: %.2f%% (net of steady reading)", restartPerContainer*1e3, naiveRestart.Seconds()*1e3,
				100*restartPerContainer/naiveRestart.Seconds(), restartOverSteady*1e3, 100*restartOverSteady/naiveRestart.Seconds()),
			yes(restartPerContainer <= 0.02*naiveRestart.Seconds())},
		[3]string{"(exactly once across the restarts)", fmt.Sprintf("%d lines: %d missing, %d duplicated", total.want, total.missing, total.dups), yes(total.missing == 0 && total.dups == 0)})
	var tb strings.Builder
	tb.WriteString("| target | measured | met |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&tb, "| %s | %s | %s |\n", r[0], r[1], r[2])
	}
	setSection("B3", strings.Replace(b.String(), "\n\n**Planned", "\n\n"+tb.String()+"\n**Planned", 1))
	fmt.Print(tb.String(), b.String())
	if total.missing > 0 || total.dups > 0 {
		t.Errorf("across the restart: %d missing, %d duplicated of %d lines", total.missing, total.dups, total.want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func fmtDurs(d []time.Duration) string {
	var s []string
	for _, x := range d {
		s = append(s, fmt.Sprintf("%.2f", x.Seconds()))
	}
	return strings.Join(s, ", ") + " CPU-s"
}
