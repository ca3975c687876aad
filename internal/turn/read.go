package turn

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/decode"
)

// readLines parses a stream opened from cur, drops lines delivered before, and sends the rest; it closes
// lines when done. anchor, when not 0, is the timestamp the first entry must carry (a tail request).
//
// Each line is charged to the budget before it is sent: waiting for the budget stops reading, until ctx ends.
// A malformed entry that t.SkipMalformed allows is passed over; the lines left without a newline when the stream
// ended with its log are sent last (lastLines).
func readLines(ctx context.Context, body io.Reader, t *Spec, cur checkpoint.Cursor, anchor int64, lines chan<- Line, result chan<- readResult) {
	defer close(lines)
	r := decode.NewReader(body, decode.Options{TTY: t.TTY, Driver: t.Driver, DaemonAPI: t.DaemonAPI, MaxLineBytes: t.MaxLineBytes})
	s := lineSender{ctx: ctx, t: t, cur: cur, anchor: anchor, lines: lines, filter: checkpoint.NewFilter(cur), first: true}
	for {
		l, err := r.Next()
		if errors.Is(err, decode.ErrMalformed) && t.SkipMalformed != nil && t.SkipMalformed(s.previous) {
			// Retried in vain at this position: passed over, so that the lines after it flow.
			if skipped, serr := r.SkipEntry(); serr == nil {
				s.res.skipped = append(s.res.skipped, Skipped{After: s.previous, Offset: skipped.Offset, Length: skipped.Length})
				continue
			}
		}
		if err != nil {
			if errors.Is(err, decode.ErrMalformed) {
				s.res.malformedAfter = s.previous
			}
			if errors.Is(err, io.EOF) && r.Pending() {
				s.sendLast(r)
			}
			if s.res.err == nil {
				s.res.err = err
			}
			break
		}
		if !s.send(l, r) {
			break
		}
	}
	s.res.last = s.previous
	result <- s.res
}

// lineSender filters the lines of one stream and sends those not delivered before.
type lineSender struct {
	ctx    context.Context
	t      *Spec
	cur    checkpoint.Cursor
	anchor int64
	lines  chan<- Line
	filter *checkpoint.Filter
	res    readResult

	first, floorLost bool
	// gap waits for the first line kept, which reports it once delivered.
	gap  *Gap
	last lastSent
	// previous is the timestamp of the last line read, kept or not: a malformed entry after it is known by it.
	previous int64
}

// send filters one line and sends it on; it returns false when reading must stop.
func (s *lineSender) send(l decode.Line, r *decode.Reader) bool {
	s.res.entries += l.Entries
	s.previous = l.Timestamp
	pendingSince, pending := r.PendingSince()
	if s.first {
		start := earliest(l.Timestamp, pendingSince, pending)
		if s.anchor != 0 && start != s.anchor {
			s.res.missed = true
			return false
		}
		s.gap = rotatedAway(s.cur, s.anchor != 0, start)
		s.first = false
	}
	keep := s.filter.Keep(uint8(l.Stream), l.Timestamp)
	if !s.floorLost && s.filter.FloorMissing() {
		// After a clock step the first entry proves nothing; a missing floor line does (checkpoint.Filter).
		s.floorLost = true
		s.gap = &Gap{Cause: GapRotatedAway, From: s.cur.Newest(), To: l.Timestamp}
	}
	if !keep || s.last.repeats(l.Stream, l.Timestamp, l.Body) {
		s.res.dups++
		return true
	}
	// The container's rate limit, before the budget: a line waiting for its turn holds none of the shared bytes.
	waited, err := s.t.Limit.wait(s.ctx, len(l.Body))
	s.res.throttled += waited
	if err != nil {
		s.res.err, s.res.undelivered = err, l.Entries
		return false
	}
	// Charged before the body is copied: while the reader waits, the line stays in the decoder's buffer.
	charge := s.t.Budget.cost(len(l.Body))
	if err := s.t.Budget.charge(s.ctx, charge); err != nil {
		s.res.err, s.res.undelivered = err, l.Entries
		return false
	}
	line := Line{Stream: l.Stream, Timestamp: l.Timestamp, Body: string(l.Body), gap: s.gap, charge: charge, entries: l.Entries}
	s.last[l.Stream] = sentLine{ts: line.Timestamp, body: line.Body, open: l.Entries == 0}
	s.gap = nil
	if pending {
		line.unfinished = pendingSince
	}
	s.lines <- line
	return true
}

// sendLast sends the lines a stream that ended left without a newline, when the log ends with them: the last
// write of a container that stopped mid-line (printf "done", a crash), which nothing will finish.
//
// A stream that fell behind ends when its container stops, before the end of the log (Docker 20.10, json-file):
// there the line may be a piece of a longer one, which another turn reads whole. So the log's last entries are
// read again (lastLinesOfLog) and the lines are sent only when the log ends with exactly them.
func (s *lineSender) sendLast(r *decode.Reader) {
	var ends []endLine
	for {
		l, ok := r.Finish()
		if !ok {
			break
		}
		ends = appendEnd(ends, l)
	}
	if s.ctx.Err() != nil || !logEndsWith(s.ctx, s.t, ends) {
		for _, e := range ends {
			s.res.undelivered += e.entries
		}
		return
	}
	for _, e := range ends {
		for _, part := range e.parts {
			if !s.send(decode.Line{Stream: e.stream, Timestamp: e.ts, Body: []byte(part.body), Entries: part.entries}, r) {
				return
			}
		}
	}
	if len(ends) > 0 {
		s.res.ended = ends[len(ends)-1].ts
	}
}

// earliest is the first entry's timestamp: the line's own, or that of a line begun before it and not yet finished.
func earliest(ts, pendingSince int64, pending bool) int64 {
	if pending && pendingSince < ts {
		return pendingSince
	}
	return ts
}

// sentLine is the timestamp and body of a line sent on.
type sentLine struct {
	ts   int64
	body string
	// open: it was a leading piece of a line longer than MaxLineBytes, so the next line of its output is the
	// line's next piece, which carries the same stamp and may hold the same bytes (a run of one byte).
	open bool
}

// lastSent holds the last line sent of each output.
type lastSent [3]sentLine

// repeats reports whether a line is the last line of its output sent again: Docker 20.10 sends the line a
// follower read last once more when the json-file log rotates. Lines stamped to the nanosecond alike and with
// the same text cannot be told from such a repeat; whole-second stamps (Podman) are never taken for one, since
// there many lines share a stamp. The next piece of a line cut at MaxLineBytes is never one: the daemon repeats
// whole entries, and two pieces of one line share its stamp and, in a run of one byte, its text.
func (s *lastSent) repeats(stream decode.Stream, ts int64, body []byte) bool {
	l := s[stream]
	return !l.open && ts == l.ts && ts%int64(time.Second) != 0 && string(body) == l.body
}
