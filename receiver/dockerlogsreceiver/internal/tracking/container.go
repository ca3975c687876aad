package tracking

import (
	"sync"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// trackedContainer is what the receiver knows of one container between its turns.
type trackedContainer struct {
	meta   records.Meta
	tty    bool
	driver string // logging driver (HostConfig.LogConfig.Type), empty when not known
	// autoRemove: started with --rm, the daemon removes it as it exits (HostConfig.AutoRemove).
	autoRemove bool

	mu       sync.Mutex
	state    readState
	cursor   checkpoint.Cursor
	rate     float64 // log entries per second seen in the last turn
	lastEnd  time.Time
	failures int // turns in a row that failed to open or read
	// undelivered counts the log entries that the last turn to read any read past its cursor and did not deliver.
	undelivered int
	// logFileSize is the size at which the container's log file rotates, 0 when it never does.
	logFileSize int64
	// entryBytes is the mean text length of the lines the last turn delivered.
	entryBytes int
	// writeRate is how fast the container wrote the lines the last turn delivered, in lines per second of their
	// timestamps: unlike rate, not inflated by a turn that caught up on history.
	writeRate float64
	// startedAt is when the container last started (ns), the start of what may be lost if it is removed unread.
	startedAt int64
	// inTurn is set while a turn reads the container; prior is its state before it was forgotten.
	inTurn bool
	prior  readState
	// early is set while a stream opened at the container's start event waits for its first turn.
	early bool
	// died is the log's last entry read at its last die event, nil since it started again (died.go).
	died *lastAtDie
	// multiline joins its lines into records; nil when every line is a record.
	multiline *multiline.Rule
	// limit slows its reading to its rate limit across its turns; nil when it has none.
	limit *turn.Limit
	// waiting are the multiline records the last turn left open, by output.
	waiting decode.PerStream[turn.Waiting]
}

// readState says why a known container is not read.
type readState uint8

const (
	readable   readState = iota
	unreadable           // its logging driver cannot be read back: skipped until it starts again
	deselected           // renamed out of the include/exclude rules: kept, with its position, in case it comes back
	forgotten            // destroyed: its position must not be saved again
)

// setState records why the container is read or not.
func (c *trackedContainer) setState(s readState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = s
}

// is reports whether the container is in state s.
func (c *trackedContainer) is(s readState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == s
}

// position returns the cursor the next turn starts from.
func (c *trackedContainer) position() checkpoint.Cursor {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}

// setPosition records a cursor after a delivered batch, unless it is behind the one recorded (a start event's
// copy, taken before a turn advanced); it reports whether it was recorded.
func (c *trackedContainer) setPosition(cur checkpoint.Cursor) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur.Behind(c.cursor) {
		return false
	}
	c.cursor = cur
	return true
}

// tailHint estimates the entries past the cursor's floor, with room to spare: those written since the last turn,
// at the rate seen then, and those it read and did not deliver (a rotation does not wait for a consumer that
// refuses, so the last turn's cursor may trail what it read).
func (c *trackedContainer) tailHint(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastEnd.IsZero() {
		return turn.MinTail
	}
	return turn.TailFor(turn.MinTail+2*c.undelivered, c.rate, now.Sub(c.lastEnd))
}

// afterTurn records what a turn learnt of the container; it returns how many turns in a row failed.
func (c *trackedContainer) afterTurn(out turn.Outcome, failed bool) (failures int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeRate = writeRate(c.cursor, out, c.writeRate)
	if !out.Cursor.Behind(c.cursor) {
		c.cursor = out.Cursor
	}
	c.waiting = out.Waiting
	if secs := out.Duration.Seconds(); secs > 0.1 {
		// A turn cut short just after its stream opened sees almost nothing: one such turn must not shrink the
		// next tail below what the container writes, so a lower rate only halves the estimate.
		c.rate = max(float64(out.Entries)/secs, c.rate/2)
	}
	c.lastEnd = out.Opened.Add(out.Duration)
	if lines := out.Lines[0] + out.Lines[1]; lines > 0 {
		c.entryBytes = (out.Bytes[0] + out.Bytes[1]) / lines
	}
	if out.Entries > 0 {
		// A turn that read nothing (its stream did not open) leaves the cursor, and what lies past it, as they were.
		c.undelivered = out.Undelivered
	}
	if failed {
		c.failures++
	} else {
		c.failures = 0
	}
	return c.failures
}

// openRecords returns the multiline records the last turn left open.
func (c *trackedContainer) openRecords() decode.PerStream[turn.Waiting] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}

// containers is the set of containers the receiver knows, by ID.
type containers struct {
	mu   sync.Mutex
	byID map[string]*trackedContainer
}

func newContainers() *containers {
	return &containers{byID: map[string]*trackedContainer{}}
}

func (cs *containers) get(id string) *trackedContainer {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.byID[id]
}

// add keeps c unless a container with that ID is already known; it returns the one kept.
func (cs *containers) add(c *trackedContainer) *trackedContainer {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if old, ok := cs.byID[c.meta.ID]; ok {
		return old
	}
	cs.byID[c.meta.ID] = c
	return c
}

func (cs *containers) remove(id string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.byID, id)
}

// rename updates the name a container's records carry.
func (cs *containers) rename(id, name string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.byID[id]; ok {
		c.mu.Lock()
		c.meta.Name = name
		c.mu.Unlock()
	}
}

// metadata returns a copy of the container's resource metadata.
func (c *trackedContainer) metadata() records.Meta {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta
}

// ids returns the IDs of the known containers.
func (cs *containers) ids() []string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ids := make([]string, 0, len(cs.byID))
	for id := range cs.byID {
		ids = append(ids, id)
	}
	return ids
}

// len returns how many containers are known.
func (cs *containers) len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.byID)
}

// writeRate estimates how fast the container writes from the lines a turn delivered and the span of their
// timestamps since the cursor it started from; a turn that cannot tell halves the previous estimate.
func writeRate(before checkpoint.Cursor, out turn.Outcome, previous float64) float64 {
	lines := out.Lines[0] + out.Lines[1]
	from, to := before.Newest(), out.Cursor.Newest()
	if before.IsZero() || lines == 0 || to <= from {
		if out.Duration > 100*time.Millisecond {
			return previous / 2
		}
		return previous
	}
	return float64(lines) / time.Duration(to-from).Seconds()
}
