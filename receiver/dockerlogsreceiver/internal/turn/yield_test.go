package turn

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// startTurn runs a turn in the background; the returned channel gives its outcome.
func startTurn(ctx context.Context, turn Spec, yield <-chan pool.Reason) <-chan Outcome {
	done := make(chan Outcome, 1)
	go func() { done <- Run(ctx, turn, yield) }()
	return done
}

// outcome waits for a turn to end, failing the test rather than hanging when it does not.
func outcome(t *testing.T, done <-chan Outcome) Outcome {
	t.Helper()
	select {
	case out := <-done:
		return out
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the turn did not end")
		return Outcome{}
	}
}

// stopFollowing makes f's next streams end after its history, so that a turn ends by itself.
func stopFollowing(f *fakeLog) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.follow = false
}

func TestYieldDuringABlockedDeliveryEndsTheTurnWithoutAdvancing(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{hold: refuseUntilCancelled}
	yield := make(chan pool.Reason, 1)
	done := startTurn(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), yield)
	require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned

	out := outcome(t, done)
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonPlanned, out.Yield)
	assert.NoError(t, out.Err)
	assert.True(t, out.Cursor.IsZero(), "nothing was accepted")
	assert.Equal(t, decode.PerStream[int]{}, out.Lines)
	assert.Positive(t, out.Undelivered)
	assert.Empty(t, s.bodies())

	// The next turn reads the refused lines again from the cursor, and delivers each once.
	s.setHold(nil)
	stopFollowing(f)
	out = outcome(t, startTurn(context.Background(), turnFor(f, s, out.Cursor, 0), nil))
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 7), s.bodies())
}

// countingOpener opens f's streams and counts the bytes the turn read from them.
func countingOpener(f *fakeLog, read *atomic.Int64) Opener {
	return func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) {
		body, err := f.open(ctx, req)
		if err != nil {
			return nil, err
		}
		return &countingBody{ReadCloser: body, read: read}, nil
	}
}

type countingBody struct {
	io.ReadCloser
	read *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// logSize is the size of f's whole history as the daemon sends it.
func logSize(t *testing.T, f *fakeLog) int64 {
	t.Helper()
	body, err := (&fakeLog{entries: f.entries}).open(context.Background(), docker.LogsRequest{})
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = buf.ReadFrom(body)
	require.NoError(t, err)
	return int64(buf.Len())
}

// TestYieldBetweenDeliveriesHandsOnWhatWasRead yields while read lines wait for their batch to be handed on:
// reading stops, and those lines are delivered before the turn ends, however soon the yield came.
func TestYieldBetweenDeliveriesHandsOnWhatWasRead(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{}
	var read atomic.Int64
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.Open = countingOpener(f, &read)
	turn.MaxBatch, turn.FlushInterval = 100, time.Hour // nothing is handed on before the yield
	yield := make(chan pool.Reason, 1)
	done := startTurn(context.Background(), turn, yield)
	size := logSize(t, f)
	require.Eventually(t, func() bool { return read.Load() == size }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonHandover

	out := outcome(t, done)
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonHandover, out.Yield)
	assert.Equal(t, bodies(0, 7), s.bodies())
	assert.Equal(t, deliveredUpTo(f.entries, 7), out.Cursor)
	assert.Zero(t, out.Undelivered)
}

func TestYieldDuringADeliveryAcceptedAnywayAdvancesPastIt(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{hold: acceptWhenCancelled}
	yield := make(chan pool.Reason, 1)
	done := startTurn(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), yield)
	require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonHandover

	out := outcome(t, done)
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonHandover, out.Yield)
	delivered := len(s.bodies())
	require.Positive(t, delivered, "the consumer accepted the batch it was given")
	assert.Equal(t, 1, s.called(), "the turn ended instead of handing on more")
	assert.Equal(t, deliveredUpTo(f.entries, delivered), out.Cursor)
	assert.Equal(t, delivered, out.Lines[0]+out.Lines[1])

	s.setHold(nil)
	stopFollowing(f)
	outcome(t, startTurn(context.Background(), turnFor(f, s, out.Cursor, 0), nil))
	assert.Equal(t, bodies(0, 7), s.bodies(), "the rest, once")
}

func TestYieldDuringTheLastDeliveryOfAClosedStreamEndsTheTurn(t *testing.T) {
	f := &fakeLog{entries: makeLog(2)}
	s := &sink{hold: refuseUntilCancelled}
	yield := make(chan pool.Reason, 1)
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.MaxBatch = 10 // the stream ends before the batch fills: only finishing the stream delivers it
	done := startTurn(context.Background(), turn, yield)
	require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned

	out := outcome(t, done)
	assert.Equal(t, EndYielded, out.End, "not stream_closed: the lines read were not delivered")
	assert.True(t, out.Cursor.IsZero())
	assert.Equal(t, 2, out.Undelivered, "the next turn's tail must reach back over both")
}

