package turn

import (
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// GapCause says why lines of a container may have been lost before the receiver read them.
type GapCause string

// The causes of gaps.
const (
	// GapRotatedAway: the log no longer held the last delivered line; the logging driver's rotation deleted
	// what was written after it before it was read.
	GapRotatedAway GapCause = "rotated_away"
	// GapClockSteppedBack: the daemon's clock went back, so new lines were stamped before the position.
	GapClockSteppedBack GapCause = "clock_stepped_back"
	// GapRemovedUnread: the container was removed before its log was read to the end; whatever it wrote after
	// the newest delivered line went with it.
	GapRemovedUnread GapCause = "removed_unread"
)

// Gap is a span of a container's log in which lines may have been lost, in daemon timestamps (ns).
//
// For GapRotatedAway, From is the newest delivered line and To the first line the log still held, each moved out
// by up to InversionMargin for the other output's lines (lostFrom, widening): lines stamped between them are gone. For GapClockSteppedBack, From is where the clock stood when the step was
// found (the newest entry of the log) and To the newest time stamped before the step. For GapRemovedUnread, From
// is the newest delivered line (the container's start when none was) and To when the removal was seen.
type Gap struct {
	Cause    GapCause
	From, To int64
}

// Duration is the span's length: for a rotation an upper bound of the missing time (a container that was
// idle in part of it wrote nothing then), for a clock step how far the clock went back at least.
func (g Gap) Duration() time.Duration {
	return time.Duration(g.To - g.From)
}

// rotatedAway returns the gap a stream's first entry, stamped first, reveals, or nil.
//
// A stream opened with since at or before the cursor's newest position returns, first, the oldest entry the
// log holds from since on. Everything the log held up to the newest delivered line was delivered, so while
// that line is still in the log the first entry is at most as new as it: the floor line itself (since is
// inclusive), or an older line of the window since the margin. A first entry newer than every delivered line
// means the newest delivered line is gone, and with it whatever followed it up to the first entry: deleted
// before it was read.
//
// Not a gap: a tail request (anchored) whose first entry is not the anchor only missed its window, and the
// full read that follows decides; a stepped cursor's reads start with old lines stamped after the step
// (checkpoint.Filter finds the gap there). A zero cursor has nothing to compare with. Nor has one that ends with a
// run's last write without a newline: its reopen asks for the entries after that line, and the first of them is
// newer than every delivered line whether or not a rotation deleted lines before it (missed).
//
// False positives: when rotation deleted exactly the lines up to the newest delivered one and nothing after
// it, a gap as long as the time between two lines is reported though nothing was lost. A stream that fell
// behind and ended with its container stops at the end of a log file, so when rotation deleted that file the
// next read reports such a gap (measured: 176 µs, nothing lost). The span is an upper bound of the missing
// time. Missed: a loss that ends within the inversion margin after the newest delivered line (the first entry
// left is then an older line of the other output), or inside a line longer than 16 KiB.
func rotatedAway(cur checkpoint.Cursor, anchored bool, first int64) *Gap {
	if anchored || cur.IsZero() || cur.Stepped != 0 || cur.Unterminated != 0 {
		return nil
	}
	if newest := cur.Newest(); first > newest {
		return &Gap{Cause: GapRotatedAway, From: lostFrom(cur), To: first}
	}
	return nil
}

// lostFrom is where a rotated_away gap from cur begins: the newest delivered line, or, when both outputs have a
// position, up to InversionMargin before it, down to the other output's position.
//
// Everything the log held before the newest delivered line was read and delivered, but a line of the other output
// stamped up to the margin before it can follow it in the file and go with the deleted file (seen: one stderr line
// stamped 15 ms before the stdout line delivered last). Lines up to an output's position were delivered. An output
// without a position gives no bound, and the span is left as it was rather than a margin longer for every
// single-output container.
func lostFrom(cur checkpoint.Cursor) int64 {
	newest := cur.Newest()
	if cur.Stdout.Time == 0 || cur.Stderr.Time == 0 {
		return newest
	}
	return max(newest-checkpoint.InversionMargin, min(cur.Stdout.Time, cur.Stderr.Time))
}

// widening extends a rotated_away gap to the first line after it of the other output.
//
// The first line a reopen returns is the oldest of one output, but the log is written in file order, and a line of
// the other output stamped up to InversionMargin later can lie before it in the file: rotation deleted such lines
// with the file, though they are stamped after the gap's end. They all precede the other output's first line left,
// so the gap reaches to that line when it comes within the margin (an upper bound, like the rest of the span).
type widening struct {
	// gap is the index in Outcome.Gaps of the gap followed, plus one; 0 follows none.
	gap    int
	stream decode.Stream
}

// see takes the next delivered line after the gap, and stops following once the line settles the span.
func (w *widening) see(l Line, gaps []Gap) {
	if w.gap == 0 {
		return
	}
	g := &gaps[w.gap-1]
	switch {
	case g.Cause != GapRotatedAway || l.Timestamp > g.To+checkpoint.InversionMargin:
	case l.Stream != w.stream:
		g.To = max(g.To, l.Timestamp)
	default:
		return
	}
	w.gap = 0
}
