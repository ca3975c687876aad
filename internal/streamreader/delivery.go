package streamreader

import (
	"context"
	"errors"
	"io"
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

// drain waits for the reader goroutine after the stream was stopped, discarding what it still sends.
func (d *delivery) drain(lines <-chan Line, result <-chan readResult) {
	for range lines {
	}
	res := <-result
	d.out.Entries += res.entries
	d.out.Duplicates += res.dups
}

// finish delivers what is left once the reader is done and classifies the end of the stream.
func (d *delivery) finish(ctx context.Context, res readResult, yielding bool) (reopen bool) {
	d.out.Entries += res.entries
	d.out.Duplicates += res.dups
	if !d.deliver(ctx) {
		return false
	}
	switch {
	case yielding:
		// The read error is our own stop.
	case res.missed:
		return true
	case errors.Is(res.err, io.EOF):
		d.out.End = EndStreamClosed
	case ctx.Err() != nil:
		d.out.End = EndCancelled
	default:
		d.out.End, d.out.Err = EndReadFailed, res.err
	}
	return false
}
