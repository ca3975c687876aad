package turn

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// readLines parses a stream opened from cur, drops lines delivered before, and sends the rest; it closes
// lines when done. anchor, when not 0, is the timestamp the first entry must carry (a tail request). askCtx bounds
// the questions about a line the daemon may have sent again in part (storedPieces): the turn's, not the stream's.
//
// Each line is charged to the budget before it is sent: waiting for the budget stops reading, until ctx ends.
// A malformed entry that t.SkipMalformed allows is passed over; the lines left without a newline when the stream
// ended with its log are sent last (lastLines).
func readLines(ctx, askCtx context.Context, body io.Reader, t *Spec, cur checkpoint.Cursor, anchor int64, lines chan<- Line, result chan<- readResult) {
	defer close(lines)
	r := decode.NewReader(body, decode.Options{TTY: t.TTY, Driver: t.Driver, DaemonAPI: t.DaemonAPI, MaxLineBytes: t.MaxLineBytes,
		Stored: storedPieces(askCtx, t)})
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
	// echo holds, by output, the leading records of what looks like the last line sent again, until its end shows it.
	echo decode.PerStream[[]decode.Line]
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
	keep := s.filter.Keep(l.Stream, l.Timestamp)
	if !s.floorLost && s.filter.FloorMissing() {
		// After a clock step the first entry proves nothing; a missing floor line does (checkpoint.Filter).
		s.floorLost = true
		s.gap = &Gap{Cause: GapRotatedAway, From: lostFrom(s.cur), To: l.Timestamp}
	}
	if !keep {
		s.res.dups++
		return true
	}
	if s.last.repeats(l.Stream, l.Timestamp, l.Body, l.Entries) {
		if l.Entries == 0 {
			// Held until the repeat ends: a line that only starts like the last one is sent whole after all.
			echo := s.echo.At(l.Stream)
			*echo = append(*echo, decode.Line{Stream: l.Stream, Timestamp: l.Timestamp, Body: bytes.Clone(l.Body)})
			return true
		}
		s.res.dups += len(*s.echo.At(l.Stream)) + 1
		*s.echo.At(l.Stream) = nil
		return true
	}
	for _, h := range *s.echo.At(l.Stream) {
		if !s.pass(h, pendingSince, pending) {
			return false
		}
	}
	*s.echo.At(l.Stream) = nil
	return s.pass(l, pendingSince, pending)
}

// pass sends a line kept by the filter on, once the rate limit and the budget allow; it returns false when reading
// must stop.
func (s *lineSender) pass(l decode.Line, pendingSince int64, pending bool) bool {
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
	s.last.sent(l.Stream, l.Timestamp, l.Body, l.Entries)
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
// read again (logEndsWith) and the lines are sent only when the log ends with exactly them.
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

// sentLine is the last line sent on of one output, in the records it was sent in.
type sentLine struct {
	ts int64
	// parts sums up each record of the line, in order: a line longer than MaxLineBytes is sent in several.
	parts []partSum
	// open: the line's last record is not sent yet, so the next line of its output is the line's next piece,
	// which carries the same stamp and may hold the same bytes (a run of one byte).
	open bool
	// echoed counts the records of a repeat of the line dropped so far: the repeat is dropped record by record.
	echoed int
}

// partSum is one record's length and checksum: enough to tell a repeat without keeping a long line's bytes.
type partSum struct {
	size int
	sum  uint32
}

func sumOf(body []byte) partSum {
	return partSum{size: len(body), sum: crc32.ChecksumIEEE(body)}
}

// lastSent holds the last line sent of each output.
type lastSent struct{ of decode.PerStream[sentLine] }

// sent records a record sent on; entries is 0 for a leading record of a line longer than MaxLineBytes.
func (s *lastSent) sent(stream decode.Stream, ts int64, body []byte, entries int) {
	l := s.of.At(stream)
	if !l.open || l.ts != ts {
		*l = sentLine{ts: ts, parts: l.parts[:0]}
	}
	l.parts = append(l.parts, sumOf(body))
	l.open, l.echoed = entries == 0, 0
}

// repeats reports whether a record belongs to the last line of its output sent again: Docker 20.10 sends the line a
// follower read last once more when the json-file log rotates, every entry of it. Lines stamped to the nanosecond
// alike and with the same text cannot be told from such a repeat; whole-second stamps (Podman) are never taken for
// one, since there many lines share a stamp. The next piece of a line cut at MaxLineBytes is never one: the daemon
// repeats whole lines, and two pieces of one line share its stamp and, in a run of one byte, its text.
//
// A line sent in several records comes again in the same records (the reader cuts it at the same bytes): each is
// matched in turn, and the repeat ends with the record that ends the line (entries above 0).
func (s *lastSent) repeats(stream decode.Stream, ts int64, body []byte, entries int) bool {
	l := s.of.At(stream)
	if l.open || ts != l.ts || ts%int64(time.Second) == 0 || l.echoed >= len(l.parts) || l.parts[l.echoed] != sumOf(body) {
		return false
	}
	last := l.echoed == len(l.parts)-1
	if last != (entries > 0) {
		// A line that starts like the last one and ends elsewhere: no repeat.
		return false
	}
	l.echoed++
	if last {
		l.echoed = 0
	}
	return true
}
