package turn

import (
	"context"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
)

// checkClock finds a step back of the daemon's clock before a turn opens its stream, reports it, and moves the
// cursor past it; it returns false when the turn ends here (the daemon did not answer, or ctx ended).
//
// The daemon stamps each line with its clock and filters a reopen's since by those stamps. When its clock
// goes back, new lines are stamped before the cursor: the daemon drops those before the floor and the filter
// those before the positions, until the clock has caught up, and none of it would be seen. The newest entry
// of the log tells (one entry read from the end): stamped more than the inversion margin before the newest
// delivered line, it was stamped by a clock that went back. A line longer than 16 KiB is stamped with its
// first piece's time, so a newest entry that is a piece of an unfinished line is left to the next turn; one
// whose pieces took longer than the margin while the other output wrote reads as a step (reported, and its
// lines up to it given up).
//
// A cursor with times after anything the daemon can have stamped (saved by an older version that took a timestamp
// in a TTY line's content for the daemon's) is repaired first (checkpoint.Cursor.Repaired): only the daemon's own
// newest entry can prove a step.
//
// The cursor then moves to the newest entry (checkpoint.AfterStep): the lines after it are read, each once.
// Given up are the lines written after the newest delivered one and up to the newest entry: lines of the old
// clock not yet read, and those of the new clock until the step was found. To skip the old clock's lines
// that a reopen returns again, the cursor keeps the newest old timestamp, read from the log once here.
func checkClock(ctx context.Context, t *Spec, out *Outcome) bool {
	last, err := LastEntry(ctx, t.Open, t.TTY)
	if err != nil {
		openFailed(ctx, out, err)
		return false
	}
	// Nothing can have been stamped after now, or after the newest entry when the daemon's clock is ahead of ours.
	if cur, repaired := t.Cursor.Repaired(max(time.Now().UnixNano(), last.Timestamp)); repaired {
		out.Repaired = true
		t.Cursor, out.Cursor = cur, cur
		if t.OnAdvance != nil {
			t.OnAdvance(cur)
		}
	}
	newest := t.Cursor.Newest()
	if last.Timestamp == 0 || last.Unfinished || last.Timestamp >= newest-checkpoint.InversionMargin {
		return true
	}
	// Only the old clock can have stamped lines after the newest delivered one: the newest of them is the
	// newest time stamped before the step.
	old, err := newestSince(ctx, t.Open, t.TTY, newest+1)
	if err != nil {
		openFailed(ctx, out, err)
		return false
	}
	stepped := max(newest, old, t.Cursor.Stepped)
	// Behind the cursor on purpose: a reset, which the store saves over the cursor it replaces.
	cur := checkpoint.AfterStep(last.Timestamp, stepped).Replacing(t.Cursor)
	out.Gaps = append(out.Gaps, Gap{Cause: GapClockSteppedBack, From: last.Timestamp, To: stepped})
	t.Cursor, out.Cursor = cur, cur
	if t.OnAdvance != nil {
		t.OnAdvance(cur)
	}
	return true
}

// openFailed records that the daemon could not be asked, or that ctx ended first.
func openFailed(ctx context.Context, out *Outcome, err error) {
	if ctx.Err() != nil {
		out.End = EndCancelled
		return
	}
	out.End, out.Err = EndOpenFailed, err
}
