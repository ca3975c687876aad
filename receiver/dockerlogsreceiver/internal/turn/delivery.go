package turn

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// delivery holds a turn's pending batch and moves the cursor past what was accepted.
//
// It also watches the pool's yield channel while a batch is being handed on: a consumer that blocks or
// refuses must not keep a stream open past its rotation, nor keep a waiting container from its slot.
// A yield that comes between two deliveries only stops reading, and the lines already read are handed on:
// dropping them would starve a turn whose time slice ends before its first flush. Handing them on ends with
// the grace after the yield (Spec.YieldGrace), whatever the consumer answers: the slot is owed to another.
type delivery struct {
	turn  *Spec
	out   *Outcome
	batch []Line
	// stop closes the stream; the reader then ends and closes its lines channel.
	stop func()
	// yield is the pool's channel, nil once a reason arrived: the pool asks a turn at most once.
	yield <-chan pool.Reason
	// reason is why the pool asked the turn to end, or empty.
	reason pool.Reason
	// graceEnds is when a turn asked to end stops handing on; set with reason.
	graceEnds time.Time
	// groups holds the multiline records still open; nil when every line is a record.
	groups *groups
}

// yielded records the pool's request to end the turn and stops reading.
func (d *delivery) yielded(reason pool.Reason) {
	d.reason, d.yield = reason, nil
	d.graceEnds = time.Now().Add(d.turn.yieldGrace())
	d.stop()
}

// endYielded ends the turn for the reason the pool gave.
func (d *delivery) endYielded() {
	d.out.End, d.out.Yield = EndYielded, d.reason
}

// deliver hands the pending batch on; it returns false when the turn must end: ctx ended, or a yield cancelled the delivery.
func (d *delivery) deliver(ctx context.Context) bool {
	if len(d.batch) == 0 {
		return true
	}
	interrupted, err := d.hand(ctx)
	if err == nil {
		// Accepted, even when a yield cancelled the call too late: the lines are the consumer's now.
		d.advance()
	} else {
		// Not accepted: the next turn reads these lines again, from the cursor.
		d.discard()
	}
	switch {
	case err == nil && !interrupted:
		return true
	case ctx.Err() != nil || !interrupted:
		// Shutting down: Deliver fails only when its context ends.
		d.out.End = EndCancelled
	default:
		d.endYielded()
	}
	return false
}

// advance moves the cursor past the accepted batch and starts a new one.
func (d *delivery) advance() {
	// Released first: saving the cursor below may take a while, and other readers may be waiting.
	d.turn.Budget.release(d.batch...)
	// The floor must not pass the first line of an open record: it is not delivered yet, and its output may
	// have no position to hold the floor back.
	var open int64
	if d.groups != nil {
		open = d.groups.earliest()
	}
	for _, l := range d.batch {
		unfinished := l.unfinished
		if open != 0 && (unfinished == 0 || open < unfinished) {
			unfinished = open
		}
		if l.stamps == nil {
			d.out.Cursor.Advance(l.Stream, l.Timestamp, unfinished)
		}
		// A record's position is its last line's: each of its lines is counted at its own time.
		for _, ts := range l.stamps {
			d.out.Cursor.Advance(l.Stream, ts, unfinished)
		}
		*d.out.Lines.At(l.Stream) += l.LineCount()
		*d.out.Bytes.At(l.Stream) += len(l.Body)
		if l.gap != nil {
			d.out.Gaps = append(d.out.Gaps, *l.gap)
			d.out.widen = widening{gap: len(d.out.Gaps), stream: l.Stream}
		} else {
			d.out.widen.see(l, d.out.Gaps)
		}
	}
	if d.groups != nil {
		d.out.Cursor.Hold(open)
	}
	if d.turn.OnAdvance != nil {
		d.turn.OnAdvance(d.out.Cursor)
	}
	// A fresh slice: the consumer may still hold the delivered one.
	d.batch = make([]Line, 0, cap(d.batch))
}

// hand calls Deliver and, while it runs, waits for a yield and then for the end of its grace; interrupted says
// that either cancelled the call.
func (d *delivery) hand(ctx context.Context) (interrupted bool, err error) {
	if d.yield == nil && d.reason == "" {
		return false, d.turn.Deliver(ctx, d.batch)
	}
	if d.reason != "" && !time.Now().Before(d.graceEnds) {
		// Not even tried: a consumer that accepts a cancelled call would keep the turn past its grace.
		return true, context.DeadlineExceeded
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.turn.Deliver(callCtx, d.batch) }()
	// grace fires when a turn asked to end has spent its grace; nil until the pool asks.
	var grace *time.Timer
	var graceOver <-chan time.Time
	armGrace := func() {
		grace = time.NewTimer(time.Until(d.graceEnds))
		graceOver = grace.C
	}
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	if d.reason != "" {
		armGrace()
	}
	for {
		select {
		case err := <-done:
			return false, err
		case reason := <-d.yield:
			d.yielded(reason)
			if interrupts(reason) {
				cancel()
				// Deliver returns soon after its context ends; waiting keeps the batch ours until it did.
				return true, <-done
			}
			armGrace()
		case <-graceOver:
			cancel()
			return true, <-done
		}
	}
}

