// Package turn reads one container's log for one turn: it opens the stream at the container's
// cursor, drops what was already delivered, hands whole lines on in batches and closes the stream.
package turn

import (
	"context"
	"io"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// Line is one record, owned by the receiver of the batch: one whole log line, or with a multiline rule the
// lines of one event joined by a newline, stamped with its first line's time.
type Line struct {
	Stream    decode.Stream
	Timestamp int64
	Body      string

	// stamps holds the timestamp of each line of a multiline record, in order; nil for a single line.
	stamps []int64

	// unfinished is the start of the earliest line still being assembled when this one was read, or 0.
	unfinished int64
	// gap, when set, was found just before this line: delivering the line moves the cursor past it.
	gap *Gap
	// charge is what the line holds of the turn's Budget until it is accepted or discarded.
	charge int64
	// entries is how many daemon log entries the line completes, as decode.Line.Entries.
	entries int
}

// LineCount returns how many log lines the record holds.
func (l Line) LineCount() int {
	return max(len(l.stamps), 1)
}

// Opener opens a container's log stream.
type Opener func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error)

// Deliver hands a batch on; it returns nil once the batch was accepted and an error only when ctx ended.
//
// ctx ends at shutdown, and also when the pool asks the turn to end while the batch is refused or blocked.
type Deliver func(ctx context.Context, lines []Line) error

// Turn describes one turn of one container.
type Spec struct {
	Open    Opener
	Deliver Deliver
	// Cursor is where the turn starts: every line up to it was delivered before.
	Cursor checkpoint.Cursor
	// TailHint is how many log entries the container probably wrote since Cursor; it bounds what the daemon re-reads.
	TailHint int
	// TTY says the container's log is one raw stream without frame headers.
	TTY bool
	// Driver is the container's logging driver and DaemonAPI the newest API version the daemon speaks: on a TTY,
	// the local driver of a daemon of API 1.41 or older ends a long line without its newline (decode.Options).
	Driver, DaemonAPI string
	// MaxLineBytes splits longer lines into several.
	MaxLineBytes int
	// MaxBatch and FlushInterval decide when a batch is handed on.
	MaxBatch      int
	FlushInterval time.Duration
	// FlushOnTick makes a batch flush on the FlushInterval's tick of the wall clock (flushWait), so that the
	// turns of one receiver deliver together; otherwise FlushInterval after its first line.
	FlushOnTick bool
	// Budget, shared by the turns of one receiver, bounds the bytes read and not yet accepted; nil bounds nothing.
	Budget *Budget
	// OnAdvance, if set, is told the cursor after each delivered batch.
	OnAdvance func(checkpoint.Cursor)
	// YieldGrace is how long a turn the pool asked to end may still spend handing on the lines it read; what is
	// not accepted by then stays undelivered, read again by the next turn. Zero means DefaultYieldGrace.
	YieldGrace time.Duration
	// StallLimit, when positive, is how long handing a batch on may take while the stream stays open; after
	// it the stream is closed, and opened again at the cursor once the batch is accepted.
	StallLimit time.Duration
	// LagLimit, when positive, is how much further behind the log's writer the daemon's follower may fall than it
	// was at its closest, whether lines are being read or a batch waits to be accepted; then the stream is closed
	// and opened again at the cursor (lagWatch).
	LagLimit time.Duration
	// LogFileSize is the size at which the container's log file rotates: the lag limit then follows the rate at
	// which the lines read were written, up to LagLimit. 0 keeps LagLimit as it is.
	LogFileSize int64
	// SkipMalformed, if set, says whether a malformed entry read after the line stamped after (0: the first) is
	// passed over instead of ending the turn (see Malformed).
	SkipMalformed func(after int64) bool
	// Multiline, if set, joins the lines of one output into records; nil makes every line a record.
	Multiline *multiline.Rule
	// Waiting are the records an earlier turn left unfinished (Outcome.Waiting).
	Waiting decode.PerStream[Waiting]
	// Limit, if set, slows the reading to the container's rate limit; it is the same across the container's turns.
	Limit *Limit

	// longPieces reads json-file TTY entries longer than the driver stores as content (decode.Options.LongPieces):
	// set when a stream read again at the same cursor ended on one too.
	longPieces bool
}

