package turn

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// lines makes lines from..to-1 as makeLog does, two per margin, the first stamped start.
func lines(from, to int, start int64) []fakeEntry {
	var out []fakeEntry
	for i := from; i < to; i++ {
		out = append(out, fakeEntry{stream: decode.Stream(i%2 + 1), ts: start + int64((i-from)/2)*sec, body: fmt.Sprintf("line %d", i)})
	}
	return out
}

// newClock is where the daemon's clock stands after stepping back 5 margins: not on the old clock's grid, as
// two clocks never are to the nanosecond.
const newClock = base - 5*sec + 12345

// appendAfterProbe opens f's streams, and appends more to f's log right after the turn read its newest entry.
func appendAfterProbe(f *fakeLog, more []fakeEntry) Opener {
	return func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) {
		body, err := f.open(ctx, req)
		if req == probe {
			f.mu.Lock()
			f.entries = append(f.entries, more...)
			f.mu.Unlock()
		}
		return body, err
	}
}

// TestRunFindsTheClockSteppedBack has the daemon's clock step back after lines 0..11, of which 0..9 were
// delivered. The turn reports the step, gives up lines 10..19 (written before it found the step), delivers the
// lines written after, and later turns deliver every new line once and none of the old clock's again.
func TestRunFindsTheClockSteppedBack(t *testing.T) {
	old := lines(0, 12, base)
	f := &fakeLog{entries: append(old, lines(12, 20, newClock)...)}
	s := &sink{}
	var saved []checkpoint.Cursor
	turn := turnFor(f, s, deliveredUpTo(old, 10), 100)
	turn.Open = appendAfterProbe(f, lines(20, 30, newClock+4*sec))
	turn.OnAdvance = func(c checkpoint.Cursor) { saved = append(saved, c) }

	out := Run(context.Background(), turn, nil)
	anchor := newClock + 3*sec // lines 18 and 19, the newest when the turn began
	require.Equal(t, []Gap{{Cause: GapClockSteppedBack, From: anchor, To: base + 5*sec}}, out.Gaps,
		"from where the clock stood to the newest time stamped before the step")
	assert.Equal(t, 7*time.Duration(sec)-12345, out.Gaps[0].Duration())
	assert.Equal(t, bodies(20, 30), s.bodies(), "the lines written after the turn began, once")
	require.NotEmpty(t, saved)
	assert.Equal(t, checkpoint.AfterStep(anchor, base+5*sec).Replacing(turn.Cursor), saved[0], "the re-anchored cursor is saved at once")
	assert.False(t, saved[0].Behind(turn.Cursor), "a reset, not a step back")
	assert.Equal(t, []docker.LogsRequest{probe,
		{Since: base + 4*sec + 1},                  // the old clock's newest line
		{Since: anchor, Tail: 100, Follow: true},   // starts with old lines, not the anchor
		{Since: anchor, Follow: true}}, f.requests) // skips them up to the anchor
	assert.Equal(t, base+5*sec, out.Cursor.Stepped, "old lines are still newer than the floor")

	// The new clock passes the old one; a short tail forces full reads, which return old lines first.
	f.mu.Lock()
	f.entries = append(f.entries, lines(30, 60, newClock+9*sec)...)
	f.mu.Unlock()
	second := Run(context.Background(), turnFor(f, s, out.Cursor, 1), nil)
	assert.Empty(t, second.Gaps)
	assert.True(t, second.WindowMissed)
	assert.Equal(t, bodies(20, 60), s.bodies(), "every new line once, no old line again")
	assert.Zero(t, second.Cursor.Stepped, "the floor passed the old clock: the step is over")

	f.mu.Lock()
	f.entries = append(f.entries, lines(60, 70, newClock+24*sec)...)
	f.mu.Unlock()
	third := Run(context.Background(), turnFor(f, s, second.Cursor, 1), nil)
	assert.Empty(t, third.Gaps)
	assert.Equal(t, bodies(20, 70), s.bodies())
}

// TestRunAfterAClockStepDoesNotWaitForAFloorLineRotatedAway deletes the log up to past the anchor before the
// turn after the step reads it: the turn gives up waiting for the anchor at the first line the old clock cannot
// have stamped, and reports the lines it could not deliver as rotated away.
func TestRunAfterAClockStepDoesNotWaitForAFloorLineRotatedAway(t *testing.T) {
	anchor := newClock + 3*sec
	cur := checkpoint.AfterStep(anchor, base+5*sec)
	f := &fakeLog{entries: lines(20, 60, newClock+4*sec)} // everything up to the anchor is gone
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, cur, 1), nil)
	// Lines stamped up to the old clock's newest time and a margin may be old ones: they are skipped.
	first := 20 + 2*int((base+6*sec-(newClock+4*sec))/sec+1)
	require.Equal(t, []Gap{{Cause: GapRotatedAway, From: anchor, To: f.entries[first-20].ts}}, out.Gaps)
	assert.Equal(t, bodies(first, 60), s.bodies())
}

func TestRunSeesNoClockStepInTheMarginOrInAnUnfinishedLine(t *testing.T) {
	// The newest entry is a stderr line stamped before the newest delivered stdout line, as the daemon's
	// outputs do within the margin.
	delivered := lines(0, 9, base) // stdout up to base+4sec, stderr up to base+3.5sec
	inverted := &fakeLog{entries: append(delivered, fakeEntry{stream: decode.Stderr, ts: base + 4*sec - sec/2 + 1, body: "line 9"})}
	s := &sink{}
	out := Run(context.Background(), turnFor(inverted, s, deliveredUpTo(delivered, 9), 100), nil)
	assert.Empty(t, out.Gaps)
	assert.Equal(t, []string{"line 9"}, s.bodies())

	// The newest entry is a piece of a long stdout line begun before the stderr lines delivered since; the
	// line ends after the turn looked.
	piece := strings.Repeat("x", 16384)
	var entries []fakeEntry
	for i := range 3 {
		entries = append(entries, fakeEntry{stream: decode.Stdout, ts: base + int64(i)*sec, body: fmt.Sprint(i)})
	}
	entries = append(entries, fakeEntry{stream: decode.Stdout, ts: base + 3*sec, body: piece, partial: true})
	var cur checkpoint.Cursor
	for i := range 3 {
		cur.Advance(1, base+int64(i)*sec, 0)
	}
	for i := range 6 {
		ts := base + int64(4+i)*sec
		entries = append(entries, fakeEntry{stream: decode.Stderr, ts: ts, body: fmt.Sprint("e", i)})
		cur.Advance(2, ts, base+3*sec)
	}
	long := &fakeLog{entries: append(entries, fakeEntry{stream: decode.Stdout, ts: base + 3*sec, body: piece, partial: true})}
	out = Run(context.Background(), turnFor(long, &sink{}, cur, 100), nil)
	assert.Empty(t, out.Gaps, "a line still being written carries its first piece's time")
	assert.NotContains(t, long.requests, docker.LogsRequest{Since: base + 9*sec + 1}, "no look for the old clock's newest line")
}

func TestRunEndsWhenTheNewestEntryCannotBeRead(t *testing.T) {
	failing := func(context.Context, docker.LogsRequest) (io.ReadCloser, error) { return nil, docker.ErrGone }
	turn := turnFor(&fakeLog{}, &sink{}, deliveredUpTo(lines(0, 4, base), 4), 10)
	turn.Open = failing
	out := Run(context.Background(), turn, nil)
	assert.Equal(t, EndOpenFailed, out.End)
	assert.ErrorIs(t, out.Err, docker.ErrGone)
	assert.Equal(t, turn.Cursor, out.Cursor)
}
