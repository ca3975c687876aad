package docker

import (
	"sync"

	"github.com/docker/docker/api/types/events"
)

// eventKey identifies one container event.
type eventKey struct {
	id       string
	action   events.Action
	timeNano int64
}

// RecentEvents remembers the last len(ring) events, in bounded memory: a resubscription replays the events since
// the last one seen, to the second, and the daemon does not always send events in timestamp order.
type RecentEvents struct {
	mu   sync.Mutex
	seen map[eventKey]struct{}
	ring [512]eventKey
	next int
}

// Add reports whether msg is new, and remembers it.
func (r *RecentEvents) Add(msg events.Message) bool {
	k := eventKey{id: msg.Actor.ID, action: msg.Action, timeNano: msg.TimeNano}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[k]; ok {
		return false
	}
	if r.seen == nil {
		r.seen = map[eventKey]struct{}{}
	}
	if old := r.ring[r.next]; old != (eventKey{}) {
		delete(r.seen, old)
	}
	r.ring[r.next] = k
	r.next = (r.next + 1) % len(r.ring)
	r.seen[k] = struct{}{}
	return true
}
