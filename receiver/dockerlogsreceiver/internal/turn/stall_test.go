package turn

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// gate is a sink whose first delivery waits until the test opens it.
type gate struct {
	sink
	once    sync.Once
	waiting chan struct{} // closed when the first delivery waits
	open    chan struct{}
}

func newGate() *gate {
	return &gate{waiting: make(chan struct{}), open: make(chan struct{})}
}

func (g *gate) deliver(ctx context.Context, lines []Line) error {
	g.once.Do(func() {
		close(g.waiting)
		select {
		case <-g.open:
		case <-ctx.Done():
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return g.sink.deliver(ctx, lines)
}

// closedStreams counts the followed streams whose context ended.
func (f *fakeLog) closedStreams() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// stalledTurn starts a turn from the start of f whose first delivery waits, and returns once the turn closed
// its stream because of it.
func stalledTurn(t *testing.T, f *fakeLog, g *gate, yield chan pool.Reason) <-chan Outcome {
	t.Helper()
	turn := Spec{Open: f.open, Deliver: g.deliver, MaxBatch: 3, FlushInterval: 5 * time.Millisecond, StallLimit: 10 * time.Millisecond}
	done := make(chan Outcome, 1)
	go func() { done <- Run(context.Background(), turn, yield) }()
	<-g.waiting
	require.Eventually(t, func() bool { return f.closedStreams() == 1 }, 5*time.Second, time.Millisecond,
		"the stream is closed while the batch waits")
	return done
}

func TestRunClosesTheStreamWhileABatchWaitsAndReopensAtTheCursor(t *testing.T) {
	f := &fakeLog{entries: makeLog(20), follow: true}
	g := newGate()
	yield := make(chan pool.Reason, 1)
	done := stalledTurn(t, f, g, yield)
	close(g.open)
	require.Eventually(t, func() bool { return len(g.bodies()) == 20 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned
	out := <-done

	assert.Equal(t, bodies(0, 20), g.bodies(), "every line once: what the closed stream had read is read again")
	assert.Equal(t, 1, out.Stalls)
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, []docker.LogsRequest{{Follow: true}, {Since: base - sec, Follow: true}}, f.requests,
		"reopened at the cursor after the first batch (no floor yet: a margin before it)")
	assert.Empty(t, out.Gaps)
}

// TestRunEndsAStalledTurnThatWasAskedToYield: the yield cancels the delivery that waits, and the turn ends at
// once without a reopen; the batch is read again by the next turn, from the unchanged cursor.
func TestRunEndsAStalledTurnThatWasAskedToYield(t *testing.T) {
	f := &fakeLog{entries: makeLog(20), follow: true}
	g := newGate()
	yield := make(chan pool.Reason, 1)
	done := stalledTurn(t, f, g, yield)
	yield <- pool.ReasonHandover
	out := <-done
	close(g.open)
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonHandover, out.Yield)
	assert.Empty(t, g.bodies(), "the batch that waited was refused when the yield cancelled it")
	assert.Equal(t, checkpoint.Cursor{}, out.Cursor)
	assert.Len(t, f.requests, 1, "no reopen for a turn that must end")
}

func TestRunWithoutStallLimitKeepsTheStreamOpen(t *testing.T) {
	f := &fakeLog{entries: makeLog(6), follow: true}
	g := newGate()
	turn := Spec{Open: f.open, Deliver: g.deliver, MaxBatch: 3, FlushInterval: 5 * time.Millisecond}
	yield := make(chan pool.Reason, 1)
	done := make(chan Outcome, 1)
	go func() { done <- Run(context.Background(), turn, yield) }()
	<-g.waiting
	time.Sleep(20 * time.Millisecond) // a stall limit this long would have closed the stream
	assert.Zero(t, f.closedStreams())
	close(g.open)
	require.Eventually(t, func() bool { return len(g.bodies()) == 6 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned
	out := <-done
	assert.Zero(t, out.Stalls)
	assert.Equal(t, checkpoint.Position{Time: base + 2*sec, Count: 1}, out.Cursor.Stdout)
}

func TestTailAfterStallCoversWhatWasWrittenWhileTheBatchWaited(t *testing.T) {
	// 1,000 entries read in 2 s (500/s), then a batch waited 9 s: 500/s over 10 s (the wait and two margins), twice.
	assert.Equal(t, 1000+10000, tailAfterStall(1000, 1000, 2*time.Second, 9*time.Second))
	assert.Equal(t, 1000, tailAfterStall(1000, 0, time.Second, time.Minute), "nothing read: nothing to go by")
	assert.Equal(t, 1000, tailAfterStall(1000, 10, 0, time.Second))
	assert.Equal(t, MaxTail, tailAfterStall(1000, 1_000_000, time.Second, time.Hour))
}
