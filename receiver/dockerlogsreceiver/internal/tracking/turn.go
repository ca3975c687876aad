package tracking

import (
	"context"
	"errors"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// stallLimit is how long a batch may wait to be accepted while its stream stays open. The daemon's follower of
// a stream that is not read falls behind, and one that falls a log file behind skips rotated files silently
// (seen on Docker 20.10 with json-file): closed instead, the stream is reopened at the position, and the reopen
// reports what rotation deleted meanwhile. A second is far below the time a log file of a sensible max-size
// takes to fill, and far above the time the pipeline takes to accept a batch when it is not pushing back.
const stallLimit = time.Second

// Backoff before a container whose stream keeps failing is tried again.
const (
	failureBackoffInitial = 500 * time.Millisecond
	failureBackoffMax     = 30 * time.Second
)

// Turn is the pool's TurnFunc: it reads one container for one turn and says whether and when it wants another.
func (r *reader) Turn(ctx context.Context, id string, yield <-chan pool.Reason) pool.Next {
	c := r.containers.get(id)
	if c == nil || !c.beginTurn() {
		// Unknown, or read already outside the pool (forget).
		return pool.Next{}
	}
	return r.readTurn(ctx, c, yield)
}

// readTurn reads a container whose turn has begun.
func (r *reader) readTurn(ctx context.Context, c *trackedContainer, yield <-chan pool.Reason) pool.Next {
	id := c.meta.ID
	from := c.position()
	var api string
	if c.tty && c.driver == "local" {
		// Not known, a long line's last piece is read as json-file's: to the next newline.
		api, _ = r.client.DaemonAPIVersion(ctx)
	}
	out := turn.Run(ctx, turn.Spec{
		Open: r.opener(id),
		Deliver: func(ctx context.Context, lines []turn.Line) error {
			return r.deliverer.Deliver(ctx, c.metadata(), lines)
		},
		Cursor:        from,
		TailHint:      c.tailHint(time.Now()),
		TTY:           c.tty,
		Driver:        c.driver,
		DaemonAPI:     api,
		MaxLineBytes:  r.cfg.MaxLogSize,
		MaxBatch:      r.cfg.MaxBatchSize,
		FlushInterval: r.cfg.FlushInterval,
		// The turns' small batches flush together and go in one delivery (records' combiner).
		FlushOnTick: true,
		Budget:      r.budget,
		OnAdvance:   func(cur checkpoint.Cursor) { r.savePosition(ctx, c, cur) },
		// A turn asked to end keeps its slot for at most one more slice, however the pipeline answers.
		YieldGrace:    r.cfg.TimeSlice,
		StallLimit:    stallLimit,
		LagLimit:      c.lagLimit(),
		LogFileSize:   c.logFileSize,
		SkipMalformed: r.malformed.of(id).Skip,
		Multiline:     c.multiline,
		Waiting:       c.openRecords(),
		Limit:         c.limit,
	}, yield)
	// Only the skips not reported before are counted and logged.
	out.Skipped = r.malformed.observe(id, out)
	r.telemetry.TurnEnded(ctx, out)
	r.reportSkipped(c, out.Skipped)
	r.reportGaps(c, out.Gaps)
	if out.Repaired {
		r.logger.Warn("A saved read position lay after anything the Docker daemon can have stamped, and was taken back; "+
			"lines after the newest one known delivered may be delivered again",
			zap.String("container.id", id), zap.String("container.name", c.metadata().Name))
	}
	if r.onTurnEnd != nil {
		r.onTurnEnd(id, out)
	}

	next, ended := pool.Next{}, out.End == turn.EndStreamClosed
	if !c.is(forgotten) {
		next, ended = r.afterRun(ctx, c, from, out)
	} else if ended {
		// Removed while it was read: its stream ended at the end of its log, unless what was read when it died says
		// there was more.
		ended = !r.unreadAtDie(ctx, c, out.Cursor, docker.ErrGone)
	}
	gone, unread := c.endTurn(ended)
	switch {
	case gone:
		// Destroyed while this turn read or delivered its last lines: drop the position a late save wrote back.
		r.containers.remove(id)
		r.deletePosition(ctx, c.meta.ID)
		r.malformed.forget(id)
		if unread {
			r.removedTrackedUnread(ctx, c)
		}
		return pool.Next{}
	case ended:
		// Saved, so that a removal seen after a restart of the collector knows nothing was left to read.
		r.savePosition(ctx, c, c.position())
	}
	return next
}

// afterRun records what a turn learnt and says whether and when the container is read again, and whether the
// turn read its log to the end after it stopped.
func (r *reader) afterRun(ctx context.Context, c *trackedContainer, from checkpoint.Cursor, out turn.Outcome) (next pool.Next, ended bool) {
	switch out.End {
	case turn.EndYielded:
		c.afterTurn(out, false)
		return pool.Next{Again: true}, false
	case turn.EndCancelled:
		c.afterTurn(out, false)
		return pool.Next{}, false
	case turn.EndStreamClosed:
		c.afterTurn(out, false)
		// The stream ends when the container stops; a container that was restarted meanwhile is read on, and so
		// is one whose stream ended before the end of its log.
		again := r.stillRunning(ctx, c) || r.unreadLeft(ctx, c, out.Cursor, out.Cursor.Newest() != from.Newest(), out.Undelivered > 0)
		return pool.Next{Again: again}, !again
	default:
		return r.afterFailure(ctx, c, out, out.Err), false
	}
}

// opener opens one container's log stream.
func (r *core) opener(id string) turn.Opener {
	if open := r.files.opener(id); open != nil {
		// Its files are read instead: a stream opened at its start is not needed.
		r.early.discard(id)
		return open
	}
	return func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) {
		if body, parked, err := r.early.take(ctx, id, req); parked {
			return body, err
		}
		return r.openLogs(ctx, id, req)
	}
}

