package bench

import (
	"fmt"
	"path/filepath"
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
}

// runSteady starts n benchgen containers writing 5 lines/s (stdout and stderr), then the distribution with overlay
// (which must select prefix*), samples it every `every` for d, and waits until the sink holds every line each
// container wrote up to the cut, once. Lags are measured for lines stamped from warmup after the start to the cut.
func runSteady(t *testing.T, cli *client.Client, prefix string, n int, overlay string, d, every, warmup, drain time.Duration) steady {
	t.Helper()
	began := time.Now()
	ids := startFleet(t, cli, prefix, n, nil, "-rate", "5", "-both")
	t.Logf("%d containers started in %v", n, time.Since(began).Round(time.Second))
	s := startSink(t, true)
	c := startCollector(t, "steady", map[string]string{"DOCKER_HOST": cli.DaemonHost(), "LOKI_ENDPOINT": s.URL,
		"OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")}, shippedConfig(t), writeFile(t, t.TempDir(), "steady.yaml", overlay))
	s.measureLag(c.started.Add(warmup), c.started.Add(d))
	c.waitHealthy(t)
	var out steady
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
	cut := c.started.Add(d)
	out.wall = d
	want := map[string]int{}
	for name, id := range ids {
		want[name] = linesUntil(t, cli, id, cut)
	}
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
	c.stop(t)
	if out.total.missing > 0 || out.total.dups > 0 {
		t.Errorf("%d lines: %d missing, %d duplicated", out.total.want, out.total.missing, out.total.dups)
	}
	return out
}
