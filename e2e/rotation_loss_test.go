package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// A container whose json-file keeps about 200 KB (two files of 100 KB, some 1,500 lines) writing 1,000 lines/s:
// Docker deletes its unread lines about 1.5 s after the collector stops reading it.
// It pauses after 3,000 lines and writes the rest once the store is down, so that the outage falls in its writing.
var smallLogWorkload = workloadSpec{containers: 1, lines: 30_000, rate: 1000, logOpts: map[string]string{"max-size": "100k", "max-file": "2"},
	pauseAfter: 3000}

// storeOutage is how long TestDockerRotationDuringAnOutage keeps the store down.
const storeOutage = 20 * time.Second

// TestDockerRotationDuringAnOutage runs the shipped binary and configuration through a 20 s store outage while a
// fast container's small json-file rotates many times: with the disk queue's room the collector reads on and
// nothing is lost; with a queue forced smaller than the outage, reading stops, Docker deletes unread lines, and
// every line the store lacks lies in a span the collector warned of and counted.
func TestDockerRotationDuringAnOutage(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	runMake(t, "victoria-logs")
	vl := startVictoriaLogs(t)
	gate := startStoreGate(t, vl)

	outage := func(t *testing.T, c *shippedCollector, w *workload) {
		t.Helper()
		w.waitStored(t, vl, 2000, 2*time.Minute)
		gate.setDown(true)
		w.resume(t, cli)
		time.Sleep(storeOutage)
		gate.setDown(false)
		w.waitExit(t, cli)
	}

	t.Run("queue with room", func(t *testing.T) {
		c := newShippedCollector(t, cli, gate.URL)
		c.start()
		w := startWorkload(t, cli, smallLogWorkload)
		outage(t, c, w)
		w.waitStored(t, vl, w.total(), 5*time.Minute)
		tl := w.settle(t, vl)
		gaps, _ := c.metric("otelcol_docker_logs_gaps", nil)
		t.Logf("%d lines at 1,000/s into a 200 KB json-file through a %v outage: %v; gaps reported %v", w.total(), storeOutage, tl, gaps)
		if tl.lost() > 0 || tl.dups > 0 || gaps != 0 {
			t.Fatalf("store: %v, gaps reported %v; want every line once and no gap", tl, gaps)
		}
	})

	t.Run("queue smaller than the outage", func(t *testing.T) {
		// 1 MiB holds some 7 s of this container's records (about 150 bytes each): the rest of the outage, reading stops.
		c := newShippedCollector(t, cli, gate.URL, "OTELCOL_QUEUE_BYTES=1048576")
		c.start()
		w := startWorkload(t, cli, smallLogWorkload)
		outage(t, c, w)
		tl := w.settle(t, vl)
		if tl.lost() == 0 {
			t.Fatalf("nothing was lost (%v): the queue did not fill, the test proves nothing", tl)
		}
		if tl.dups > 0 {
			t.Errorf("%d lines stored twice", tl.dups)
		}
		runs := missingRuns(t, vl, w)
		var span time.Duration
		for _, r := range runs {
			span += r.to.Sub(r.from)
		}
		var gaps, duration float64
		eventually(t, time.Minute, 500*time.Millisecond, "the gap metrics", func() error {
			var err error
			if gaps, err = c.metric("otelcol_docker_logs_gaps", map[string]string{"cause": "rotated_away"}); err != nil {
				return fmt.Errorf("%w: %v", errNotYet, err)
			}
			duration, _ = c.metric("otelcol_docker_logs_gap_duration", map[string]string{"cause": "rotated_away"})
			if gaps < 1 {
				return fmt.Errorf("%w: no gap reported, %d missing runs in the store", errNotYet, len(runs))
			}
			return nil
		})
		t.Logf("queue 1 MiB, %v outage: %v in %d missing runs spanning %v; reported %v gaps spanning %.6f s",
			storeOutage, tl, len(runs), span, gaps, duration)
		// Every missing run lies inside a span a warning names: lines of the two outputs interleave, so a run of one
		// output can sit just after the span's end as the other output's first line left gives it (turn.widening).
		spans := gapSpans(t, c.out.String(), w.names[0])
		contained := 0
		for _, r := range runs {
			from, to := r.from, r.to
			if to.Before(from) {
				from, to = to, from
			}
			for _, g := range spans {
				if !from.Before(g.from) && !to.After(g.to) {
					contained++
					break
				}
			}
		}
		if contained != len(runs) || len(spans) == 0 || float64(len(spans)) > gaps {
			for _, r := range runs {
				t.Logf("missing seqs %d-%d between lines stamped %s and %s", r.firstMissing, r.lastMissing,
					r.from.UTC().Format(time.RFC3339Nano), r.to.UTC().Format(time.RFC3339Nano))
			}
			for _, g := range spans {
				t.Logf("collector: gap from %s to %s", g.from.UTC().Format(time.RFC3339Nano), g.to.UTC().Format(time.RFC3339Nano))
			}
			t.Errorf("%d of %d missing runs inside a span a warning names, %d spans warned, %v gaps counted: want each inside one, each counted",
				contained, len(runs), len(spans), gaps)
		}
		// The spans are upper bounds: at least the missing time, at most a margin more each (turn.widening).
		if missed, margin := union(runs).Seconds(), float64(len(spans))*0.5; duration < missed-1e-6 || duration > missed+margin {
			t.Errorf("reported gap duration %.9f s; the store misses lines over %.9f s: want at least that, at most %.1f s more",
				duration, missed, margin)
		}
		out := c.out.String()
		if !strings.Contains(out, w.names[0]) {
			t.Errorf("no log line of the collector names the container %s", w.names[0])
		}
	})
}

