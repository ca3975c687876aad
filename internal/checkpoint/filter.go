package checkpoint

// Filter drops the lines a reopened stream repeats from before a cursor.
//
// The stream must have been opened at or before the cursor's Since. Each output is judged against its own
// position: lines before its time are old, and so are, at its time, as many as were delivered.
type Filter struct {
	cursor         Cursor
	stdout, stderr streamState
}

// streamState is one output's progress past its position.
type streamState struct {
	seen   int
	passed bool
}

// NewFilter returns a filter for a stream reopened from cursor c.
func NewFilter(c Cursor) *Filter {
	return &Filter{cursor: c}
}

// Keep reports whether the line with this stream and timestamp was not delivered before.
func (f *Filter) Keep(stream uint8, ts int64) bool {
	st, pos := &f.stdout, f.cursor.Stdout
	if stream == streamStderr {
		st, pos = &f.stderr, f.cursor.Stderr
	}
	switch {
	case st.passed || ts > pos.Time:
		// Once one line of an output is new, every later line of it is too: its lines come in file order.
		st.passed = true
		return true
	case ts < pos.Time, pos.Count < 0:
		return false
	case st.seen < pos.Count:
		st.seen++
		return false
	}
	st.passed = true
	return true
}
