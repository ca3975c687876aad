package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// Workload of TestShippedPipelineIsDurable: long enough that each crash or outage falls in its middle.
var durableWorkload = workloadSpec{containers: 3, lines: 4000, rate: 200, pauseAfter: 2000} // 20 s per container, paused halfway

// receiverBatch is the receiver's default max_batch_size: records it may have handed over without having saved their position yet.
const receiverBatch = 1000

// shippedExport is what the shipped configuration's otlp_http exporter says about retries and batches.
type shippedExport struct {
	maxElapsed, maxInterval time.Duration
	consumers, batchMax     int
}

// readShippedExport reads the exporter settings of collector-config.yaml.
func readShippedExport(t *testing.T) shippedExport {
	t.Helper()
	var cfg struct {
		Exporters struct {
			OTLPHTTP struct {
				Retry struct {
					MaxElapsed  any `yaml:"max_elapsed_time"`
					MaxInterval any `yaml:"max_interval"`
				} `yaml:"retry_on_failure"`
				Queue struct {
					Consumers int `yaml:"num_consumers"`
					Batch     struct {
						MaxSize int `yaml:"max_size"`
					} `yaml:"batch"`
				} `yaml:"sending_queue"`
			} `yaml:"otlp_http"`
		} `yaml:"exporters"`
	}
	readYAML(t, filepath.Join(distrotest.ModuleRoot(t), "collector-config.yaml"), &cfg)
	e := cfg.Exporters.OTLPHTTP
	duration := func(key string, v any) time.Duration {
		d, err := time.ParseDuration(fmt.Sprint(v))
		if err != nil {
			t.Fatalf("collector-config.yaml: exporters::otlp_http::retry_on_failure::%s: %v", key, err)
		}
		return d
	}
	return shippedExport{
		maxElapsed:  duration("max_elapsed_time", e.Retry.MaxElapsed),
		maxInterval: duration("max_interval", e.Retry.MaxInterval),
		consumers:   e.Queue.Consumers,
		batchMax:    e.Queue.Batch.MaxSize,
	}
}

// inFlight bounds the records a crash can leave sent but not yet known to be sent: the exporter's requests under
// way and the receiver's batches whose position was not saved yet. Only these may arrive twice.
func (e shippedExport) inFlight(containers int) int {
	return e.consumers*e.batchMax + containers*receiverBatch
}

// TestShippedPipelineIsDurable runs bin/otelcol-dockerlogs with the shipped collector-config.yaml, exporting to a
// real log store that can be taken down (HTTP 503), through crashes, restarts and outages: no line is lost, and
// lines arrive twice only where a crash cut a delivery short.
func TestShippedPipelineIsDurable(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	runMake(t, "victoria-logs")
	export := readShippedExport(t)
	vl := startVictoriaLogs(t)
	gate := startStoreGate(t, vl)

	// storeDown takes the store down and waits until the collector has tried it and acknowledged more lines
	// meanwhile: those are only on the collector's disk.
	storeDown := func(t *testing.T, c *shippedCollector, w *workload) {
		t.Helper()
		accepted, _ := c.metric("otelcol_receiver_accepted_log_records", nil)
		refused := gate.refused.Load()
		gate.setDown(true)
		// The second half of the workload is written now: the collector has lines to read on.
		w.resume(t, cli)
		eventually(t, 2*time.Minute, 200*time.Millisecond, "the collector to meet the store down and read on", func() error {
			now, err := c.metric("otelcol_receiver_accepted_log_records", nil)
			if err != nil || gate.refused.Load() < refused+3 || now < accepted+500 {
				return fmt.Errorf("%w: refused %d, accepted %v (%v at the outage)", errNotYet, gate.refused.Load()-refused, now, accepted)
			}
			return nil
		})
	}
	// refusedAgain waits until a restarted collector has offered its queue to the store that is still down.
	refusedAgain := func(t *testing.T) {
		t.Helper()
		refused := gate.refused.Load()
		eventually(t, 2*time.Minute, 200*time.Millisecond, "the restarted collector to meet the store down", func() error {
			if gate.refused.Load() < refused+2 {
				return errNotYet
			}
			return nil
		})
	}

	scenarios := []struct {
		name      string
		crash     bool // duplicates are allowed up to what was in flight
		disturbed func(t *testing.T, c *shippedCollector, w *workload)
	}{
		{"kill -9 while healthy", true, func(t *testing.T, c *shippedCollector, w *workload) {
			w.waitStored(t, vl, w.total()/3, 2*time.Minute)
			c.kill()
			// The second half is written while no collector runs.
			w.resume(t, cli)
			time.Sleep(2 * time.Second)
			c.start()
		}},
		{"store down then kill -9", true, func(t *testing.T, c *shippedCollector, w *workload) {
			w.waitStored(t, vl, w.total()/4, 2*time.Minute)
			storeDown(t, c, w)
			c.kill()
			time.Sleep(2 * time.Second)
			c.start()
			refusedAgain(t)
		}},
		{"store down then graceful restart", false, func(t *testing.T, c *shippedCollector, w *workload) {
			w.waitStored(t, vl, w.total()/4, 2*time.Minute)
			storeDown(t, c, w)
			c.stop()
			c.start()
			refusedAgain(t)
		}},
		{"store down longer than every retry limit", false, func(t *testing.T, c *shippedCollector, w *workload) {
			// A limit would drop what is still queued when it runs out: outlast it, and several of the longest retry intervals.
			outage := max(export.maxElapsed, 2*export.maxInterval) + 5*time.Second
			w.waitStored(t, vl, w.total()/4, 2*time.Minute)
			start := time.Now()
			storeDown(t, c, w)
			time.Sleep(outage - time.Since(start))
			t.Logf("store down for %v (max_elapsed_time %v, max_interval %v), %d posts refused", time.Since(start).Round(time.Second),
				export.maxElapsed, export.maxInterval, gate.refused.Load())
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			c := newShippedCollector(t, cli, gate.URL)
			c.start()
			w := startWorkload(t, cli, durableWorkload)
			sc.disturbed(t, c, w)
			gate.setDown(false)
			w.waitExit(t, cli)
			w.waitStored(t, vl, w.total(), 5*time.Minute)
			tl := w.settle(t, vl)
			bound := 0
			if sc.crash {
				bound = export.inFlight(len(w.names))
			}
			t.Logf("%s: %d containers x %d lines: %v (duplicates allowed: %d)", sc.name, len(w.names), w.lines, tl, bound)
			if tl.lost() > 0 {
				t.Errorf("%d lines lost: %v", tl.lost(), tl.missing)
			}
			if tl.dups > bound {
				t.Errorf("%d duplicates, more than the %d that can be in flight", tl.dups, bound)
			}
		})
	}
}