// gapSpan is the span of a gap warning.
type gapSpan struct{ from, to time.Time }

// gapWarning picks the span out of a rotated_away warning.
var gapWarning = regexp.MustCompile(`"cause": "rotated_away", "from": "([^"]+)", "to": "([^"]+)"`)

// gapSpans returns the spans of the rotated_away warnings that name the container.
func gapSpans(t *testing.T, out, name string) []gapSpan {
	t.Helper()
	var spans []gapSpan
	for _, line := range strings.Split(out, "\n") {
		m := gapWarning.FindStringSubmatch(line)
		if m == nil || !strings.Contains(line, name) {
			continue
		}
		from, err1 := time.Parse(time.RFC3339Nano, m[1])
		to, err2 := time.Parse(time.RFC3339Nano, m[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("gap warning %q: %v %v", line, err1, err2)
		}
		spans = append(spans, gapSpan{from, to})
	}
	return spans
}

// union is the time the missing runs cover together: runs of the two outputs can overlap.
func union(runs []missingRun) time.Duration {
	var total time.Duration
	var end time.Time
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b missingRun) int { return a.from.Compare(b.from) })
	for _, r := range sorted {
		from := r.from
		if from.Before(end) {
			from = end
		}
		if r.to.After(from) {
			total += r.to.Sub(from)
			end = r.to
		}
	}
	return total
}

// missingRun is a run of consecutive seqs the store lacks, with the timestamps of the stored lines around it.
type missingRun struct {
	firstMissing, lastMissing int
	from, to                  time.Time // the last stored line before the run and the first one after it
}

// missingRuns finds the runs of lines of the workload's one container that the store lacks.
func missingRuns(t *testing.T, vl *victoriaLogs, w *workload) []missingRun {
	t.Helper()
	rows, err := vl.query(fmt.Sprintf(`container.name:%q* | fields _msg, _time`, w.prefix))
	if err != nil {
		t.Fatal(err)
	}
	stamps := map[int]time.Time{}
	for _, row := range rows {
		_, seq, _, err := loggenline.ParseLine(row["_msg"])
		if err != nil {
			t.Fatal(err)
		}
		ts, err := time.Parse(time.RFC3339Nano, row["_time"])
		if err != nil {
			t.Fatalf("record time %q: %v", row["_time"], err)
		}
		stamps[seq] = ts
	}
	seqs := make([]int, 0, len(stamps))
	for seq := range stamps {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	// The receiver's span runs from its newest delivered line to the oldest entry Docker still had: the newest
	// stamp before the run and the oldest after it (stdout and stderr lines can be stamped a little out of order).
	var runs []missingRun
	for i := 1; i < len(seqs); i++ {
		if seqs[i] > seqs[i-1]+1 {
			r := missingRun{firstMissing: seqs[i-1] + 1, lastMissing: seqs[i] - 1, from: stamps[seqs[i-1]], to: stamps[seqs[i]]}
			for _, seq := range seqs[max(i-10, 0):min(i+10, len(seqs))] {
				if seq < r.firstMissing && stamps[seq].After(r.from) {
					r.from = stamps[seq]
				}
				if seq > r.lastMissing && stamps[seq].Before(r.to) {
					r.to = stamps[seq]
				}
			}
			runs = append(runs, r)
		}
	}
	if len(seqs) == 0 || seqs[0] != 0 || seqs[len(seqs)-1] != w.lines-1 {
		t.Fatalf("the store lacks the first or the last line of %s: the loss is not a span between stored lines", w.names[0])
	}
	return runs
}
