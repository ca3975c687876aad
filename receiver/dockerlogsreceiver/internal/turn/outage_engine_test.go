package turn

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// outageSink accepts batches while up and blocks them, as a full exporter queue does, while down.
type outageSink struct {
	mu    sync.Mutex
	up    chan struct{}
	lines []Line
	// perLine, while set, is how long accepting each line of a batch takes: a pipeline slower than the writer.
	perLine time.Duration
}

// setSlow makes each batch take perLine for each of its lines before it is accepted (0: at once).
func (s *outageSink) setSlow(perLine time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perLine = perLine
}

func newOutageSink() *outageSink {
	s := &outageSink{up: make(chan struct{})}
	close(s.up)
	return s
}

// setDown makes every later batch wait until setDown(false).
func (s *outageSink) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.up:
		if down {
			s.up = make(chan struct{})
		}
	default:
		if !down {
			close(s.up)
		}
	}
}

func (s *outageSink) deliver(ctx context.Context, lines []Line) error {
	s.mu.Lock()
	up, slow := s.up, s.perLine*time.Duration(len(lines))
	s.mu.Unlock()
	select {
	case <-up:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-time.After(slow):
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, lines...)
	return nil
}

// has reports whether the line seq was delivered; unlike stamps, it may be called off the test's goroutine.
func (s *outageSink) has(seq int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if _, n, _, err := loggenline.ParseLine(l.Body); err == nil && n == seq {
			return true
		}
	}
	return false
}

// stamps returns the delivered lines' timestamps by seq, and how many lines were delivered twice.
func (s *outageSink) stamps(t *testing.T) (map[int]int64, int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	got, dups := map[int]int64{}, 0
	for _, l := range s.lines {
		_, seq, _, err := loggenline.ParseLine(l.Body)
		require.NoError(t, err)
		if _, ok := got[seq]; ok {
			dups++
		}
		got[seq] = l.Timestamp
	}
	return got, dups
}

// TestEngineOutageAcrossRotationsLosesNothingSilently runs turns, as the pool does, over a container writing 1,000
// lines/s into a json-file of two 100 KB files while the consumer blocks every batch for 15 s: Docker deletes lines
// meanwhile, and every missing run of lines lies inside a reported gap; none is delivered twice.
func TestEngineOutageAcrossRotationsLosesNothingSilently(t *testing.T) {
	engineOutage(t, outagePlan{maxFile: "2", outage: 15 * time.Second, slow: 10 * time.Second, perLine: 1500 * time.Microsecond})
}

// TestEngineSlowPipelineAcrossRotationsLosesNothingSilently has the consumer accept more slowly than the container
// writes, from the start, into three 100 KB files: the daemon's follower falls behind again and again.
func TestEngineSlowPipelineAcrossRotationsLosesNothingSilently(t *testing.T) {
	engineOutage(t, outagePlan{maxFile: "3", slow: 20 * time.Second, perLine: 1200 * time.Microsecond})
}

// outagePlan is what the consumer does once 2,000 lines were delivered: block for outage, then take perLine for
// each line for slow.
type outagePlan struct {
	maxFile      string
	outage, slow time.Duration
	perLine      time.Duration
}

