package streamreader

import (
	"context"
	"io"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/logstream"
)

// readLines parses a stream opened from cur, drops lines delivered before, and sends the rest; it closes
// lines when done. anchor, when not 0, is the timestamp the first entry must carry (a tail request).
//
// Each line is charged to the budget before it is sent: waiting for the budget stops reading, until ctx ends.
func readLines(ctx context.Context, body io.Reader, t *Turn, cur checkpoint.Cursor, anchor int64, lines chan<- Line, result chan<- readResult) {
	defer close(lines)
	r := logstream.NewReader(body, logstream.Options{TTY: t.TTY, MaxLineBytes: t.MaxLineBytes})
	filter := checkpoint.NewFilter(cur)
	var res readResult
	first, floorLost := true, false
	// gap waits for the first line kept, which reports it once delivered.
	var gap *Gap
	var last lastSent
	for {
		l, err := r.Next()
		if err != nil {
			res.err = err
			break
		}
		res.entries += l.Entries
		pendingSince, pending := r.PendingSince()
		if first {
			start := earliest(l.Timestamp, pendingSince, pending)
			if anchor != 0 && start != anchor {
				res.missed = true
				break
			}
			gap = rotatedAway(cur, anchor != 0, start)
			first = false
		}
		keep := filter.Keep(uint8(l.Stream), l.Timestamp)
		if !floorLost && filter.FloorMissing() {
			// After a clock step the first entry proves nothing; a missing floor line does (checkpoint.Filter).
			floorLost = true
			gap = &Gap{Cause: GapRotatedAway, From: cur.Newest(), To: l.Timestamp}
		}
		if !keep || last.repeats(l.Stream, l.Timestamp, l.Body) {
			res.dups++
			continue
		}
		// Charged before the body is copied: while the reader waits, the line stays in the decoder's buffer.
		charge := t.Budget.cost(len(l.Body))
		if err := t.Budget.charge(ctx, charge); err != nil {
			res.err, res.undelivered = err, l.Entries
			break
		}
		line := Line{Stream: l.Stream, Timestamp: l.Timestamp, Body: string(l.Body), gap: gap, charge: charge, entries: l.Entries}
		last[l.Stream] = sentLine{ts: line.Timestamp, body: line.Body}
		gap = nil
		if pending {
			line.unfinished = pendingSince
		}
		lines <- line
	}
	result <- res
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
}

// lastSent holds the last line sent of each output.
type lastSent [3]sentLine

// repeats reports whether a line is the last line of its output sent again: Docker 20.10 sends the line a
// follower read last once more when the json-file log rotates. Lines stamped to the nanosecond alike and with
// the same text cannot be told from such a repeat; whole-second stamps (Podman) are never taken for one, since
// there many lines share a stamp.
func (s *lastSent) repeats(stream logstream.Stream, ts int64, body []byte) bool {
	l := s[stream]
	return ts == l.ts && ts%int64(time.Second) != 0 && string(body) == l.body
}
