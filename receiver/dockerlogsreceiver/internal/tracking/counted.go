package tracking

import "sync"

// maxCountedRemovals bounds the removals remembered: the paths that see one removal (its destroy event, the prune,
// the turn that was reading it) do so within seconds, and a container ID is never used again.
const maxCountedRemovals = 4096

// countedRemovals remembers the containers whose removal was counted as a gap, so that each is counted once,
// whichever of the paths that see it comes first.
type countedRemovals struct {
	mu    sync.Mutex
	seen  map[string]struct{}
	order []string // oldest first
}

// first reports whether the removal of the container is not counted yet, and marks it counted.
func (c *countedRemovals) first(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[id]; ok {
		return false
	}
	if c.seen == nil {
		c.seen = make(map[string]struct{})
	}
	if len(c.order) == maxCountedRemovals {
		delete(c.seen, c.order[0])
		c.order = c.order[1:]
	}
	c.seen[id] = struct{}{}
	c.order = append(c.order, id)
	return true
}
