package tracking

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// malformedEntries holds a turn.Malformed for each container whose turns met an entry they could not
// parse; in memory only, since after a restart a few failed turns find such an entry again.
type malformedEntries struct {
	mu   sync.Mutex
	byID map[string]*turn.Malformed
}

// of returns the container's record, creating an empty one.
func (m *malformedEntries) of(id string) *turn.Malformed {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byID == nil {
		m.byID = map[string]*turn.Malformed{}
	}
	if rec, ok := m.byID[id]; ok {
		return rec
	}
	rec := &turn.Malformed{}
	m.byID[id] = rec
	return rec
}

// observe records how the container's turn ended and returns its skips not reported before; a container with
// nothing left to remember is dropped, so the map holds only containers that meet malformed entries.
func (m *malformedEntries) observe(id string, out turn.Outcome) []turn.Skipped {
	rec := m.of(id)
	fresh := rec.Observe(out)
	if rec.Empty() {
		m.forget(id)
	}
	return fresh
}

// forget drops a container's record.
func (m *malformedEntries) forget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, id)
}

// reportSkipped logs one warning per malformed entry a turn passed over, naming the container and where the entry
// was, never its bytes: they are the container's output.
func (r *core) reportSkipped(c *trackedContainer, skipped []turn.Skipped) {
	for _, s := range skipped {
		r.logger.Warn("A container log entry could not be parsed and was skipped; the lines after it are read",
			zap.String("container.id", c.meta.ID), zap.String("container.name", c.metadata().Name),
			zap.String("after", time.Unix(0, s.After).UTC().Format(time.RFC3339Nano)),
			zap.Int64("offset", s.Offset), zap.Int64("length", s.Length),
			zap.Int("attempts", turn.MalformedAttempts))
	}
}
