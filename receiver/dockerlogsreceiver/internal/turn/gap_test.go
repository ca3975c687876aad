package turn

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// rotated keeps the entries from i on, as json-file does once rotation deleted the older files.
func rotated(entries []fakeEntry, i int) []fakeEntry {
	return append([]fakeEntry(nil), entries[i:]...)
}

func TestRunReportsLinesRotatedAwayOnce(t *testing.T) {
	all := makeLog(100)
	cur := deliveredUpTo(all, 10) // lines 0..9 delivered, up to base+4sec
	f := &fakeLog{entries: rotated(all, 40)}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, cur, 10), nil)
	assert.True(t, out.WindowMissed, "the tail cannot find the floor line")
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 4*sec, To: base + 20*sec}}, out.Gaps,
		"from the newest delivered line to the first line the log still holds")
	assert.Equal(t, 16*time.Duration(sec), out.Gaps[0].Duration())
	assert.Equal(t, bodies(40, 100), s.bodies(), "everything the log still holds, once")
	assert.Equal(t, []docker.LogsRequest{probe, {Since: base + 3*sec, Tail: 10, Follow: true}, {Since: base + 3*sec, Tail: 80, Follow: true},
		{Since: base + 3*sec, Tail: 640, Follow: true}, {Since: base + 3*sec, Tail: 5120, Follow: true}, {Since: base + 3*sec, Follow: true}}, f.requests,
		"no tail finds the floor line: grown 3 times, then read in full")

	again := Run(context.Background(), turnFor(f, s, out.Cursor, 100), nil)
	assert.Empty(t, again.Gaps, "the cursor moved past the gap")
}

func TestRunReportsLinesRotatedAwayFromACursorWithoutFloor(t *testing.T) {
	all := makeLog(40)
	cur := checkpoint.Cursor{Stdout: checkpoint.Position{Time: base + 2*sec, Count: 1}}
	f := &fakeLog{entries: rotated(all, 20)}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, cur, 0), nil)
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 2*sec, To: base + 10*sec}}, out.Gaps)
	assert.Equal(t, bodies(20, 40), s.bodies())
	assert.Equal(t, []docker.LogsRequest{probe, {Since: base + sec, Follow: true}}, f.requests, "no floor: since goes back by the margin, without a tail")
}

// TestRunReportsAGapWhenRotationStoppedRightAfterTheNewestLine pins the documented false positive: the log lost
// exactly the lines up to the newest delivered one, nothing undelivered, and a gap as long as the time between
// two lines is reported.
func TestRunReportsAGapWhenRotationStoppedRightAfterTheNewestLine(t *testing.T) {
	all := makeLog(40)
	cur := deliveredUpTo(all, 10)
	f := &fakeLog{entries: rotated(all, 10)}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, cur, 0), nil)
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 4*sec, To: base + 5*sec}}, out.Gaps)
	assert.Equal(t, bodies(10, 40), s.bodies(), "nothing lost, nothing repeated")
}

func TestRunReportsNoGapFromAZeroCursor(t *testing.T) {
	f := &fakeLog{entries: rotated(makeLog(40), 20)}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), nil)
	assert.Empty(t, out.Gaps, "nothing was delivered that could have been lost after")
	assert.Equal(t, bodies(20, 40), s.bodies())
}

// TestRunReportsAGapOnlyWithTheLineAfterIt cancels a turn before the first line after a gap was accepted: the
// gap is not reported, and the next turn, which finds it again, reports it.
func TestRunReportsAGapOnlyWithTheLineAfterIt(t *testing.T) {
	all := makeLog(60)
	cur := deliveredUpTo(all, 10)
	f := &fakeLog{entries: rotated(all, 30), follow: true}
	blocked := &sink{hold: refuseUntilCancelled}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Outcome)
	go func() { done <- Run(ctx, turnFor(f, blocked, cur, 0), nil) }()
	assert.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.requests) == 3+tailGrowths
	}, 5*time.Second, time.Millisecond, "the full read is open")
	cancel()
	out := <-done
	assert.Equal(t, EndCancelled, out.End)
	assert.Empty(t, out.Gaps, "nothing after the gap was accepted")
	assert.Equal(t, cur, out.Cursor)

	f.mu.Lock()
	f.follow = false
	f.mu.Unlock()
	s := &sink{}
	out = Run(context.Background(), turnFor(f, s, cur, 0), nil)
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 4*sec, To: base + 15*sec}}, out.Gaps)
	assert.Equal(t, bodies(30, 60), s.bodies())
}

// TestRunWidensAGapToTheOtherOutputsFirstLine has rotation delete, with the older file, two stdout lines written
// to it before the first stderr line left though stamped after it: the gap reaches to the first stdout line left,
// which follows them, so the span holds every line lost.
func TestRunWidensAGapToTheOtherOutputsFirstLine(t *testing.T) {
	all := makeLog(40)
	cur := deliveredUpTo(all, 10)
	kept := []fakeEntry{
		{stream: decode.Stderr, ts: base + 20*sec, body: "line 41"},
		{stream: decode.Stderr, ts: base + 20*sec + 10, body: "line 43"},
		// Lines 40 and 42 of stdout, stamped base+20sec+1 and base+20sec+2, were deleted with the older file.
		{stream: decode.Stdout, ts: base + 20*sec + 20, body: "line 44"},
		{stream: decode.Stdout, ts: base + 30*sec, body: "line 46"},
	}
	f := &fakeLog{entries: kept}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, cur, 0), nil)
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 4*sec, To: base + 20*sec + 20}}, out.Gaps,
		"from the newest delivered line to the first line left of the output whose lines were written earlier")
	assert.Equal(t, []string{"line 41", "line 43", "line 44", "line 46"}, s.bodies())

	// The other output's first line more than the margin after the gap: nothing of it can lie before the gap's end.
	f = &fakeLog{entries: []fakeEntry{kept[0], {stream: decode.Stdout, ts: base + 21*sec + 1, body: "line 44"}}}
	out = Run(context.Background(), turnFor(f, &sink{}, cur, 0), nil)
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 4*sec, To: base + 20*sec}}, out.Gaps)
}

// TestRunStartsAGapAtTheOtherOutputsPositionWithinTheMargin has rotation delete a stderr line stamped before the
// stdout line delivered last but written after it: the gap begins at the stderr position, within the margin.
func TestRunStartsAGapAtTheOtherOutputsPositionWithinTheMargin(t *testing.T) {
	cur := checkpoint.Cursor{Stdout: checkpoint.Position{Time: base + 10*sec, Count: 1},
		Stderr: checkpoint.Position{Time: base + 10*sec - 30, Count: 1}}
	f := &fakeLog{entries: []fakeEntry{{stream: decode.Stdout, ts: base + 20*sec, body: "line 20"}}}
	out := Run(context.Background(), turnFor(f, &sink{}, cur, 0), nil)
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 10*sec - 30, To: base + 20*sec}}, out.Gaps)

	// An output far behind bounds nothing: the gap begins a margin before the newest delivered line.
	cur.Stderr.Time = base
	out = Run(context.Background(), turnFor(f, &sink{}, cur, 0), nil)
	assert.Equal(t, []Gap{{Cause: GapRotatedAway, From: base + 9*sec, To: base + 20*sec}}, out.Gaps)
}
