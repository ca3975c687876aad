package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// workload is a set of loggen containers writing sequence-numbered lines on stdout and stderr.
type workload struct {
	prefix string // every container's name starts with it
	names  []string
	ids    []string
	lines  int // per container
}

// workloadSpec says how many containers write how many lines at what rate, with which log options.
type workloadSpec struct {
	containers int
	lines      int
	rate       int
	logOpts    map[string]string
	// pauseAfter, when positive, stops each container after that many lines until resume: what the test does
	// meanwhile then falls in the middle of the writing, however slow the machine.
	pauseAfter int
}

// startWorkload starts the containers; they are removed when the test ends.
func startWorkload(t *testing.T, cli *client.Client, spec workloadSpec) *workload {
	t.Helper()
	w := &workload{prefix: runName(t), lines: spec.lines}
	cmd := []string{"-count", strconv.Itoa(spec.lines), "-rate", strconv.Itoa(spec.rate), "-streams", "both"}
	if spec.pauseAfter > 0 {
		cmd = append(cmd, "-pause-after", strconv.Itoa(spec.pauseAfter))
	}
	for i := range spec.containers {
		name := fmt.Sprintf("%sgen-%d", w.prefix, i)
		w.names = append(w.names, name)
		w.ids = append(w.ids, dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: name, Cmd: cmd, LogOpts: spec.logOpts}))
	}
	return w
}

// resume ends the pause of a workload started with pauseAfter: its containers write the rest.
func (w *workload) resume(t *testing.T, cli *client.Client) {
	t.Helper()
	for i, id := range w.ids {
		resumeLoggen(t, cli, id, w.names[i])
	}
}

// resumeLoggen ends the -pause-after pause of one loggen container.
func resumeLoggen(t *testing.T, cli *client.Client, id, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cli.ContainerKill(ctx, id, "SIGUSR1"); err != nil {
		t.Fatalf("resume %s: %v", name, err)
	}
}

// total is the number of lines the workload writes.
func (w *workload) total() int {
	return len(w.names) * w.lines
}

// waitExit waits until every container has written its lines and exited.
func (w *workload) waitExit(t *testing.T, cli *client.Client) {
	t.Helper()
	for i, id := range w.ids {
		if code := dockertest.WaitExit(t, cli, id, 10*time.Minute); code != 0 {
			t.Fatalf("%s exited with %d", w.names[i], code)
		}
	}
}

// tally is what the store holds of a workload.
type tally struct {
	records  int            // records of the workload's containers
	distinct int            // distinct (container, seq) among them
	missing  map[string]int // per container, lines not in the store
	dups     int            // records beyond the first of each (container, seq)
}

// lost is the number of lines of the workload the store does not hold.
func (tl tally) lost() int {
	n := 0
	for _, m := range tl.missing {
		n += m
	}
	return n
}

func (tl tally) String() string {
	return fmt.Sprintf("%d records, %d distinct lines, %d lost, %d duplicated", tl.records, tl.distinct, tl.lost(), tl.dups)
}

// count reads the store's records of the workload's containers and checks each body against its output.
func (w *workload) count(t *testing.T, vl *victoriaLogs) (tally, error) {
	t.Helper()
	rows, err := vl.query(fmt.Sprintf(`container.name:%q*`, w.prefix))
	if err != nil {
		return tally{}, err
	}
	seen := map[string]map[int]int{}
	for _, name := range w.names {
		seen[name] = map[int]int{}
	}
	tl := tally{missing: map[string]int{}}
	for _, row := range rows {
		lines, ok := seen[row["container.name"]]
		if !ok {
			if strings.HasPrefix(row["container.name"], w.prefix) {
				t.Fatalf("record from a container this workload did not start: %v", row)
			}
			continue
		}
		_, seq, stream, err := loggenline.ParseLine(row["_msg"])
		if err != nil {
			t.Fatalf("record body: %v", err)
		}
		if stream != row["log.iostream"] {
			t.Fatalf("line of %s carries log.iostream=%q: %v", stream, row["log.iostream"], row)
		}
		if seq < 0 || seq >= w.lines {
			t.Fatalf("seq %d out of the workload's range: %v", seq, row)
		}
		tl.records++
		if lines[seq]++; lines[seq] == 1 {
			tl.distinct++
		} else {
			tl.dups++
		}
	}
	for name, lines := range seen {
		tl.missing[name] = w.lines - len(lines)
	}
	return tl, nil
}

// waitStored waits until the store holds at least n distinct lines of the workload.
func (w *workload) waitStored(t *testing.T, vl *victoriaLogs, n int, timeout time.Duration) tally {
	t.Helper()
	var tl tally
	eventually(t, timeout, time.Second, fmt.Sprintf("%d distinct lines of %s* in the store", n, w.prefix), func() error {
		var err error
		if tl, err = w.count(t, vl); err != nil {
			return fmt.Errorf("%w: %v", errNotYet, err)
		}
		if tl.distinct < n {
			return fmt.Errorf("%w: %v", errNotYet, tl)
		}
		return nil
	})
	return tl
}

// settle waits until the workload's record count has not changed for a few seconds, and returns the final tally.
func (w *workload) settle(t *testing.T, vl *victoriaLogs) tally {
	t.Helper()
	const quiet = 4 * time.Second
	last, since := -1, time.Now()
	var tl tally
	eventually(t, 2*time.Minute, time.Second, "the store's count to settle", func() error {
		var err error
		if tl, err = w.count(t, vl); err != nil {
			return fmt.Errorf("%w: %v", errNotYet, err)
		}
		if tl.records != last {
			last, since = tl.records, time.Now()
			return errNotYet
		}
		if time.Since(since) < quiet {
			return errNotYet
		}
		return nil
	})
	return tl
}
