package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// sample is one reading of the collector's resources during a steady run.
type sample struct {
	at         time.Duration // since the collector's start
	goroutines int
	fds        int
	rss        int64
	cpu        time.Duration
	records    int64
}

// steady is the outcome of a run of many containers writing at a steady rate.
type steady struct {
	containers int
	samples    []sample
	lags       []float64 // ms, sorted
	total      tally
	collector  *collector
	wall       time.Duration // from the collector's start to the cut
	daemonCPU  time.Duration // dockerd's CPU from the collector's start to the cut (0 when not found)
	daemonIdle time.Duration // dockerd's CPU per second with the containers writing and no reader, before the collector
	// asked is what the collector asked of the daemon by the end: log streams opened and lines it sent again.
	asked daemonAsks
}

// daemonAsks is the reading work the collector gave the daemon, which sets the daemon's CPU for it: each log stream
// opened is a request that reads from its since on, and each line sent again (the overlap of a reopen) is read twice.
type daemonAsks struct {
	streams float64 // log streams opened: those closed (otelcol_docker_logs_rotations) and those open at the end
	again   float64 // lines the daemon sent again and the receiver dropped (otelcol_docker_logs_duplicates_dropped)
}

// perThousand is v per 1,000 of lines.
func perThousand(v float64, lines int64) float64 {
	return 1000 * v / float64(max(lines, 1))
}

// daemonNet is the daemon's CPU in the run less what it spends with no reader: its work for the collector.
func (s steady) daemonNet() time.Duration {
	return s.daemonCPU - time.Duration(float64(s.daemonIdle)*s.wall.Seconds())
}

// steadyRun says how runSteadyWith runs: which collector, and whether it profiles it.
type steadyRun struct {
	bin         string        // collector binary; "" is bin/otelcol-dockerlogs
	config      string        // the shipped configuration it runs with; "" is this tree's
	name        string        // the collector's name in logs and messages
	profileFor  time.Duration // CPU profile length (0: none), taken from the warm-up on
	profilePath string
	overlay     func(ids map[string]string) string // the overlay, given the containers by name once started
	extra       []string                           // further configuration files, after the overlay
}

// runSteady starts n benchgen containers writing 5 lines/s (stdout and stderr), then the distribution with overlay
// (which must select prefix*), samples it every `every` for d, and waits until the sink holds every line each
// container wrote up to the cut, once. Lags are measured for lines stamped from warmup after the start to the cut.
func runSteady(t *testing.T, cli *client.Client, prefix string, n int, overlay string, d, every, warmup, drain time.Duration) steady {
	t.Helper()
	return runSteadyWith(t, cli, steadyRun{overlay: func(map[string]string) string { return overlay }}, prefix, n, d, every, warmup, drain)
}

