package turn

import (
	"context"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// runStream reads one stream opened from cur and says what the turn does next.
func runStream(ctx context.Context, t *Spec, cur checkpoint.Cursor, req docker.LogsRequest, anchor int64, checkJumps bool, yield <-chan pool.Reason, out *Outcome) next {
	streamCtx, cancelStream := context.WithCancel(ctx)
	defer cancelStream()
	if out.Opened.IsZero() {
		out.Opened = time.Now()
	}
	defer func() { out.Duration = time.Since(out.Opened) }()

	// Taken before the request: the daemon's follower starts where the log ended when it handled it.
	opened := time.Now()
	body, err := t.Open(streamCtx, req)
	if err != nil {
		openFailed(ctx, out, err)
		return done
	}
	// Closing the body is what unblocks a read in progress; cancelling alone may not.
	s := newStream(ctx, t, out, yield, checkJumps, func() { cancelStream(); body.Close() })
	s.src = &source{Reader: body}
	go readLines(streamCtx, ctx, s.src, t, cur, anchor, s.lines, s.result)
	s.start(opened)
	defer s.close()
	for {
		if n := s.await(); n != readOn {
			return n
		}
	}
}

// stream is one open stream of a turn: its steps share the batch, the timers and the lag watch, and each says
// with one next what it led to.
type stream struct {
	// ctx is the turn's: it ends at shutdown, while the stream's own ends with stop.
	ctx context.Context
	t   *Spec
	out *Outcome
	// stop closes the stream; the reader then ends and closes lines.
	stop   func()
	lines  chan Line
	result chan readResult
	// src is the body the reader reads: it tells whether the reader still holds lines it has not sent.
	src   *source
	d     delivery
	lag   lagWatch
	first *firstBatch
	flush *time.Timer
	// groupTimer drives groupDue, which fires when the first open multiline record times out; nil while none is open.
	groupTimer *time.Timer
	groupDue   <-chan time.Time
	// groupsLate is when a record's timeout came while the reader still held lines (groupsDue); zero otherwise.
	groupsLate time.Time
	// checkJumps says whether a line that jumps ahead closes the stream (Run checks a jump once per cursor).
	checkJumps bool
}

// newStream makes what the reader is started with (the channels); start arms the rest once it runs.
func newStream(ctx context.Context, t *Spec, out *Outcome, yield <-chan pool.Reason, checkJumps bool, stop func()) *stream {
	return &stream{
		ctx: ctx, t: t, out: out, stop: stop, checkJumps: checkJumps,
		lines:  make(chan Line, t.MaxBatch),
		result: make(chan readResult, 1),
		d:      delivery{turn: t, out: out, stop: stop, yield: yield, groups: newGroups(t.Multiline, &out.Waiting)},
	}
}

// start arms the watches once the reader runs: the lag is measured from opened, taken before the request.
func (s *stream) start(opened time.Time) {
	s.lag = newLagWatch(s.t.LagLimit, s.t.LogFileSize, opened)
	s.flush = time.NewTimer(s.t.FlushInterval)
	s.groupTimer = time.NewTimer(time.Hour)
	s.groupTimer.Stop()
	s.first = newFirstBatch()
}

// close ends the first batch, stops the timers, and closes the stream if a step has not already.
func (s *stream) close() {
	s.first.handedOn()
	s.groupTimer.Stop()
	s.flush.Stop()
	s.stop()
}

// await waits for the next thing that happens to the stream and handles it.
func (s *stream) await() next {
	select {
	case l, ok := <-s.lines:
		if !ok {
			return s.d.finish(s.ctx, <-s.result)
		}
		return s.take(l)
	case <-s.groupDue:
		return s.groupsDue()
	case <-s.flush.C:
		return s.handOn()
	case <-s.first.due:
		if s.first.quiet(time.Now()) && len(s.d.batch) > 0 {
			return s.handOn()
		}
		return readOn
	case reason := <-s.d.yield:
		// Stop reading, then hand on every line already read before the turn ends.
		s.d.yielded(reason)
		return readOn
	case <-s.ctx.Done():
		s.stop()
		s.d.drain(s.lines, s.result)
		s.out.End = EndCancelled
		return done
	}
}

// take adds a line read to its record, and the records it completes to the batch.
func (s *stream) take(l Line) next {
	if s.checkJumps && s.lag.jumped(l.Timestamp) && s.d.reason == "" {
		// The lines between may be missing: hand on those before this one, which is read again with them.
		s.t.Budget.release(l)
		s.out.Undelivered += l.entries
		return s.reopenAfter(reopenJumped)
	}
	if s.d.groups == nil {
		s.queue(l)
	} else {
		s.queue(s.d.groups.add(l, time.Now())...)
		s.armGroups()
	}
	if s.lag.fellBehind(l.Timestamp, len(l.Body), time.Now()) && s.d.reason == "" {
		// Hand on what was read, then open the stream again at the cursor.
		n := s.reopenAfter(reopenBehind)
		if n == reopenBehind {
			s.t.TailHint = tailAfterStall(s.t.TailHint, s.out.Entries, time.Since(s.out.Opened), s.lag.lag())
		}
		return n
	}
	if len(s.d.batch) >= s.t.MaxBatch {
		return s.handOn()
	}
	return readOn
}

// groupsDue closes the multiline records that timed out, after taking the lines already read: a record may go on in them.
func (s *stream) groupsDue() next {
	for range cap(s.lines) {
		var l Line
		var ok bool
		select {
		case l, ok = <-s.lines:
		default:
		}
		if !ok {
			// Nothing waiting, or the reader is done: finish sees the closed channel next.
			break
		}
		if n := s.take(l); n != readOn {
			return n
		}
	}
	now := time.Now()
	if s.groupsLate.IsZero() {
		s.groupsLate = now
	}
	if !s.src.caughtUp() && now.Sub(s.groupsLate) < s.t.Multiline.FlushTimeout {
		// The reader holds bytes it has not sent, in which the record may go on: a turn that reads again a record
		// an earlier turn left open finds it past its timeout at once, however soon its next line comes. Asked
		// again shortly, for at most one more timeout, so that a reader kept busy cannot hold a record forever.
		s.groupTimer.Reset(caughtUpPoll)
		s.groupDue = s.groupTimer.C
		return readOn
	}
	s.groupsLate = time.Time{}
	s.queue(s.d.groups.expired(now)...)
	s.armGroups()
	if len(s.d.batch) >= s.t.MaxBatch {
		return s.handOn()
	}
	return readOn
}

// queue adds complete records to the batch; a batch that was empty starts waiting for its flush.
func (s *stream) queue(records ...Line) {
	if len(records) == 0 {
		return
	}
	if len(s.d.batch) == 0 {
		s.flush.Reset(s.t.FlushInterval)
	}
	s.d.batch = append(s.d.batch, records...)
	s.first.queued()
}

// caughtUpPoll is how often groupsDue asks again whether the reader has sent every line it read.
const caughtUpPoll = 5 * time.Millisecond

// armGroups sets groupDue to the deadline of the first open multiline record, so that no record waits past it.
func (s *stream) armGroups() {
	s.groupDue = nil
	at, ok := s.d.groups.deadline()
	if !ok {
		s.groupsLate = time.Time{}
	}
	if ok {
		s.groupTimer.Reset(time.Until(at))
		s.groupDue = s.groupTimer.C
	}
}

// handOn delivers the pending batch while the stream is live.
func (s *stream) handOn() next {
	s.first.handedOn()
	ok, stalled, behind, waited := s.d.deliverLive(s.ctx, &s.lag)
	switch {
	case !ok:
		s.stop()
		s.d.drain(s.lines, s.result)
		return done
	case (stalled || behind) && s.d.reason == "":
		// What the stream read meanwhile is dropped and read again.
		s.d.drain(s.lines, s.result)
		s.t.TailHint = tailAfterStall(s.t.TailHint, s.out.Entries, time.Since(s.out.Opened), waited)
		if behind {
			return reopenBehind
		}
		return reopenAtCursor
	}
	return readOn
}

// reopenAfter closes the stream and hands on the batch; the turn goes on with n once the batch was accepted.
func (s *stream) reopenAfter(n next) next {
	s.stop()
	delivered := s.d.deliver(s.ctx)
	s.d.drain(s.lines, s.result)
	if !delivered {
		return done
	}
	return n
}
