package dockerlogsreceiver

import (
	"context"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// A container removed before its log was read to the end takes what it wrote after the position with it. Whoever
// sees the removal last, the destroy event (or prune) or the turn that was reading the container, reports it once
// as a removed_unread gap; a container whose log was read to the end after it stopped is removed silently.

// beginTurn marks the container as being read; it reports false when a turn reads it already.
func (c *trackedContainer) beginTurn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inTurn {
		return false
	}
	c.inTurn = true
	c.early = false
	return true
}

// claimEarly begins a turn outside the pool when the stream opened at the container's start still waits for its
// first turn; it reports whether it did.
func (c *trackedContainer) claimEarly() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.early || c.inTurn {
		return false
	}
	c.inTurn = true
	c.early = false
	return true
}

// endTurn marks the end of a turn, which read the log to its end when ended is set; it reports whether the
// container was forgotten meanwhile and, if so, whether lines may have gone with it.
func (c *trackedContainer) endTurn(ended bool) (gone, unread bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inTurn = false
	if ended {
		c.cursor.Ended = true
	}
	if c.state != forgotten {
		return false, false
	}
	return true, c.prior == readable && !c.cursor.Ended
}

// forgetNow marks the container forgotten; unread says that lines may have gone with it, unless a turn reading
// it, or about to read the stream opened at its start (reading), finds its log's end.
func (c *trackedContainer) forgetNow() (reading, unread bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != forgotten {
		c.prior, c.state = c.state, forgotten
	}
	return c.inTurn || c.early && c.prior == readable, c.prior == readable && !c.cursor.Ended
}

// started records that the container started at ts (ns); a start after the one known means its log has more to read.
func (c *trackedContainer) started(ts int64) (cur checkpoint.Cursor, again bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts <= c.startedAt {
		return c.cursor, false
	}
	c.cursor.Ended = false
	c.startedAt = ts
	return c.cursor, true
}

// restarted checks, on a start event of a known container, whether it started again since it was tracked (the
// event may be older than the inspection that tracked it), and then saves that its log has more to read.
func (r *logsReceiver) restarted(ctx context.Context, c *trackedContainer) {
	info, err := r.client.Inspect(ctx, c.meta.ID)
	if err != nil || info.State == nil {
		return
	}
	at, err := time.Parse(time.RFC3339Nano, info.State.StartedAt)
	if err != nil {
		return
	}
	if cur, again := c.started(at.UnixNano()); again {
		// Saved at once: a removal seen after a restart of the collector must not find the old end.
		r.savePosition(ctx, c, cur)
	}
}

// removalSpan returns the position and the last start, from which lines may be lost with the container.
func (c *trackedContainer) removalSpan() (checkpoint.Cursor, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor, c.startedAt
}

// removedUnread counts and reports a container removed before its log was read to the end.
func (r *logsReceiver) removedUnread(ctx context.Context, id, name string, cur checkpoint.Cursor, startedAt int64) {
	from := cur.Newest()
	if from == 0 {
		from = max(cur.Start, startedAt)
	}
	to := time.Now().UnixNano()
	if from == 0 || from > to {
		// Nothing tells since when: the span is unknown, the gap is still counted.
		from = to
	}
	g := turn.Gap{Cause: turn.GapRemovedUnread, From: from, To: to}
	r.telemetry.gapsFound(ctx, []turn.Gap{g})
	r.logGap(id, name, g)
}