// openGates sends SIGUSR1 to benchgen containers started with -gate, a few at a time.
func openGates(t *testing.T, cli *client.Client, ids map[string]string) {
	t.Helper()
	var mu sync.Mutex
	var failed []string
	g := fewAtATime()
	for name, id := range ids {
		g.Go(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := cli.ContainerKill(ctx, id, "USR1"); err != nil {
				mu.Lock()
				failed = append(failed, name+": "+err.Error())
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if len(failed) > 0 {
		t.Fatalf("SIGUSR1 to %d containers failed: %v", len(failed), failed[0])
	}
}

// linesUntilAll is linesUntil of many containers, a few at a time (hundreds one by one take minutes on a loaded engine).
func linesUntilAll(t *testing.T, cli *client.Client, ids map[string]string, until time.Time) map[string]int {
	t.Helper()
	want := map[string]int{}
	var mu sync.Mutex
	g := fewAtATime()
	for name, id := range ids {
		g.Go(func() error {
			n, err := countLines(cli, id, until)
			mu.Lock()
			defer mu.Unlock()
			want[name] = n
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return want
}

// runSteadyWith is runSteady with the collector and overlay of run; the containers are removed at the end.
func runSteadyWith(t *testing.T, cli *client.Client, run steadyRun, prefix string, n int, d, every, warmup, drain time.Duration) steady {
	t.Helper()
	began := time.Now()
	// The containers write nothing until all have started (a fleet of hundreds takes minutes to start on a loaded
	// engine, and the backlog of the first ones would be read in the first cycle, inflating its lags).
	ids := startFleet(t, cli, prefix, n, nil, "-rate", "5", "-both", "-gate")
	defer removeEngineContainers(cli)
	t.Logf("%d containers started in %v", n, time.Since(began).Round(time.Second))
	openGates(t, cli, ids)
	t.Logf("%d containers writing after %v", n, time.Since(began).Round(time.Second))
	bin, name := run.bin, run.name
	if bin == "" {
		bin = distBinary(t)
	}
	if name == "" {
		name = "steady"
	}
	config := run.config
	if config == "" {
		config = shippedConfig(t)
	}
	daemon, derr := daemonPID(cli.DaemonHost())
	var out steady
	if derr == nil {
		// What the daemon spends with no reader (the containers' writing into their logs), over 10 s.
		i0, _ := procCPU(daemon)
		time.Sleep(10 * time.Second)
		i1, _ := procCPU(daemon)
		out.daemonIdle = (i1 - i0) / 10
	}
	s := startSink(t, true)
	c := startCollectorBin(t, bin, name, map[string]string{"DOCKER_HOST": cli.DaemonHost(), "LOKI_ENDPOINT": s.URL,
		"OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")}, append([]string{config, writeFile(t, t.TempDir(), "steady.yaml", run.overlay(ids))}, run.extra...)...)
	var d0 time.Duration
	if derr == nil {
		d0, _ = procCPU(daemon)
	}
	s.measureLag(c.started.Add(warmup), c.started.Add(d))
	c.waitHealthy(t)
	profiled := make(chan error, 1)
	if run.profileFor > 0 {
		at := max(10*time.Second, min(warmup, d-run.profileFor))
		go func() {
			time.Sleep(time.Until(c.started.Add(at)))
			profiled <- c.profile(run.profileFor, run.profilePath)
		}()
	}
	out.containers, out.collector = n, c
	for next := every; next <= d; next += every {
		time.Sleep(time.Until(c.started.Add(next)))
		c.alive(t)
		sm := sample{at: next, goroutines: c.goroutines(t), cpu: c.cpu(t), records: s.records.Load()}
		sm.fds, _ = procFDs(c.pid)
		sm.rss, _ = procRSS(c.pid)
		out.samples = append(out.samples, sm)
		fmt.Printf("%6.0fs records %8d goroutines %5d fds %4d rss %6.1f MiB cpu %6.1fs\n", next.Seconds(), sm.records, sm.goroutines, sm.fds,
			float64(sm.rss)/(1<<20), sm.cpu.Seconds())
	}
	if derr == nil {
		d1, _ := procCPU(daemon)
		out.daemonCPU = d1 - d0
	}
	cut := c.started.Add(d)
	out.wall = d
	want := linesUntilAll(t, cli, ids, cut)
	eventually(t, drain, time.Second, "every line up to the cut in the sink", func() (bool, string) {
		c.alive(t)
		missing := 0
		for key, w := range want {
			missing += s.tally(key, 0, w).missing
		}
		return missing == 0, fmt.Sprintf("%d lines missing", missing)
	})
	for key, w := range want {
		r := s.tally(key, 0, w)
		out.total.want, out.total.missing, out.total.dups = out.total.want+r.want, out.total.missing+r.missing, out.total.dups+r.dups
	}
	out.lags = s.lagsMS()
	if run.profileFor > 0 {
		if err := <-profiled; err != nil {
			t.Errorf("profile: %v", err)
		}
	}
	out.asked = daemonAsks{streams: c.metric(t, "otelcol_docker_logs_rotations") + c.metric(t, "otelcol_docker_logs_streams_open"),
		again: c.metric(t, "otelcol_docker_logs_duplicates_dropped")}
	c.stop(t)
	if out.total.missing > 0 || out.total.dups > 0 {
		t.Errorf("%d lines: %d missing, %d duplicated", out.total.want, out.total.missing, out.total.dups)
	}
	return out
}
