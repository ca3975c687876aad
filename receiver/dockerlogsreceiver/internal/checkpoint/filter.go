package checkpoint

import "github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"

// Filter drops the lines a reopened stream repeats from before a cursor, and the lines the daemon sends twice.
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
	// last is the timestamp of the newest line kept.
	last int64
}

// NewFilter returns a filter for a stream reopened from cursor c.
func NewFilter(c Cursor) *Filter {
	return &Filter{cursor: c, seeking: c.Stepped != 0}
}

// Keep reports whether the line with this stream and timestamp was not delivered before.
func (f *Filter) Keep(stream decode.Stream, ts int64) bool {
	if ts < f.cursor.Start {
		// History of an earlier run, returned by a stream opened before Start.
		return false
	}
	if f.seeking && !f.seek(ts) {
		return false
	}
	st, pos := &f.stdout, f.cursor.Stdout
	if stream == decode.Stderr {
		st, pos = &f.stderr, f.cursor.Stderr
	}
	switch {
	case st.passed && ts < st.last:
		// An output's lines come in file order, with timestamps that never go back: a line stamped before the
		// newest one kept was sent again. Docker 20.10 repeats some lines to a stream that follows a json-file
		// log across a rotation.
		return false
	case st.passed || ts > pos.Time:
		// Once one line of an output is new, every later line of it is too.
	case ts < pos.Time, pos.Count < 0:
		return false
	case st.seen < pos.Count:
		st.seen++
		return false
	}
	st.passed, st.last = true, ts
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
