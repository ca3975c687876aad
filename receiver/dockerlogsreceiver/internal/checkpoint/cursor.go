// Package checkpoint keeps each container's read position: what was delivered, to the nanosecond and the line.
package checkpoint

import (
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// InversionMargin bounds how far, in daemon timestamps, a line of one output can be written to the log
// file after a line of the other output that it predates.
//
// The daemon timestamps each output's lines in that output's own goroutine, then takes the log file's
// lock to write them: across outputs, file order and timestamp order can differ (by microseconds when
// measured here; the margin allows for a stalled write). Within one output they never do. A larger margin
// costs every reopen that much more log to read again.
const InversionMargin = int64(500 * time.Millisecond)

// floorStep spaces the timestamps kept as floor candidates, so that a few of them span the margin.
const floorStep = InversionMargin / 4

// Position is one output's read position: its last delivered line's timestamp and how many of its lines
// were delivered with exactly that timestamp (-1: all of them, whatever their number).
type Position struct {
	Time  int64 `json:"time"`
	Count int   `json:"count"`
}

// Cursor is a container's read position: per output, every line up to its position was delivered and
// none after it.
//
// The daemon's since is inclusive and several lines can share one timestamp, so a time alone cannot tell
// delivered lines from new ones: each position also counts the lines delivered at exactly its time. Each
// output's lines come back in log-file order, with timestamps that never go back, so the counts pick out
// the delivered lines again on every reopen. The outputs are kept apart because across them the file
// order is not the timestamp order.
type Cursor struct {
	Stdout Position `json:"stdout"`
	Stderr Position `json:"stderr"`
	// Floor is the timestamp of a delivered line that every undelivered line, of either output, follows in
	// the log; a reopen asks for the lines since it. 0 when no such line is known yet.
	Floor int64 `json:"floor,omitempty"`
	// Stepped is set while the log may hold lines stamped before a step back of the daemon's clock that are
	// newer than the floor: the newest timestamp stamped before the step (see AfterStep).
	Stepped int64 `json:"stepped,omitempty"`
	// Start, when set, is the time before which the log holds nothing to read: lines stamped before it are
	// history of the container's earlier runs (see From).
	Start int64 `json:"start,omitempty"`
	// Ended is set when the log was read to its end after the container stopped: nothing of it is left to read
	// until the container starts again. A container removed before that may take unread lines with it.
	Ended bool `json:"ended,omitempty"`
	// Unterminated, when set, is the time of the last delivered line, which the log ended with and which has no
	// newline: the last write of a run. The next run's first entry will follow its content directly, which on a TTY
	// stream nothing marks, so a reopen asks for the entries after it (see EndUnterminated).
	Unterminated int64 `json:"unterminated,omitempty"`
	// Held, when set, is the timestamp of the first line of the oldest multiline record still open when the
	// cursor last advanced: its lines are not delivered, and a reopen must read them again (see Hold).
	Held int64 `json:"held,omitempty"`
	// Resets counts the times the positions were moved back on purpose (Replacing): a cursor with more resets is
	// the newer one, whatever its positions.
	Resets int `json:"resets,omitempty"`

	// candidates are recent delivered timestamps, oldest first, from which Floor moves up; not saved.
	candidates [8]int64
}

// AtEnd returns the cursor that skips everything up to and including the log entry at ts.
func AtEnd(ts int64) Cursor {
	p := Position{Time: ts, Count: -1}
	return Cursor{Stdout: p, Stderr: p, Floor: ts}
}

// From returns the cursor that reads every line stamped at or after ts and none before it.
//
// Nothing is delivered yet, so the cursor stays zero (IsZero): no position to find again on a reopen, no gap
// to report when the first line is newer than ts, and no clock step to look for. A reopen asks for the lines
// since ts (the daemon's since is inclusive), and the filter drops older ones whatever since a stream used.
func From(ts int64) Cursor {
	return Cursor{Start: ts}
}

// IsZero reports whether nothing was delivered yet.
func (c Cursor) IsZero() bool {
	return c.Stdout.Time == 0 && c.Stderr.Time == 0
}

// Since returns where a reopen must start, and whether that is the timestamp of a line in the log:
// then the last N entries since it reach back far enough exactly when the first one returned carries it.
func (c Cursor) Since() (since int64, anchored bool) {
	switch {
	case c.Unterminated != 0:
		return max(c.Unterminated+1, c.Start), false
	case c.Floor != 0:
		return c.Floor, true
	case c.IsZero():
		return c.Start, false
	}
	// Lines before Start are never read: asking for them would only make the daemon send more.
	since = max(c.earliest()-InversionMargin, c.Start, 1)
	if c.Held != 0 {
		// An open record of an output with no position yet: earliest does not see it.
		since = min(since, max(c.Held-InversionMargin, c.Start, 1))
	}
	return since, false
}

// Newest returns the latest of the positions' times: every line the log held up to the line stamped with it
// was delivered, or stamped before Start and so not to be read.
func (c Cursor) Newest() int64 {
	return max(c.Stdout.Time, c.Stderr.Time, c.Start-1)
}

// Behind reports whether c stands before o: saving c over o would move a position back, and lines delivered
// after c would be read and delivered again.
func (c Cursor) Behind(o Cursor) bool {
	if c.Resets != o.Resets {
		return c.Resets < o.Resets
	}
	return c.Stdout.before(o.Stdout) || c.Stderr.before(o.Stderr)
}

// before reports whether p picks out fewer delivered lines than o: an older time, or fewer lines at the same one.
func (p Position) before(o Position) bool {
	switch {
	case p.Time != o.Time:
		return p.Time < o.Time
	case p.Count == o.Count, p.Count < 0:
		return false
	case o.Count < 0:
		return true
	}
	return p.Count < o.Count
}

// earliest is the oldest of the positions' times that are set.
func (c Cursor) earliest() int64 {
	switch {
	case c.Stdout.Time == 0:
		return c.Stderr.Time
	case c.Stderr.Time == 0:
		return c.Stdout.Time
	}
	return min(c.Stdout.Time, c.Stderr.Time)
}

// position returns the position of one output.
func (c *Cursor) position(stream decode.Stream) *Position {
	if stream == decode.Stderr {
		return &c.Stderr
	}
	return &c.Stdout
}

// Advance moves the cursor past one delivered line, given in the order its output was read.
//
// unfinished is the timestamp of the earliest line begun in the stream but not yet finished when this
// one was read (0 if none): the floor must not pass it, since that line is not delivered yet.
func (c *Cursor) Advance(stream decode.Stream, ts, unfinished int64) {
	c.Ended, c.Unterminated = false, 0
	p := c.position(stream)
	switch {
	case ts > p.Time:
		*p = Position{Time: ts, Count: 1}
	case ts == p.Time && p.Count >= 0:
		p.Count++
	}
	c.remember(ts)
	c.raiseFloor(unfinished)
	c.leaveStep()
}

// EndUnterminated records that the log ended with the last delivered line, stamped ts, and that it had no newline.
//
// json-file keeps such a write as an entry of its own, and the next run's first entry follows its content with no
// newline between. A TTY stream has no framing, and the reader ends an entry only at a newline or its own line's
// next piece (decode), never at a timestamp in the content: a reopen that read the entry again would read the next
// run's first line with it, as one line stamped ts, and drop it as delivered. Every entry up to this one was
// delivered, and the entries written after it are stamped after it, so the reopen starts after it instead. Once a
// line after it is delivered, a reopen that reads it again reads it with delivered lines only, and drops them all.
func (c *Cursor) EndUnterminated(ts int64) {
	c.Unterminated = ts
}

// Hold records the first line of the oldest multiline record still open (0: none) after the cursor advanced.
//
// Records of the two outputs complete in their own order, so a record delivered on one output can follow in
// the log an open record of the other: that record's lines are behind the cursor. Advance keeps the floor before
// it (pass its first line as unfinished); Held keeps a cursor without floor from starting after it, when its
// output has no position.
func (c *Cursor) Hold(first int64) {
	c.Held = first
}

// remember keeps ts as a floor candidate when it is a step newer than the last one kept.
func (c *Cursor) remember(ts int64) {
	last := c.candidates[len(c.candidates)-1]
	if last != 0 && ts < last+floorStep {
		return
	}
	copy(c.candidates[:], c.candidates[1:])
	c.candidates[len(c.candidates)-1] = ts
}

// raiseFloor moves Floor to the newest candidate that every undelivered line follows in the log.
//
// An undelivered line is newer than its output's position, or than an unfinished line, and a line of the
// other output is written at most InversionMargin after the lines it predates: a delivered line older than
// all of those by the margin precedes every undelivered line in the file.
func (c *Cursor) raiseFloor(unfinished int64) {
	limit := c.earliest()
	if unfinished != 0 {
		limit = min(limit, unfinished)
	}
	limit -= InversionMargin
	for i := len(c.candidates) - 1; i >= 0; i-- {
		if cand := c.candidates[i]; cand != 0 && cand <= limit {
			c.Floor = max(c.Floor, cand)
			return
		}
	}
}