// afterFailure decides whether a container whose stream failed is tried again, and after how long.
func (r *reader) afterFailure(ctx context.Context, c *trackedContainer, out turn.Outcome, err error) pool.Next {
	failures := c.afterTurn(out, true)
	if ctx.Err() == nil {
		r.telemetry.TurnFailed(ctx, out.End, err)
	}
	switch {
	case ctx.Err() != nil:
		return pool.Next{}
	case errors.Is(err, docker.ErrNotReadable):
		// Permanent: the logging driver cannot be read; a start event tries again.
		c.setState(unreadable)
		r.logger.Warn("Container logs cannot be read through the Docker API; skipping this container",
			zap.String("container.id", c.meta.ID), zap.String("container.name", c.metadata().Name), zap.Error(err))
		return pool.Next{}
	case errors.Is(err, docker.ErrGone):
		return pool.Next{}
	}
	r.logger.Warn("Reading container logs failed; retrying",
		zap.String("container.id", c.meta.ID), zap.String("container.name", c.metadata().Name),
		zap.Int("failures", failures), zap.Error(err))
	// Backing off in the pool, not in the turn, so that the slot serves other containers meanwhile.
	return pool.Next{Again: true, After: backoff(failures)}
}

// stillRunning asks the daemon whether the container runs now.
func (r *reader) stillRunning(ctx context.Context, c *trackedContainer) bool {
	info, err := r.client.Inspect(ctx, c.meta.ID)
	if err != nil {
		// Unknown: try again, the next stream will tell.
		return ctx.Err() == nil && !errors.Is(err, docker.ErrGone)
	}
	return info.State != nil && info.State.Running
}

// unreadLeft reports whether the log of a stopped container holds a line after the position. A stream that
// fell behind ends when its container stops, before the end of the log (seen on Docker 20.10 with json-file);
// another turn reads the rest, or reports it rotated away.
//
// A last line without a newline counts too: the turn whose stream ends at the end of the log delivers it
// (internal/turn), which moves the position to its time, so it is read again only while it is not delivered.
//
// unsent says the turn read entries it did not deliver. When the log ends with an unfinished line, those are that
// line's, which the turn's stream ended in without confirming that the log ends there (one that fell behind ends
// in the middle of a long line): the line's newest piece carries its first piece's time, which the position may
// have reached with the line's first records, or passed with the other output's lines, so it is read again.
//
// Podman stamps whole seconds, so lines after the position can share its time, and it ends a follow stream about
// half a second after its container stopped, whether the stream reached the end of the log or not: a turn that
// advanced to the log's last second is read again, until one finds nothing more.
func (r *reader) unreadLeft(ctx context.Context, c *trackedContainer, cur checkpoint.Cursor, advanced, unsent bool) bool {
	last, err := turn.LastEntry(ctx, r.opener(c.meta.ID), c.tty)
	if err != nil {
		// Removed meanwhile, the daemon refuses its log: the entry read when it died tells.
		return r.unreadAtDie(ctx, c, cur, err)
	}
	if unsent && last.Unfinished {
		return true
	}
	wholeSecond := last.Timestamp%int64(time.Second) == 0
	return last.Timestamp > cur.Newest() || advanced && wholeSecond && last.Timestamp == cur.Newest()
}

// savePosition keeps the cursor in memory and in the storage extension, if any.
//
// A cursor behind the one recorded is neither kept nor saved: of a turn that advanced and a start event that copied
// the cursor before, the newer position stays, whichever saves last.
func (r *core) savePosition(ctx context.Context, c *trackedContainer, cur checkpoint.Cursor) {
	if !c.setPosition(cur) || c.is(forgotten) {
		return
	}
	// The records are already accepted: a shutdown under way must not cut their position's save short.
	err := r.store.Save(context.WithoutCancel(ctx), c.meta.ID, cur)
	if err != nil && !errors.Is(err, checkpoint.ErrBehind) {
		r.logger.Warn("Saving the read position failed", zap.String("container.id", c.meta.ID), zap.Error(err))
	}
}

// backoff grows with the number of failed turns in a row.
func backoff(failures int) time.Duration {
	d := failureBackoffInitial << min(failures-1, 10)
	return min(d, failureBackoffMax)
}
