package checkpoint

// Filter drops the lines a reopened stream repeats from before a cursor.
//
// The stream must have been opened at or before the cursor's Since. Each output is judged against its own
// position: lines before its time are old, and so are, at its time, as many as were delivered. After a step
// back of the daemon's clock (Cursor.Stepped), every line is old until the floor line has been seen.
type Filter struct {
	cursor         Cursor
	stdout, stderr streamState
	// seeking: lines are dropped until the floor line.
	seeking bool
	// floorMissing: a line that must follow the floor line came before it.
	floorMissing bool
}

// streamState is one output's progress past its position.
type streamState struct {
	seen   int
	passed bool
}

// NewFilter returns a filter for a stream reopened from cursor c.
func NewFilter(c Cursor) *Filter {
	return &Filter{cursor: c, seeking: c.Stepped != 0}
}

// Keep reports whether the line with this stream and timestamp was not delivered before.
func (f *Filter) Keep(stream uint8, ts int64) bool {
	if f.seeking && !f.seek(ts) {
		return false
	}
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

// seek reports whether the line at ts ends the seek for the floor line: it is the floor line, or a line that
// the floor line precedes in the log.
func (f *Filter) seek(ts int64) bool {
	switch {
	case ts == f.cursor.Floor:
	case ts > f.cursor.Stepped+InversionMargin:
		// Old lines are stamped at most Stepped, and a new line written before the floor line at most the
		// margin after it (the floor is not past Stepped): this line follows the floor line, which is gone.
		f.floorMissing = true
	default:
		return false
	}
	f.seeking = false
	return true
}

// FloorMissing reports that the stream no longer held the floor line: lines after it may have been lost.
func (f *Filter) FloorMissing() bool {
	return f.floorMissing
}
