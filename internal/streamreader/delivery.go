package streamreader

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/checkpoint"
)

// delivery holds a turn's pending batch and moves the cursor past what was accepted.
type delivery struct {
	turn  *Turn
	out   *Outcome
	batch []Line
}

// deliver hands the pending batch on; it returns false when ctx ended first.
func (d *delivery) deliver(ctx context.Context) bool {
	if len(d.batch) == 0 {
		return true
	}
	if err := d.turn.Deliver(ctx, d.batch); err != nil {
		d.out.End = EndCancelled
		return false
	}
	for _, l := range d.batch {
		d.out.Cursor.Advance(uint8(l.Stream), l.Timestamp, l.unfinished)
		d.out.Lines[l.Stream]++
		d.out.Bytes[l.Stream] += len(l.Body)
		if l.gap != nil {
			d.out.Gaps = append(d.out.Gaps, *l.gap)
		}
	}
	if d.turn.OnAdvance != nil {
		d.turn.OnAdvance(d.out.Cursor)
	}
	// A fresh slice: the consumer may still hold the delivered one.
	d.batch = make([]Line, 0, cap(d.batch))
	return true
}

// deliverLive hands the pending batch on while its stream is open, and stops the stream (stalled) when that
// takes longer than the turn's StallLimit; ok is false when ctx ended first, and waited is how long it took.
//
// A stream that is not read makes the daemon's follower wait with the log file it was reading. Once that file
// has been rotated away and another after it, the follower, when it resumes, goes on with the newest file and
// skips the ones between without a word (Docker 20.10, json-file). Closed instead, the stream is opened again
// at the cursor, and the reopen finds what was lost meanwhile (rotatedAway).
func (d *delivery) deliverLive(ctx context.Context, stop func()) (ok, stalled bool, waited time.Duration) {
	start := time.Now()
	if d.turn.StallLimit <= 0 {
		return d.deliver(ctx), false, time.Since(start)
	}
	fired := make(chan struct{})
	timer := time.AfterFunc(d.turn.StallLimit, func() {
		stop()
		close(fired)
	})
	ok = d.deliver(ctx)
	if !timer.Stop() {
		<-fired
		stalled = true
	}
	return ok, stalled, time.Since(start)
}

// tailAfterStall sizes the tail of the reopen after a stall: the turn's hint, and twice what the container
// wrote while the batch waited and in the two margins the floor trails by, at the rate the turn read, entries
// in elapsed.
func tailAfterStall(hint, entries int, elapsed, waited time.Duration) int {
	if elapsed <= 0 {
		return hint
	}
	rate := float64(entries) / elapsed.Seconds()
	behind := waited + 2*time.Duration(checkpoint.InversionMargin)
	return min(hint+int(2*rate*behind.Seconds()), maxTail)
}

// maxTail bounds a tail: reading back further costs the daemon about as much as reading the whole log.
const maxTail = 1 << 20

// drain waits for the reader goroutine after the stream was stopped, discarding what it still sends.
func (d *delivery) drain(lines <-chan Line, result <-chan readResult) {
	for range lines {
	}
	res := <-result
	d.out.Entries += res.entries
	d.out.Duplicates += res.dups
}

// finish delivers what is left once the reader is done and classifies the end of the stream.
func (d *delivery) finish(ctx context.Context, res readResult, yielding bool) next {
	d.out.Entries += res.entries
	d.out.Duplicates += res.dups
	if !d.deliver(ctx) {
		return done
	}
	switch {
	case yielding:
		// The read error is our own stop.
	case res.missed:
		return reopenInFull
	case errors.Is(res.err, io.EOF):
		d.out.End = EndStreamClosed
	case ctx.Err() != nil:
		d.out.End = EndCancelled
	default:
		d.out.End, d.out.Err = EndReadFailed, res.err
	}
	return done
}
