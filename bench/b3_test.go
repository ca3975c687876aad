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
			if got["/"+n] < hist {
				return false, n + " not yet"
			}
		}
		return true, ""
	})
	time.Sleep(3 * time.Second)
	c1.stop(t)
	before := ts.maxSeqs()
	const down = 10 * time.Second
	db0 := must(procCPU(daemon))
	time.Sleep(down)
	db1 := must(procCPU(daemon))
	idleRestart := (db1 - db0).Seconds() / down.Seconds()
	ts.watchNew(before)
	dr0 := must(procCPU(daemon))
	c2 := startCollector(t, "b3-after", env, shippedConfig(t), overlay)
	healthy := c2.waitHealthy(t)
	eventually(t, time.Minute, 20*time.Millisecond, "a new line of every container after the restart", func() (bool, string) {
		c2.alive(t)
		f := ts.firstNewLines()
		return len(f) == k, fmt.Sprintf("%d of %d", len(f), k)
	})
	const after = 10 * time.Second
	time.Sleep(time.Until(c2.started.Add(after)))
	dr1 := must(procCPU(daemon))
	restartPerContainer := ((dr1 - dr0).Seconds() - idleRestart*after.Seconds()) / float64(k)
	var firsts []float64
	for _, at := range ts.firstNewLines() {
		firsts = append(firsts, at.Sub(c2.started).Seconds())
	}
	firsts = sortedCopy(firsts)
	var naiveR []time.Duration
	for _, id := range ids {
		naiveR = append(naiveR, naiveReopen(t, cli, daemon, id, time.Now().Add(-down-after)))
	}
	naiveRestart := median(naiveR)
	// Every line from the first delivered to the cut, once, across the restart.
	cut := time.Now()
	want := map[string]int{}
	for n, id := range ids {
		want["/"+n] = linesUntil(t, cli, id, cut)
	}
	eventually(t, 2*time.Minute, 200*time.Millisecond, "every line up to the cut", func() (bool, string) {
		for key, n := range want {
			if r := ts.tally(key, ts.minSeq(key), n); r.missing > 0 {
				return false, fmt.Sprintf("%s missing %d", key, r.missing)
			}
		}
		return true, ""
	})
	c2.stop(t)
	var total tally
	for key, n := range want {
		r := ts.tally(key, ts.minSeq(key), n)
		total.want, total.missing, total.dups = total.want+r.want, total.missing+r.missing, total.dups+r.dups
	}
	fmt.Fprintf(&b, "**Restart.** %d containers, each with %d lines of history, writing 20 lines/s on stdout and stderr.\n"+
		"The collector (`start_at: end`, positions in `file_storage`) read them, was stopped (SIGTERM) for %v while they kept\n"+
		"writing, and started again on the same storage. It answered its health check %.2f s after its process started;\n"+
		"the first new line of each container reached the sink %.2f s (first) to %.2f s (last) after the start (the exporter's\n"+
		"queue batches for up to 1 s, `flush_timeout`). dockerd CPU in the %v after the start: %.2f CPU-s, less %.3f CPU-s/s\n"+
		"measured while the collector was down; a naive `since` reopen of one of these containers: median %v.\n"+
		"Across the restart, %d lines from each container's first delivered line to a cut after it: %d missing, %d duplicated.\n\n",
		k, hist, down, healthy.Seconds(), firsts[0], firsts[len(firsts)-1], after, (dr1 - dr0).Seconds(), idleRestart,
		naiveRestart.Round(time.Millisecond), total.want, total.missing, total.dups)
	rows = append(rows,
		[3]string{"first new line within 0.5 s of the restart", fmt.Sprintf("%.2f s (first container), %.2f s (last)", firsts[0], firsts[len(firsts)-1]), yes(firsts[len(firsts)-1] <= 0.5)},
		[3]string{"dockerd CPU per container after a restart <= 2% of a naive reopen",
			fmt.Sprintf("%.1f ms vs %.0f ms: %.2f%%", restartPerContainer*1e3, naiveRestart.Seconds()*1e3, 100*restartPerContainer/naiveRestart.Seconds()),
			yes(restartPerContainer <= 0.02*naiveRestart.Seconds())},
		[3]string{"(exactly once across the restart)", fmt.Sprintf("%d lines: %d missing, %d duplicated", total.want, total.missing, total.dups), yes(total.missing == 0 && total.dups == 0)})
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
