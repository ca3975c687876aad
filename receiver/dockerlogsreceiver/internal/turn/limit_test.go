package turn

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

func TestNoLimitIsNil(t *testing.T) {
	assert.Nil(t, NewLimit(0, 0))
	waited, err := (*Limit)(nil).wait(context.Background(), 100)
	assert.Zero(t, waited)
	assert.NoError(t, err)
}

// TestLimitSlowsReadingWithoutDropping reads 250 lines under 100 lines/s (a second's worth at once): every line is
// delivered, and the reading took at least the 1.5 s the rate demands; a slower machine only takes longer.
func TestLimitSlowsReadingWithoutDropping(t *testing.T) {
	f := &fakeLog{entries: makeLog(250)}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.Limit = NewLimit(100, 0)
	start := time.Now()
	out := Run(context.Background(), spec, nil)
	require.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 250), s.bodies())
	assert.GreaterOrEqual(t, time.Since(start), 1400*time.Millisecond)
	// The time spent waiting on the limit shrinks as the reading itself slows: only the whole reading is bounded.
	assert.Positive(t, out.Throttled)
}

// TestLimitOfBytesIsKeptAcrossTurns reads 30 lines of 100 bytes under 1,000 bytes/s in two turns with one Limit:
// the second turn finds the bucket the first one emptied, so the two together wait about 2 s, not twice 0.
func TestLimitOfBytesIsKeptAcrossTurns(t *testing.T) {
	var entries []fakeEntry
	for i := range 30 {
		entries = append(entries, fakeEntry{stream: decode.Stdout, ts: base + int64(i)*sec, body: fmt.Sprintf("%-100s", fmt.Sprint("line ", i))})
	}
	limit := NewLimit(0, 1000)
	s := &sink{}
	first := turnFor(&fakeLog{entries: entries[:15]}, s, checkpoint.Cursor{}, 0)
	first.Limit = limit
	started := time.Now()
	out1 := Run(context.Background(), first, nil)
	second := turnFor(&fakeLog{entries: entries}, s, out1.Cursor, 0)
	second.Limit = limit
	out2 := Run(context.Background(), second, nil)
	took := time.Since(started)
	require.Len(t, s.bodies(), 30)
	for i, b := range s.bodies() {
		assert.Equal(t, fmt.Sprint("line ", i), strings.TrimSpace(b))
	}
	// A slow machine only makes the turns take longer. A bucket made anew for each turn would let each start with
	// 1,000 bytes at once: 1 s for both.
	assert.GreaterOrEqual(t, took, 1900*time.Millisecond, "3,000 bytes at 1,000/s with 1,000 at once, across both turns")
	assert.Positive(t, out1.Throttled+out2.Throttled)
}

// TestLimitWaitEndsWithTheTurn cancels a turn held back by its limit: it ends at once and the line it waited for
// is not delivered, so the next turn reads it again.
func TestLimitWaitEndsWithTheTurn(t *testing.T) {
	f := &fakeLog{entries: makeLog(20)}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.Limit = NewLimit(1, 0) // one line a second: the second line waits
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Outcome, 1)
	go func() { done <- Run(ctx, spec, nil) }()
	require.Eventually(t, func() bool { return len(s.bodies()) == 1 }, 10*time.Second, time.Millisecond)
	cancel()
	select {
	case out := <-done:
		assert.Equal(t, EndCancelled, out.End)
		assert.Equal(t, bodies(0, 1), s.bodies())
	case <-time.After(10 * time.Second):
		t.Fatal("the turn waited on its limit after it was cancelled")
	}
}
