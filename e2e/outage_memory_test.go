package e2e

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// rssBound is the resident memory the shipped collector stays under while 50 containers write through a long
// store outage: what it reads goes to the disk queue, not to memory.
const rssBound = 256 << 20

// TestLongOutageManyContainers runs the shipped binary and configuration while 50 containers write 5 lines/s
// each through a store outage of DOCKERLOGS_OUTAGE (5m): the collector's memory stays bounded, and once the store
// is back every line arrives, once.
func TestLongOutageManyContainers(t *testing.T) {
	skipShort(t)
	outage := 5 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("DOCKERLOGS_OUTAGE")); err == nil {
		outage = d
	}
	cli := dockertest.Engine(t)
	runMake(t, "victoria-logs")
	vl := startVictoriaLogs(t)
	gate := startStoreGate(t, vl)
	c := newShippedCollector(t, cli, gate.URL)
	c.start()

	// The containers write for the whole outage and some 40 s around it: they pause after 60 lines each and write
	// the rest from the start of the outage, however long reaching it took.
	const containers, rate = 50, 5
	spec := workloadSpec{containers: containers, rate: rate, lines: rate * int((outage + 40*time.Second).Seconds()), pauseAfter: 60}
	w := startWorkload(t, cli, spec)

	var mu sync.Mutex
	var peak, samples int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if rss, err := c.rss(); err == nil {
				mu.Lock()
				peak, samples = max(peak, rss), samples+1
				mu.Unlock()
			}
		}
	}()

	w.waitStored(t, vl, 2000, 2*time.Minute)
	gate.setDown(true)
	w.resume(t, cli)
	time.Sleep(outage)
	gate.setDown(false)
	w.waitExit(t, cli)
	w.waitStored(t, vl, w.total(), 10*time.Minute)
	tl := w.settle(t, vl)
	close(stop)
	<-sampled
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d containers x %d lines at %d lines/s through a %v outage (%d posts refused): %v; collector RSS peak %.1f MiB over %d samples (bound %d MiB)",
		containers, w.lines, rate, outage, gate.refused.Load(), tl, float64(peak)/(1<<20), samples, rssBound>>20)
	if tl.lost() > 0 || tl.dups > 0 {
		t.Errorf("store: %v; want every line once", tl)
	}
	if peak > rssBound {
		t.Errorf("collector RSS peaked at %.1f MiB, above the %d MiB bound", float64(peak)/(1<<20), rssBound>>20)
	}
	if samples < 10 {
		t.Errorf("only %d RSS samples: the bound was hardly checked", samples)
	}
}
