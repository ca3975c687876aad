package turn

import (
	"sync"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
)

// MalformedAttempts is how many turns in a row may fail on a malformed entry at the same place before the
// following turns pass over it: a few, in case the stream was cut, and not forever, since the daemon returns
// the same bytes on every reopen and the container's later lines would never be read.
const MalformedAttempts = 3

// maxTracked bounds the malformed entries remembered per container.
const maxTracked = 16

// Skipped is a malformed entry a turn passed over, known by the timestamp of the line read before it.
type Skipped struct {
	// After is the timestamp of the line the stream held before the entry (0 when it was the first).
	After int64
	// Offset and Length place the entry in the stream that skipped it; its bytes are never kept.
	Offset, Length int64
}

// Malformed remembers, for one container, the turns that failed on a malformed entry and the entries passed over.
//
// A malformed entry is known by the timestamp of the line before it in the log: every reopen reads that line
// again before it, whatever the request, while the entry's own offset depends on where the stream began. The
// cursor cannot know it, since the cursor moves only past delivered lines: a reopen from the cursor re-reads up
// to the inversion margin of lines before it, bad entries included, and they are passed over again, silently.
type Malformed struct {
	mu       sync.Mutex
	failures map[int64]int  // turns that failed on the entry after this timestamp
	reported map[int64]bool // skips already reported
}

// Skip reports whether a turn passes over the malformed entry read after the line stamped after.
func (m *Malformed) Skip(after int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failures[after] >= MalformedAttempts
}

// Observe records how a turn ended and returns the skipped entries not reported before, to be reported once.
func (m *Malformed) Observe(out Outcome) []Skipped {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failures == nil {
		m.failures, m.reported = map[int64]int{}, map[int64]bool{}
	}
	if out.MalformedAfter != nil {
		m.failures[*out.MalformedAfter]++
	}
	var fresh []Skipped
	for _, s := range out.Skipped {
		if !m.reported[s.After] {
			m.reported[s.After] = true
			fresh = append(fresh, s)
		}
	}
	m.forget(out.Cursor)
	return fresh
}

// forget drops the entries no reopen from cur reads again: those after a line older than the floor by more than
// the margin. Past maxTracked, the oldest go too (they are then retried a few times more, and reported again).
func (m *Malformed) forget(cur checkpoint.Cursor) {
	oldest := int64(-1)
	for after := range m.failures {
		if cur.Floor != 0 && after < cur.Floor-checkpoint.InversionMargin {
			delete(m.failures, after)
			delete(m.reported, after)
			continue
		}
		if oldest < 0 || after < oldest {
			oldest = after
		}
	}
	if len(m.failures) > maxTracked {
		delete(m.failures, oldest)
		delete(m.reported, oldest)
	}
}

// Empty reports whether nothing is remembered, so that the holder may drop it.
func (m *Malformed) Empty() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.failures) == 0
}
