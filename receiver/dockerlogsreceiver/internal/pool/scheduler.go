// Package pool caps how many log streams are open at once and shares them among containers in turns.
package pool

import (
	"time"
)

// Reason says why a turn was asked to end.
type Reason string

// The reasons a turn is asked to end.
const (
	// ReasonPlanned is the periodic rotation: no stream stays open longer than the rotation interval.
	ReasonPlanned Reason = "planned"
	// ReasonHandover gives the slot to a waiting container after the turn had its time slice.
	ReasonHandover Reason = "handover"
	// ReasonRemoved ends the turn of a container that is no longer to be read.
	ReasonRemoved Reason = "removed"
)

// order asks one active turn to end.
type order struct {
	id     string
	reason Reason
}

// activeTurn is one container holding a stream slot.
type activeTurn struct {
	started time.Time
	asked   bool // already asked to end; its slot frees soon
	removed bool // no further turn once this one ends
	again   bool // another turn follows, whatever this one says
}

// scheduler decides who holds the stream slots; it is pure logic, driven by the pool's loop.
type scheduler struct {
	max      int
	slice    time.Duration
	rotation time.Duration
	active   map[string]*activeTurn
	queue    []string
	queued   map[string]bool
	// delayed holds containers backing off after a failed turn, until the time each may wait for a slot.
	delayed map[string]time.Time
}

// Next says what follows a turn.
type Next struct {
	// Again asks for another turn.
	Again bool
	// After delays it: a container whose stream keeps failing backs off without holding a slot.
	After time.Duration
}

func newScheduler(maxStreams int, slice, rotation time.Duration) *scheduler {
	return &scheduler{
		max:      maxStreams,
		slice:    slice,
		rotation: rotation,
		active:   map[string]*activeTurn{},
		queued:   map[string]bool{},
		delayed:  map[string]time.Time{},
	}
}

// add asks for a turn for id; a container already waiting is left as it is, and an active one gets
// another turn after this one when again is set.
func (s *scheduler) add(id string, again bool) {
	if t, ok := s.active[id]; ok {
		// Its turn may have been asked to end: it gets the next one.
		t.removed = false
		t.again = t.again || again
		return
	}
	if s.queued[id] {
		return
	}
	// Asked for again from outside (a start event, a reconcile): the back-off is over.
	delete(s.delayed, id)
	s.queued[id] = true
	s.queue = append(s.queue, id)
}

// remove withdraws id: it leaves the queue, and an active turn gets no successor; it reports whether that
// active turn must now be asked to end.
func (s *scheduler) remove(id string) bool {
	if t, ok := s.active[id]; ok {
		t.removed = true
		ask := !t.asked
		t.asked = true
		return ask
	}
	delete(s.delayed, id)
	if s.queued[id] {
		delete(s.queued, id)
		for i, q := range s.queue {
			if q == id {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
	}
	return false
}

// done frees id's slot; when next asks for another turn and id was not removed, it waits for one at the
// back of the queue, after next.After.
func (s *scheduler) done(id string, next Next, now time.Time) {
	t, ok := s.active[id]
	if !ok {
		return
	}
	delete(s.active, id)
	switch {
	case t.removed || !(next.Again || t.again):
	case next.After > 0 && !t.again:
		s.delayed[id] = now.Add(next.After)
	default:
		s.add(id, false)
	}
}

// plan starts turns on free slots and asks turns to end; it returns when it next needs to run (zero: no deadline).
func (s *scheduler) plan(now time.Time) (start []string, stop []order, next time.Time) {
	for id, due := range s.delayed {
		if due.After(now) {
			next = earliest(next, due)
			continue
		}
		delete(s.delayed, id)
		s.add(id, false)
	}
	for len(s.active) < s.max && len(s.queue) > 0 {
		id := s.queue[0]
		s.queue = s.queue[1:]
		delete(s.queued, id)
		s.active[id] = &activeTurn{started: now}
		start = append(start, id)
	}

	freeing := 0
	for id, t := range s.active {
		if t.asked {
			freeing++
			continue
		}
		if now.Sub(t.started) >= s.rotation {
			t.asked = true
			freeing++
			stop = append(stop, order{id: id, reason: ReasonPlanned})
			continue
		}
		next = earliest(next, t.started.Add(s.rotation))
	}

	// Waiting containers take the slots of the turns that had their slice, oldest first.
	for need := len(s.queue) - freeing; need > 0; need-- {
		id, t := s.oldestUnasked()
		if t == nil {
			break
		}
		if due := t.started.Add(s.slice); due.After(now) {
			next = earliest(next, due)
			break
		}
		t.asked = true
		stop = append(stop, order{id: id, reason: ReasonHandover})
	}
	return start, stop, next
}

// oldestUnasked returns the longest-running turn not yet asked to end.
func (s *scheduler) oldestUnasked() (string, *activeTurn) {
	var oldestID string
	var oldest *activeTurn
	for id, t := range s.active {
		if t.asked {
			continue
		}
		if oldest == nil || t.started.Before(oldest.started) || (t.started.Equal(oldest.started) && id < oldestID) {
			oldestID, oldest = id, t
		}
	}
	return oldestID, oldest
}

// has tells whether id holds a slot, waits for one, or backs off before waiting.
func (s *scheduler) has(id string) bool {
	_, active := s.active[id]
	_, delayed := s.delayed[id]
	return active || delayed || s.queued[id]
}

// isWaiting tells whether id waits for a slot.
func (s *scheduler) isWaiting(id string) bool {
	return s.queued[id]
}

// waiting is the number of containers waiting for a slot.
func (s *scheduler) waiting() int {
	return len(s.queue)
}

// open is the number of turns holding a slot.
func (s *scheduler) open() int {
	return len(s.active)
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
