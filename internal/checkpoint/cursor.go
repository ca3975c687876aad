// Package checkpoint keeps each container's read position: what was delivered, to the nanosecond and the line.
package checkpoint

// Stream numbers as the daemon frames them (1 = stdout, 2 = stderr).
const (
	streamStdout = 1
	streamStderr = 2
)

// Cursor is a container's read position: every line up to it was delivered, none after it.
//
// The daemon's since is inclusive and several lines can share one timestamp, so the time alone
// cannot tell delivered lines from new ones: the cursor also counts, per stream, the lines delivered
// at exactly that time. The daemon returns lines in log-file order, so those counts pick out the
// delivered prefix of the lines at that time again on every reopen.
type Cursor struct {
	// Time is the daemon timestamp in ns of the last delivered line; 0 means nothing delivered yet.
	Time int64 `json:"time"`
	// Stdout and Stderr count the lines delivered with exactly Time.
	Stdout int `json:"stdout"`
	Stderr int `json:"stderr"`
	// AllAtTime marks every line at Time as old (set when reading starts at the end of an existing log).
	AllAtTime bool `json:"all_at_time,omitempty"`
	// Prev is the timestamp of the last delivered line before Time, 0 if none: all its lines were delivered.
	Prev int64 `json:"prev,omitempty"`
}

// AtEnd returns the cursor that skips everything up to and including the log entry at ts.
func AtEnd(ts int64) Cursor {
	return Cursor{Time: ts, AllAtTime: true}
}

// IsZero reports whether nothing was delivered yet.
func (c Cursor) IsZero() bool {
	return c.Time == 0
}

// Anchor returns a timestamp whose lines are all old and at or before Time, or 0 when there is none.
//
// A reopen can ask for the last N entries since the anchor: when the first entry returned carries the
// anchor's timestamp, those N entries reached back past everything not yet delivered.
func (c Cursor) Anchor() int64 {
	if c.AllAtTime {
		return c.Time
	}
	return c.Prev
}

// Advance moves the cursor past one delivered line; lines must be given in the order they were read.
func (c *Cursor) Advance(stream uint8, ts int64) {
	switch {
	case ts > c.Time:
		if c.Time != 0 {
			c.Prev = c.Time
		}
		*c = Cursor{Time: ts, Prev: c.Prev}
	case ts < c.Time:
		// The daemon's clock went back: keep the furthest point, since the daemon filters by time.
		return
	case c.AllAtTime:
		return
	}
	switch stream {
	case streamStderr:
		c.Stderr++
	default:
		c.Stdout++
	}
}