// engineOutage runs turns over a fast container of a small json-file through plan, and checks that every line is
// delivered at most once and that each one missing lies in a reported gap.
func engineOutage(t *testing.T, plan outagePlan) {
	cli := dockertest.Engine(t)
	const lines = 25000
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{
		LogOpts: map[string]string{"max-size": "100k", "max-file": plan.maxFile},
		Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both", "-pause-after", "3000"}})
	dc, err := docker.NewClient(docker.Settings{Endpoint: cli.DaemonHost(), Timeout: 30 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = dc.Close() })
	open := func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) { return dc.Logs(ctx, id, req) }

	s := newOutageSink()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gaps []Gap
	var outs []Outcome
	var mu sync.Mutex
	turns := make(chan struct{})
	go func() {
		defer close(turns)
		cur := checkpoint.Cursor{}
		for ctx.Err() == nil {
			yield := make(chan pool.Reason, 1)
			timer := time.AfterFunc(3*time.Second, func() { yield <- pool.ReasonPlanned })
			out := Run(ctx, Spec{Open: open, Deliver: s.deliver, Cursor: cur, TailHint: MinTail, Driver: "json-file",
				MaxLineBytes: 16 * 1024, MaxBatch: 500, FlushInterval: 50 * time.Millisecond, StallLimit: time.Second,
				LagLimit: time.Second, LogFileSize: 100_000}, yield)
			timer.Stop()
			cur = out.Cursor
			mu.Lock()
			gaps = append(gaps, out.Gaps...)
			outs = append(outs, out)
			mu.Unlock()
			if out.End == EndOpenFailed || out.End == EndReadFailed {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	waitUntil(t, "2,000 lines delivered", func() bool { got, _ := s.stamps(t); return len(got) >= 2000 })
	s.setDown(plan.outage > 0)
	require.NoError(t, cli.ContainerKill(ctx, id, "USR1"))
	time.Sleep(plan.outage)
	// Then slower than the writer for a while, as a queue draining its backlog.
	s.setSlow(plan.perLine)
	s.setDown(false)
	time.Sleep(plan.slow)
	s.setSlow(0)
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	waitUntil(t, "the last line delivered", func() bool { got, _ := s.stamps(t); _, ok := got[lines-1]; return ok })
	cancel()
	<-turns

	got, dups := s.stamps(t)
	seqs := make([]int, 0, len(got))
	for seq := range got {
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	mu.Lock()
	defer mu.Unlock()
	silent, missing := 0, 0
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1]+1 {
			continue
		}
		from, to := got[seqs[i-1]], got[seqs[i]]
		n := seqs[i] - seqs[i-1] - 1
		missing += n
		// The outputs interleave: the lines around a run of one output's lines are the other's, stamped up to the
		// inversion margin apart from it (the gaps themselves are exact: TestRunWidensAGapToTheOtherOutputsFirstLine).
		covered := false
		for _, g := range gaps {
			if g.From-checkpoint.InversionMargin <= from && g.To+checkpoint.InversionMargin >= to {
				covered = true
			}
		}
		t.Logf("missing seqs %d-%d (%d) between %s and %s, reported: %v", seqs[i-1]+1, seqs[i]-1, n,
			time.Unix(0, from).UTC().Format(time.RFC3339Nano), time.Unix(0, to).UTC().Format(time.RFC3339Nano), covered)
		if !covered {
			silent += n
		}
	}
	var behind, stalls, jumps int
	for _, o := range outs {
		behind, stalls, jumps = behind+o.FellBehind, stalls+o.Stalls, jumps+o.Jumps
	}
	for _, g := range gaps {
		t.Logf("gap %s %s - %s", g.Cause, time.Unix(0, g.From).UTC().Format(time.RFC3339Nano), time.Unix(0, g.To).UTC().Format(time.RFC3339Nano))
	}
	t.Logf("%d lines: %d delivered, %d missing (%d silently), %d twice; %d turns, %d gaps; reopens: %d behind, %d stalled, %d jumps",
		lines, len(got), missing, silent, dups, len(outs), len(gaps), behind, stalls, jumps)
	require.Equal(t, 0, seqs[0], "the first line")
	require.Zero(t, dups, "no line twice")
	require.Zero(t, silent, "every missing line inside a reported gap")
}

// TestEngineBlockedFollowerIsClosedBeforeItSkipsAFile blocks the consumer for 8 s while a container writes 1,000
// lines/s into twenty 100 KB json-files, which hold them all: the daemon's follower of a stream left unread that long
// (longer than the socket's buffers hold) crosses several rotations, and Docker 20.10's then goes on with the newest file and skips the ones between without
// a word. With the stall and lag limits the stream is closed before that and every line arrives once, with no gap;
// without them (the control) lines the log still holds are skipped, which shows what the limits prevent.
func TestEngineBlockedFollowerIsClosedBeforeItSkipsAFile(t *testing.T) {
	cli := dockertest.Engine(t)
	for _, limits := range []bool{true, false} {
		t.Run(fmt.Sprintf("limits=%v", limits), func(t *testing.T) {
			const lines = 14000
			id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{
				LogOpts: map[string]string{"max-size": "100k", "max-file": "20"},
				Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-pause-after", "1000"}})
			dc, err := docker.NewClient(docker.Settings{Endpoint: cli.DaemonHost(), Timeout: 30 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = dc.Close() })
			open := func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) { return dc.Logs(ctx, id, req) }
			spec := Spec{Open: open, Driver: "json-file", MaxLineBytes: 16 * 1024, MaxBatch: 500, FlushInterval: 50 * time.Millisecond}
			if limits {
				spec.StallLimit, spec.LagLimit, spec.LogFileSize = time.Second, time.Second, 100_000
			}
			s := newOutageSink()
			spec.Deliver = s.deliver
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var outs []Outcome
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ctx.Err() == nil {
					out := Run(ctx, spec, nil)
					outs = append(outs, out)
					spec.Cursor = out.Cursor
					if out.End == EndStreamClosed && s.has(lines-1) {
						return
					}
				}
			}()
			waitUntil(t, "the first 1,000 lines delivered", func() bool { got, _ := s.stamps(t); return len(got) >= 1000 })
			s.setDown(true)
			require.NoError(t, cli.ContainerKill(ctx, id, "USR1"))
			time.Sleep(8 * time.Second)
			s.setDown(false)
			dockertest.WaitExit(t, cli, id, 2*time.Minute)
			// A stream that fell behind ends at the container's stop before the end of its log: the loop reads on.
			waitFor(time.Minute, func() bool { got, _ := s.stamps(t); _, ok := got[lines-1]; return ok })
			cancel()
			<-done

			got, dups := s.stamps(t)
			var gaps []Gap
			var reopens int
			for _, o := range outs {
				gaps = append(gaps, o.Gaps...)
				reopens += o.FellBehind + o.Stalls + o.Jumps
			}
			t.Logf("%d of %d lines delivered, %d twice, %d gaps, %d streams reopened", len(got), lines, dups, len(gaps), reopens)
			if limits {
				require.Zero(t, dups, "no line twice")
				require.Empty(t, gaps, "the log held every line")
				require.Len(t, got, lines, "every line once")
				require.NotZero(t, reopens, "the stream was closed while the consumer blocked")
				return
			}
			if v, err := cli.ServerVersion(ctx); err == nil && !strings.HasPrefix(v.Version, "20.10") {
				t.Skipf("the control shows Docker 20.10's follower; this engine is %s", v.Version)
			}
			require.Less(t, len(got), lines, "the control: Docker 20.10's follower skipped lines the log held")
			require.Empty(t, gaps, "the control: and nothing tells")
		})
	}
}