// interrupts says whether a yield cancels a delivery under way; the lines not accepted are read again at the next turn.
//
// A removed container's turn still hands on what it read, within its grace: once destroyed, its log cannot be
// read again, and what the consumer did not accept by then is lost with it.
func interrupts(reason pool.Reason) bool {
	return reason != pool.ReasonRemoved
}

// deliverLive hands the pending batch on while its stream is open, and stops the stream when that takes longer
// than the turn's StallLimit (stalled) or than the reading may pause before it falls behind (behind); ok is false
// when the turn must end (as deliver), and waited is how long it took.
//
// A stream that is not read makes the daemon's follower wait with the log file it was reading. Once that file
// has been rotated away and another after it, the follower, when it resumes, goes on with the newest file and
// skips the ones between without a word (Docker 20.10, json-file). Closed instead, the stream is opened again
// at the cursor, and the reopen finds what was lost meanwhile (rotatedAway).
func (d *delivery) deliverLive(ctx context.Context, lag *lagWatch) (ok, stalled, behind bool, waited time.Duration) {
	start := time.Now()
	limit, lagBound := d.turn.StallLimit, false
	if rest, watched := lag.remaining(start); watched && (limit <= 0 || rest < limit) {
		limit, lagBound = max(rest, 0), true
	}
	if limit <= 0 && !lagBound {
		return d.deliver(ctx), false, false, time.Since(start)
	}
	fired := make(chan struct{})
	timer := time.AfterFunc(limit, func() {
		d.stop()
		close(fired)
	})
	ok = d.deliver(ctx)
	if !timer.Stop() {
		<-fired
		stalled, behind = !lagBound, lagBound
	}
	return ok, stalled, behind, time.Since(start)
}

// discard drops the pending batch and the open multiline records, which the next turn reads again.
func (d *delivery) discard() {
	d.turn.Budget.release(d.batch...)
	for _, l := range d.batch {
		d.out.Undelivered += l.entries
	}
	d.batch = nil
	d.discardGroups()
}

// discardGroups drops the open multiline records: they are read again from their first line, never split.
func (d *delivery) discardGroups() {
	if d.groups == nil {
		return
	}
	lines := d.groups.discard()
	d.turn.Budget.release(lines...)
	for _, l := range lines {
		d.out.Undelivered += l.entries
	}
}

// drain waits for the reader goroutine after the stream was stopped, discarding the pending batch and what it still sends.
func (d *delivery) drain(lines <-chan Line, result <-chan readResult) {
	d.discard()
	for l := range lines {
		d.turn.Budget.release(l)
		d.out.Undelivered += l.entries
	}
	d.account(<-result)
}

// account adds what the reader counted to the outcome.
func (d *delivery) account(res readResult) {
	d.out.Entries += res.entries
	d.out.Duplicates += res.dups
	d.out.Throttled += res.throttled
	d.out.Undelivered += res.undelivered
	d.out.Skipped = append(d.out.Skipped, res.skipped...)
	if errors.Is(res.err, decode.ErrMalformed) {
		after := res.malformedAfter
		d.out.MalformedAfter = &after
	}
}

// finish delivers what is left once the reader is done and classifies the end of the stream.
func (d *delivery) finish(ctx context.Context, res readResult) next {
	// A yield that came before the reader ended stopped the stream: its read error is our own.
	stopped := d.reason != ""
	d.account(res)
	d.closeGroups(ctx, res, stopped)
	if !d.deliver(ctx) {
		return done
	}
	d.discardGroups()
	if res.ended != 0 && d.turn.TTY && !stopped && errors.Is(res.err, io.EOF) {
		d.endUnterminated(res.ended)
	}
	switch {
	case stopped:
		d.endYielded()
	case res.missed:
		return reopenInFull
	case errors.Is(res.err, decode.ErrResent):
		return reopenResent
	case errors.Is(res.err, io.EOF):
		d.out.End = EndStreamClosed
	case ctx.Err() != nil:
		d.out.End = EndCancelled
	default:
		d.out.End, d.out.Err = EndReadFailed, res.err
	}
	return done
}

// endUnterminated records that the log ended with the delivered line stamped ts, which has no newline, once the
// cursor is past it and past every line before it (checkpoint.Cursor.EndUnterminated).
func (d *delivery) endUnterminated(ts int64) {
	c := &d.out.Cursor
	if c.Stdout.Time != ts || c.Held != 0 || c.Stepped != 0 {
		return
	}
	c.EndUnterminated(ts)
	if d.turn.OnAdvance != nil {
		d.turn.OnAdvance(*c)
	}
}

// closeGroups adds to the batch the open multiline records that are complete when the stream ended: those that
// timed out, and every one when the stream ended with its log (the container stopped, and a record does not
// span two runs). A stream that ended before the end of its log (one that fell behind ends when its container
// stops) leaves them open: the next turn reads them whole.
func (d *delivery) closeGroups(ctx context.Context, res readResult, stopped bool) {
	if d.groups == nil || d.groups.earliest() == 0 {
		return
	}
	if !stopped && errors.Is(res.err, io.EOF) && ctx.Err() == nil {
		if last, err := LastEntry(ctx, d.turn.Open, d.turn.TTY); err == nil && last.Timestamp != 0 && last.Timestamp <= res.last {
			d.batch = append(d.batch, d.groups.flushAll()...)
			return
		}
	}
	d.batch = append(d.batch, d.groups.expired(time.Now())...)
}