func TestRemovedContainerHandsOnWhatItReadDespiteTheYield(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	release := make(chan struct{})
	s := &sink{hold: func(ctx context.Context) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	yield := make(chan pool.Reason, 1)
	done := startTurn(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), yield)
	require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonRemoved
	// The yield is taken while the delivery waits, and must not cancel it: a destroyed container's log is gone.
	require.Eventually(t, func() bool { return len(yield) == 0 }, 5*time.Second, time.Millisecond)
	close(release)

	out := outcome(t, done)
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonRemoved, out.Yield)
	assert.Equal(t, bodies(0, 7), s.bodies(), "every line read was handed on")
	assert.Equal(t, deliveredUpTo(f.entries, 7), out.Cursor)
}

func TestShutdownDuringAYieldedDeliveryEndsCancelled(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{hold: refuseUntilCancelled}
	ctx, cancel := context.WithCancel(context.Background())
	yield := make(chan pool.Reason, 1)
	done := startTurn(ctx, turnFor(f, s, checkpoint.Cursor{}, 0), yield)
	require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
	cancel()
	yield <- pool.ReasonPlanned

	out := outcome(t, done)
	assert.Equal(t, EndCancelled, out.End, "whichever the turn saw first")
	assert.True(t, out.Cursor.IsZero())
}

// liveStream is one followed stream whose entries the test writes while the turn reads it.
type liveStream struct {
	pr *io.PipeReader
	pw *io.PipeWriter
}

func newLiveStream() *liveStream {
	pr, pw := io.Pipe()
	return &liveStream{pr: pr, pw: pw}
}

// open hands out the stream; a turn that opens a second one fails.
func (l *liveStream) open(context.Context, docker.LogsRequest) (io.ReadCloser, error) {
	return l.pr, nil
}

// write sends entries as the daemon frames them, once the turn has read them.
func (l *liveStream) write(t *testing.T, entries []fakeEntry) {
	t.Helper()
	body, err := (&fakeLog{entries: entries}).open(context.Background(), docker.LogsRequest{})
	require.NoError(t, err)
	_, err = io.Copy(l.pw, body)
	require.NoError(t, err)
}

// TestYieldBetweenDeliveriesEndsAfterTheGraceWhenTheConsumerRefuses yields while read lines wait for their batch,
// to a consumer that refuses until its call is cancelled: the turn ends once its grace is spent, the refused lines
// stay undelivered, and the next turn reads them again.
func TestYieldBetweenDeliveriesEndsAfterTheGraceWhenTheConsumerRefuses(t *testing.T) {
	entries := makeLog(7)
	stream := newLiveStream()
	s := &sink{}
	var advanced atomic.Int64
	turn := turnFor(&fakeLog{}, s, checkpoint.Cursor{}, 0)
	turn.Open = stream.open
	turn.MaxBatch, turn.FlushInterval = 100, time.Hour // only the first batch is handed on before the yield
	turn.YieldGrace = 200 * time.Millisecond
	turn.OnAdvance = func(checkpoint.Cursor) { advanced.Add(1) }
	yield := make(chan pool.Reason, 1)
	done := startTurn(context.Background(), turn, yield)

	// The first lines are handed on and accepted; the turn then waits for more.
	stream.write(t, entries[:3])
	require.Eventually(t, func() bool { return advanced.Load() == 1 }, 5*time.Second, time.Millisecond)
	s.setHold(refuseUntilCancelled)
	stream.write(t, entries[3:])
	asked := time.Now()
	yield <- pool.ReasonHandover

	out := outcome(t, done)
	assert.GreaterOrEqual(t, time.Since(asked), turn.YieldGrace, "the read lines had their grace")
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonHandover, out.Yield)
	accepted := len(s.bodies())
	assert.Equal(t, bodies(0, accepted), s.bodies())
	assert.LessOrEqual(t, accepted, 3, "nothing after the first batch was accepted")
	assert.Equal(t, deliveredUpTo(entries, accepted), out.Cursor)
	assert.Equal(t, 7-accepted, out.Undelivered)
	assert.Equal(t, 2, s.called(), "the first batch and the refused one")

	s.setHold(nil)
	out = outcome(t, startTurn(context.Background(), turnFor(&fakeLog{entries: entries}, s, out.Cursor, 0), nil))
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 7), s.bodies(), "every line once")
}

// TestRemovedContainerEndsAfterTheGraceWhenTheConsumerRefuses removes a container while its batch is refused: the
// delivery is not cancelled at once, but the turn ends once its grace is spent, without advancing.
func TestRemovedContainerEndsAfterTheGraceWhenTheConsumerRefuses(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{hold: refuseUntilCancelled}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.YieldGrace = 200 * time.Millisecond
	yield := make(chan pool.Reason, 1)
	done := startTurn(context.Background(), turn, yield)
	require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
	asked := time.Now()
	yield <- pool.ReasonRemoved

	out := outcome(t, done)
	assert.GreaterOrEqual(t, time.Since(asked), turn.YieldGrace, "the delivery under way had its grace")
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonRemoved, out.Yield)
	assert.True(t, out.Cursor.IsZero(), "nothing was accepted")
	assert.Positive(t, out.Undelivered)
	assert.Equal(t, 1, s.called(), "no batch is tried once the grace is spent")
	assert.Empty(t, s.bodies())
}
