package turn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// budgetedTurn is turnFor with a budget.
func budgetedTurn(f *fakeLog, s *sink, c checkpoint.Cursor, b *Budget) Spec {
	turn := turnFor(f, s, c, 0)
	turn.Budget = b
	return turn
}

// assertFree checks that every charge was given back and that the budget was never overdrawn.
func assertFree(t *testing.T, b *Budget) {
	t.Helper()
	assert.Zero(t, b.InUse(), "bytes still charged")
	assert.LessOrEqual(t, b.Peak(), b.size, "the budget was overdrawn")
}

func TestBudgetCost(t *testing.T) {
	b := NewBudget(1000)
	assert.Equal(t, int64(lineOverhead), b.cost(0), "an empty line is not free")
	assert.Equal(t, int64(100+lineOverhead), b.cost(100))
	assert.Equal(t, int64(1000), b.cost(1000), "a line as long as the budget still fits alone")
	var unbounded *Budget
	assert.Zero(t, unbounded.cost(1000))
	require.NoError(t, unbounded.charge(context.Background(), 1000))
	unbounded.release(Line{charge: 1000})
}

// TestBudgetSharedByTurnsDeliversEverythingOnce runs several turns over one budget a few lines large, with a
// consumer that takes nothing until the budget was full once.
func TestBudgetSharedByTurnsDeliversEverythingOnce(t *testing.T) {
	const turns, lines = 4, 500
	const longest = 8 + lineOverhead // "line 499"
	b := NewBudget(8 * longest)
	var filled atomic.Bool
	untilFull := func(context.Context) error {
		for deadline := time.Now().Add(10 * time.Second); !filled.Load() && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			filled.Store(b.InUse() > b.size-longest)
		}
		return nil
	}
	sinks := make([]*sink, turns)
	var wg sync.WaitGroup
	for i := range sinks {
		f := &fakeLog{entries: makeLog(lines)}
		s := &sink{hold: untilFull}
		sinks[i] = s
		wg.Go(func() {
			out := Run(context.Background(), budgetedTurn(f, s, checkpoint.Cursor{}, b), nil)
			assert.Equal(t, EndStreamClosed, out.End)
		})
	}
	wg.Wait()
	assert.True(t, filled.Load(), "the readers filled the budget")
	for i, s := range sinks {
		assert.Equal(t, bodies(0, lines), s.bodies(), "turn %d", i)
	}
	assertFree(t, b)
}

// TestBudgetStopsTheReaderWhileTheConsumerBlocks checks the backpressure: with the consumer blocked, the reader
// takes no more than the budget holds and leaves the rest of the log unread, in the daemon.
func TestBudgetStopsTheReaderWhileTheConsumerBlocks(t *testing.T) {
	const lines, size = 500, 1000
	f := &fakeLog{follow: true}
	for i, e := range makeLog(lines) {
		e.body = fmt.Sprintf("%-*d", size, i)
		f.entries = append(f.entries, e)
	}
	total := logSize(t, f)

	b := NewBudget(10 * (size + lineOverhead))
	s := &sink{hold: refuseUntilCancelled}
	var read atomic.Int64
	turn := budgetedTurn(f, s, checkpoint.Cursor{}, b)
	turn.Open = countingOpener(f, &read)
	turn.MaxBatch = lines // only the flush timer hands a batch on
	yield := make(chan pool.Reason, 1)
	done := startTurn(context.Background(), turn, yield)

	// Full, no room for one more line, and the consumer holds a batch.
	require.Eventually(t, func() bool { return b.InUse() > b.size-(size+lineOverhead) }, 10*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return s.called() > 0 }, 10*time.Second, time.Millisecond)
	assert.LessOrEqual(t, b.Peak(), b.size)
	// The decoder reads ahead by at most its buffer, whatever the log holds.
	assert.Less(t, read.Load(), total/2, "the reader went on reading")
	t.Logf("charged %d of %d bytes; read %d of %d bytes of log", b.InUse(), b.size, read.Load(), total)

	yield <- pool.ReasonPlanned
	out := outcome(t, done)
	assert.Equal(t, EndYielded, out.End)
	assertFree(t, b)

	s.setHold(nil)
	stopFollowing(f)
	out = outcome(t, startTurn(context.Background(), budgetedTurn(f, s, out.Cursor, b), nil))
	assert.Equal(t, EndStreamClosed, out.End)
	got := s.bodies()
	require.Len(t, got, lines)
	for i, body := range got {
		assert.Equal(t, fmt.Sprintf("%-*d", size, i), body)
	}
	assertFree(t, b)
}

