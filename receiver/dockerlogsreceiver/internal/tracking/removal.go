package tracking

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// A container removed before its log was read to the end takes what it wrote after the position with it. Whoever
// sees the removal last, the destroy event (or prune) or the turn that was reading the container, reports it once
// as a removed_unread gap; a container whose log was read to the end after it stopped is removed silently.

// restarted checks, on a start event of a known container, whether it started again since it was tracked (the
// event may be older than the inspection that tracked it), and then saves that its log has more to read.
func (r *Tracker) restarted(ctx context.Context, c *trackedContainer) {
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

// removedUnread counts and reports a container removed before its log was read to the end.
func (r *core) removedUnread(ctx context.Context, id, name string, cur checkpoint.Cursor, startedAt int64) {
	r.removedUnreadUntil(ctx, id, name, cur, startedAt, 0)
}

// removedTrackedUnread counts and reports a tracked container removed before its log was read to the end: up to
// its log's last entry when that was read at its die event.
func (r *core) removedTrackedUnread(ctx context.Context, c *trackedContainer) {
	cur, started, last := c.removalSpan()
	r.removedUnreadUntil(ctx, c.meta.ID, c.metadata().Name, cur, started, last)
}

// removedUnreadUntil is removedUnread with the time of the log's last entry (last), 0 when not known: then the
// span reaches to now.
func (r *core) removedUnreadUntil(ctx context.Context, id, name string, cur checkpoint.Cursor, startedAt, last int64) {
	if !r.removals.first(id) {
		return
	}
	from := cur.Newest()
	if from == 0 {
		from = max(cur.Start, startedAt)
	}
	to := time.Now().UnixNano()
	if last > from && last < to {
		to = last
	}
	if from == 0 || from > to {
		// Nothing tells since when: the span is unknown, the gap is still counted.
		from = to
	}
	g := turn.Gap{Cause: turn.GapRemovedUnread, From: from, To: to}
	r.telemetry.GapsFound(ctx, []turn.Gap{g})
	r.logGap(id, name, g)
}

// forget drops a container that is gone, and its saved position.
func (r *Tracker) forget(ctx context.Context, id string) {
	if msg, ok := r.early.deferredStart(id); ok {
		// Its start event could not be handled: it is tracked now from the event and read from the stream opened
		// then, or counted as removed unread.
		r.admit.trackFrom(ctx, id, &msg, true)
	}
	r.excluded.remove(id)
	if c := r.containers.get(id); c != nil {
		reading, unread := c.forgetNow()
		if reading {
			// The turn reading it, or about to read the stream opened at its start, reads on to the end of its
			// log (the stream ends there, the container being gone), then reports what is missing and lets it go.
			r.files.forget(id)
			r.deletePosition(ctx, id)
			if c.claimEarly() {
				// The stream opened at its start waits for a slot the pool may not free for a time slice: it is open
				// already and ends with the log, so it is read now.
				r.pool.Remove(id)
				r.wg.Go(func() { r.reader.readTurn(ctx, c, nil) })
			}
			return
		}
		if unread {
			r.removedTrackedUnread(ctx, c)
		}
	} else if cur, saved, err := r.store.Load(ctx, id); err == nil && saved && !cur.Ended {
		// Removed while no receiver ran, or before it was tracked again: its saved position tells.
		r.removedUnread(ctx, id, "", cur, 0)
	}
	r.early.discard(id)
	r.pool.Remove(id)
	r.containers.remove(id)
	r.files.forget(id)
	r.labelWarnings.Forget(id)
	r.deletePosition(ctx, id)
}

// deletePosition removes a container's saved position.
func (r *core) deletePosition(ctx context.Context, id string) {
	if err := r.store.Delete(ctx, id); err != nil && ctx.Err() == nil {
		r.logger.Warn("Deleting the saved read position failed", zap.String("container.id", id), zap.Error(err))
	}
}