// DefaultYieldGrace is the YieldGrace of a Spec that sets none.
const DefaultYieldGrace = time.Second

// yieldGrace returns the turn's YieldGrace, or the default.
func (t *Spec) yieldGrace() time.Duration {
	if t.YieldGrace > 0 {
		return t.YieldGrace
	}
	return DefaultYieldGrace
}

// End says how a turn ended.
type End string

// The ways a turn ends.
const (
	// EndYielded: the pool asked the turn to end (rotation or handover); Outcome.Yield says which.
	EndYielded End = "yielded"
	// EndStreamClosed: the daemon ended the stream, normally because the container stopped.
	EndStreamClosed End = "stream_closed"
	// EndOpenFailed: the stream could not be opened.
	EndOpenFailed End = "open_failed"
	// EndReadFailed: the stream broke while being read.
	EndReadFailed End = "read_failed"
	// EndCancelled: the receiver is shutting down; lines read but not delivered are read again next time.
	EndCancelled End = "cancelled"
)

// Outcome is what a turn did.
type Outcome struct {
	End   End
	Yield pool.Reason
	Err   error
	// Cursor is the position after the last delivered line.
	Cursor checkpoint.Cursor
	// Lines and Bytes count the delivered lines and their body bytes, by stream.
	Lines, Bytes decode.PerStream[int]
	// Duplicates counts the lines dropped because an earlier turn delivered them.
	Duplicates int
	// Throttled is how long the reading waited for the container's rate limit (Spec.Limit).
	Throttled time.Duration
	// Entries counts the daemon log entries read, for sizing the next turn's tail.
	Entries int
	// Undelivered counts the entries read past the cursor and not delivered: the next turn's tail must reach back over them.
	Undelivered int
	// WindowMissed reports that the bounded re-read did not reach the cursor and the stream was reopened in full.
	WindowMissed bool
	// Stalls counts the streams closed because handing a batch on took longer than StallLimit.
	Stalls int
	// FellBehind counts the streams closed because the reading fell behind by more than LagLimit.
	FellBehind int
	// Jumps counts the streams closed because their lines jumped ahead by more than half a log file's writing
	// time, as when the daemon's follower skips a file (lagWatch.jumped); each was opened again at the cursor.
	Jumps int
	// Resent counts the streams that ended where the daemon sent part of a json-file log again inside a TTY line
	// (decode.ErrResent); each was opened again at the cursor.
	Resent int
	// Repaired reports that the cursor held times after anything the daemon can have stamped, and was taken back
	// (checkpoint.Cursor.Repaired).
	Repaired bool
	// Gaps are the spans in which lines may have been lost before they could be read, each reported once:
	// by the turn whose cursor moved past it.
	Gaps []Gap
	// MalformedAfter, when the turn ended on a malformed entry, is the timestamp of the line read before it.
	MalformedAfter *int64
	// Skipped are the malformed entries the turn passed over.
	Skipped []Skipped
	// Waiting are the multiline records left unfinished, by output: the next turn reads them again.
	Waiting decode.PerStream[Waiting]
	// Opened is when the stream opened, and Duration how long it stayed open.
	Opened   time.Time
	Duration time.Duration

	// widen follows the last gap delivered, across the turn's streams, until the other output's first line after it.
	widen widening
}