// TestBudgetIsFreeAfterEveryEnd ends a turn in each way while lines are charged, and checks that all came back.
func TestBudgetIsFreeAfterEveryEnd(t *testing.T) {
	const lines = 200
	small := func() *Budget { return NewBudget(5 * (8 + lineOverhead)) }
	// blocked starts a turn whose consumer blocks until its context ends, and waits until it blocks.
	blocked := func(t *testing.T, ctx context.Context, b *Budget, yield chan pool.Reason) <-chan Outcome {
		f := &fakeLog{entries: makeLog(lines), follow: true}
		s := &sink{hold: refuseUntilCancelled}
		done := startTurn(ctx, budgetedTurn(f, s, checkpoint.Cursor{}, b), yield)
		require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
		return done
	}

	// waiting starts a turn that hands nothing on before it ends, and waits until its reader waits for the budget.
	waiting := func(t *testing.T, ctx context.Context, b *Budget, yield chan pool.Reason) (<-chan Outcome, *sink) {
		s := &sink{}
		turn := budgetedTurn(&fakeLog{entries: makeLog(lines), follow: true}, s, checkpoint.Cursor{}, b)
		turn.MaxBatch, turn.FlushInterval = lines, time.Hour
		done := startTurn(ctx, turn, yield)
		require.Eventually(t, func() bool { return b.InUse() > b.size-(8+lineOverhead) }, 5*time.Second, time.Millisecond)
		return done, s
	}

	t.Run("stream closed", func(t *testing.T) {
		b := small()
		s := &sink{}
		out := Run(context.Background(), budgetedTurn(&fakeLog{entries: makeLog(lines)}, s, checkpoint.Cursor{}, b), nil)
		assert.Equal(t, EndStreamClosed, out.End)
		assert.Len(t, s.bodies(), lines)
		assertFree(t, b)
	})
	t.Run("read failed", func(t *testing.T) {
		b := small()
		history := &fakeLog{entries: makeLog(lines)}
		cut := func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) {
			body, _ := history.open(ctx, req)
			return io.NopCloser(io.MultiReader(body, bytes.NewReader([]byte{1, 0, 0, 0, 0, 0, 0, 50, 'x'}))), nil
		}
		s := &sink{}
		turn := budgetedTurn(history, s, checkpoint.Cursor{}, b)
		turn.Open = cut
		out := Run(context.Background(), turn, nil)
		assert.Equal(t, EndReadFailed, out.End)
		assertFree(t, b)
	})
	t.Run("yielded during a blocked delivery", func(t *testing.T) {
		b := small()
		yield := make(chan pool.Reason, 1)
		done := blocked(t, context.Background(), b, yield)
		yield <- pool.ReasonHandover
		assert.Equal(t, EndYielded, outcome(t, done).End)
		assertFree(t, b)
	})
	t.Run("yielded during the last delivery of a closed stream", func(t *testing.T) {
		b := NewBudget(lines * (8 + lineOverhead))
		s := &sink{hold: refuseUntilCancelled}
		turn := budgetedTurn(&fakeLog{entries: makeLog(lines)}, s, checkpoint.Cursor{}, b)
		turn.MaxBatch = 2 * lines // only the end of the stream or the flush timer hands the lines on
		yield := make(chan pool.Reason, 1)
		done := startTurn(context.Background(), turn, yield)
		require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
		yield <- pool.ReasonPlanned
		assert.Equal(t, EndYielded, outcome(t, done).End)
		assertFree(t, b)
	})
	t.Run("yielded while reading", func(t *testing.T) {
		b := small()
		yield := make(chan pool.Reason, 1)
		done, _ := waiting(t, context.Background(), b, yield)
		yield <- pool.ReasonPlanned
		assert.Equal(t, EndYielded, outcome(t, done).End)
		assertFree(t, b)
	})
	t.Run("removed while reading", func(t *testing.T) {
		b := small()
		yield := make(chan pool.Reason, 1)
		done, s := waiting(t, context.Background(), b, yield)
		yield <- pool.ReasonRemoved
		out := outcome(t, done)
		assert.Equal(t, EndYielded, out.End)
		assert.Positive(t, len(s.bodies()), "what was read was handed on")
		assertFree(t, b)
	})
	t.Run("cancelled while reading", func(t *testing.T) {
		b := small()
		ctx, cancel := context.WithCancel(context.Background())
		done, _ := waiting(t, ctx, b, make(chan pool.Reason, 1))
		cancel()
		assert.Equal(t, EndCancelled, outcome(t, done).End)
		assertFree(t, b)
	})
	t.Run("cancelled during a blocked delivery", func(t *testing.T) {
		b := small()
		ctx, cancel := context.WithCancel(context.Background())
		done := blocked(t, ctx, b, make(chan pool.Reason, 1))
		// Let the reader fill the budget and wait for more.
		require.Eventually(t, func() bool { return b.InUse() > b.size-(8+lineOverhead) }, 5*time.Second, time.Millisecond)
		cancel()
		assert.Equal(t, EndCancelled, outcome(t, done).End)
		assertFree(t, b)
	})
	t.Run("consumer dropping every batch", func(t *testing.T) {
		// A permanent refusal is dropped by the receiver's Deliver, which then returns nil, as an acceptance does.
		b := small()
		var dropped atomic.Int64
		turn := budgetedTurn(&fakeLog{entries: makeLog(lines)}, &sink{}, checkpoint.Cursor{}, b)
		turn.Deliver = func(_ context.Context, batch []Line) error {
			dropped.Add(int64(len(batch)))
			return nil
		}
		out := Run(context.Background(), turn, nil)
		assert.Equal(t, EndStreamClosed, out.End)
		assert.Equal(t, int64(lines), dropped.Load())
		assertFree(t, b)
	})
	t.Run("long lines", func(t *testing.T) {
		// A line longer than the budget is charged the whole budget, and still passes.
		b := NewBudget(100)
		s := &sink{}
		f := &fakeLog{entries: []fakeEntry{{stream: 1, ts: base, body: strings.Repeat("x", 300)}, {stream: 2, ts: base + 1, body: "short"}}}
		out := Run(context.Background(), budgetedTurn(f, s, checkpoint.Cursor{}, b), nil)
		assert.Equal(t, EndStreamClosed, out.End)
		assert.Equal(t, []string{strings.Repeat("x", 300), "short"}, s.bodies())
		assertFree(t, b)
	})
}

// BenchmarkRunBudget reads 10,000 lines in a turn, without and with a budget large enough never to wait.
func BenchmarkRunBudget(b *testing.B) {
	f := &fakeLog{entries: makeLog(10_000)}
	body, err := f.open(context.Background(), docker.LogsRequest{})
	require.NoError(b, err)
	log, err := io.ReadAll(body)
	require.NoError(b, err)
	open := func(context.Context, docker.LogsRequest) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(log)), nil
	}
	for _, tc := range []struct {
		name   string
		budget func() *Budget
	}{
		{"unbounded", func() *Budget { return nil }},
		{"budget", func() *Budget { return NewBudget(64 << 20) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				turn := budgetedTurn(f, &sink{}, checkpoint.Cursor{}, tc.budget())
				turn.Open, turn.MaxBatch = open, 1000
				Run(context.Background(), turn, nil)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(f.entries)), "ns/line")
		})
	}
}
