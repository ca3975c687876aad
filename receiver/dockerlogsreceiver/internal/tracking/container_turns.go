package tracking

import (
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
)

// A turn's bracket: one turn at a time reads a container (beginTurn, or claimEarly outside the pool, then endTurn),
// and a removal that meets a turn under way (forgetNow) leaves it to that turn to report what went with it.

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
	return true, c.prior == readable && !c.cursor.Ended && !c.readToDieLocked()
}

// forgetNow marks the container forgotten; unread says that lines may have gone with it, unless a turn reading
// it, or about to read the stream opened at its start (reading), finds its log's end.
func (c *trackedContainer) forgetNow() (reading, unread bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != forgotten {
		c.prior, c.state = c.state, forgotten
	}
	return c.inTurn || c.early && c.prior == readable, c.prior == readable && !c.cursor.Ended && !c.readToDieLocked()
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

// removalSpan returns the position and the last start, from which lines may be lost with the container, and the
// time of its log's last entry read when it died (0 when not known), up to which they may be.
func (c *trackedContainer) removalSpan() (cur checkpoint.Cursor, startedAt, lastAt int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, _ := c.diedEntryLocked()
	return c.cursor, c.startedAt, e.Timestamp
}