// Run reads the container until the pool asks it to yield, the stream ends, or ctx ends.
func Run(ctx context.Context, t Spec, yield <-chan pool.Reason) Outcome {
	out := Outcome{Cursor: t.Cursor, Waiting: t.Waiting}
	if !t.Cursor.IsZero() && !checkClock(ctx, &t, &out) {
		return out
	}
	req, anchor := firstRequest(t.Cursor, t.TailHint)
	grown := 0
	// A jump is checked once per cursor: when the reopen finds the same jump without delivering anything, the lines
	// are not missing (a daemon clock ahead of this one makes history look new).
	var jumpedAt, resentAt *checkpoint.Cursor
	for {
		checkJumps := jumpedAt == nil || *jumpedAt != out.Cursor
		switch n := runStream(ctx, &t, out.Cursor, req, anchor, checkJumps, yield, &out); n {
		case done:
			return out
		case reopenInFull:
			// After a clock step old lines are stamped after the floor: no tail reaches it, the log is read in full.
			if req.Tail > 0 && req.Tail < MaxTail && grown < tailGrowths && out.Cursor.Stepped == 0 {
				// The last entries did not reach back to the cursor: ask for more of them, which costs the daemon
				// about as many entries as it returns, before a read since the cursor, which costs it the whole log.
				grown++
				req.Tail = min(req.Tail*tailGrowth, MaxTail)
				continue
			}
			out.WindowMissed = true
			since, _ := out.Cursor.Since()
			req, anchor = docker.LogsRequest{Since: since, Follow: true}, 0
		case reopenAtCursor, reopenBehind, reopenJumped, reopenResent:
			switch n {
			case reopenResent:
				out.Resent++
				if resentAt != nil && *resentAt == out.Cursor {
					// Read again from the same place, the log itself holds such an entry: it is content.
					t.longPieces = true
				}
				at := out.Cursor
				resentAt = &at
			case reopenBehind:
				out.FellBehind++
			case reopenJumped:
				out.Jumps++
				at := out.Cursor
				jumpedAt = &at
			default:
				out.Stalls++
			}
			select {
			case reason := <-yield:
				out.End, out.Yield = EndYielded, reason
				return out
			default:
			}
			req, anchor = firstRequest(out.Cursor, t.TailHint)
		}
	}
}

// A tail that does not reach back to the cursor grows tailGrowth times, up to tailGrowths times, before the log is
// read since the cursor. When the floor line was rotated away, no tail reaches it: the growths are then wasted, at
// most tailGrowth^tailGrowths times the first tail's entries.
const (
	tailGrowth  = 8
	tailGrowths = 3
)

// next says what one step of a stream led to, as the one word its caller acts on: read on, or what the turn does now.
type next uint8

const (
	// done: the turn ends.
	done next = iota
	// reopenInFull: the tail did not reach back to the cursor; read everything since it.
	reopenInFull
	// reopenAtCursor: the stream was closed while a batch waited to be accepted; open it again at the cursor.
	reopenAtCursor
	// reopenBehind: the stream was closed because the reading fell behind; open it again at the cursor.
	reopenBehind
	// reopenJumped: the stream was closed before a line that jumped ahead (lagWatch.jumped); open it again at the cursor.
	reopenJumped
	// reopenResent: the stream ended where the daemon sent part of the log again inside a line (decode.ErrResent);
	// open it again at the cursor.
	reopenResent
	// readOn: the stream stays open and is read on; only a stream's own steps say it, never runStream.
	readOn
)

// firstRequest asks for as little history as proves that nothing after the cursor is skipped.
func firstRequest(c checkpoint.Cursor, tailHint int) (docker.LogsRequest, int64) {
	since, anchored := c.Since()
	if !anchored {
		return docker.LogsRequest{Since: since, Follow: true}, 0
	}
	return docker.LogsRequest{Since: since, Tail: max(tailHint, 1), Follow: true}, since
}

// readResult is the reader goroutine's last word.
type readResult struct {
	err     error
	entries int
	missed  bool
	dups    int
	// throttled is how long the reader waited for the rate limit.
	throttled time.Duration
	// undelivered counts the entries of a line read but never sent, when the stream stopped while it waited for the budget.
	undelivered int
	// skipped are the malformed entries passed over; malformedAfter is the timestamp before the one that ended the stream.
	skipped        []Skipped
	malformedAfter int64
	// last is the timestamp of the last line read.
	last int64
	// ended, when set, is the timestamp of the line without a newline that the log ended with, sent last.
	ended int64
}
