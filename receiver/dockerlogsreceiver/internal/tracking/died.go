package tracking

import (
	"context"
	"errors"
	"time"

	"github.com/docker/docker/api/types/events"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Once a container's removal has begun, the daemon refuses its log (409, then 404), and Docker 20.10's follower can
// end a stream at the stop before the lines written just before it (its wait at the end of the file takes the
// logger's close over a pending write). A turn whose stream ended can then no longer ask whether lines were left.
// So the log's last entry is read the moment a die event arrives, while the log is most likely still there, and
// kept on the container until it starts again: a turn whose stream ended and whose own read of the log's end
// failed, and a removal that meets no turn, compare the position with it.

// lastAtDie is the log's last entry, read at a die event of the container.
type lastAtDie struct {
	at    int64         // the die event's time (ns)
	done  chan struct{} // closed once the read returned
	entry turn.Entry
	err   error
}

// readAtDie starts reading the log's last entry of a tracked container that died; it does not wait.
func (r *core) readAtDie(ctx context.Context, msg events.Message) {
	c := r.containers.get(msg.Actor.ID)
	if c == nil || !c.is(readable) || c.autoRemove && r.files.opener(c.meta.ID) == nil {
		// A container started with --rm is being removed as it dies: the daemon refuses the read (409), and a log
		// request that races a removal is what can make the removal fail with the log deleted (early.go).
		return
	}
	d := &lastAtDie{at: msg.TimeNano, done: make(chan struct{})}
	c.setDied(d)
	open := r.opener(c.meta.ID)
	r.wg.Go(func() {
		defer close(d.done)
		d.entry, d.err = turn.LastEntry(ctx, open, c.tty)
	})
}

// awaitDieRead waits for the read started at the container's die event, so that a destroy handled next finds it.
func (r *core) awaitDieRead(ctx context.Context, id string) {
	if c := r.containers.get(id); c != nil {
		c.lastAtDie(ctx)
	}
}

// unreadAtDie reports whether the log held a line after the position when the container died; it is asked for a
// turn whose stream ended and whose own read of the log's end failed (readErr).
//
// When no read at a die event tells either (none arrived before the removal, or `docker rm -f` refused the log
// before it stopped the container), nothing the daemon answers can: the stream may have ended at the log's end,
// as it nearly always does, or a moment before. That is logged and not counted as a gap, which would claim a loss
// for nearly every container removed that way.
func (r *reader) unreadAtDie(ctx context.Context, c *trackedContainer, cur checkpoint.Cursor, readErr error) bool {
	last, at, ok := c.lastAtDie(ctx)
	if ok {
		return last.Timestamp > cur.Newest()
	}
	if errors.Is(readErr, docker.ErrGone) && ctx.Err() == nil {
		fields := []zap.Field{zap.String("container.id", c.meta.ID), zap.String("container.name", c.metadata().Name),
			zap.String("read_up_to", time.Unix(0, cur.Newest()).UTC().Format(time.RFC3339Nano))}
		if at != 0 {
			fields = append(fields, zap.String("died", time.Unix(0, at).UTC().Format(time.RFC3339Nano)))
		}
		r.logger.Info("A container was removed as its log stream ended, before the end of its log could be checked; "+
			"lines it wrote in its last moment, after the one read last, would not be counted", fields...)
	}
	return false
}

// setDied keeps the read started at a die event, in place of any earlier one.
func (c *trackedContainer) setDied(d *lastAtDie) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.died = d
}

// startedAgain drops the last entry read when the container last died: a new run writes after it.
func (c *trackedContainer) startedAgain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.died = nil
}

// lastAtDie waits for the read started at the container's last die event and returns the entry it found, and the
// event's time (0 without one); ok is false when there was no such read, or it failed.
func (c *trackedContainer) lastAtDie(ctx context.Context) (last turn.Entry, at int64, ok bool) {
	c.mu.Lock()
	d := c.died
	c.mu.Unlock()
	if d == nil {
		return turn.Entry{}, 0, false
	}
	select {
	case <-d.done:
	case <-ctx.Done():
		return turn.Entry{}, d.at, false
	}
	return d.entry, d.at, d.err == nil
}

// readToDieLocked reports, with c.mu held, whether the read at the last die event found nothing after the position:
// the container was read to the end of its log. A read not returned yet does not tell, nor does a last entry
// stamped in the very second of the position: Podman stamps whole seconds, so lines after it can share its time.
func (c *trackedContainer) readToDieLocked() bool {
	e, ok := c.diedEntryLocked()
	if !ok {
		return false
	}
	newest := c.cursor.Newest()
	// An empty log (0) had nothing to read.
	return e.Timestamp == 0 || e.Timestamp < newest || e.Timestamp == newest && e.Timestamp%int64(time.Second) != 0
}

// diedEntryLocked returns, with c.mu held, the entry read at the last die event, if that read returned without error.
func (c *trackedContainer) diedEntryLocked() (turn.Entry, bool) {
	d := c.died
	if d == nil {
		return turn.Entry{}, false
	}
	select {
	case <-d.done:
		return d.entry, d.err == nil
	default:
		return turn.Entry{}, false
	}
}
