package checkpoint

// Filter drops the lines a reopened stream repeats from before a cursor.
//
// The stream must have been opened with since at or before the cursor's time. Each output is judged on
// its own: once one of its lines is new, every later line of it is new too, because the daemon sends each
// output's lines in log-file order. (Across outputs, a long line assembled from pieces completes after
// the other output's lines written meanwhile, so their order is not the file's.)
type Filter struct {
	cursor         Cursor
	stdout, stderr streamState
}

// streamState is one output's progress past the cursor.
type streamState struct {
	seen   int
	passed bool
}

// NewFilter returns a filter for a stream reopened from cursor c.
func NewFilter(c Cursor) *Filter {
	f := &Filter{cursor: c}
	f.stdout.passed, f.stderr.passed = c.IsZero(), c.IsZero()
	return f
}

// Keep reports whether the line with this stream and timestamp was not delivered before.
func (f *Filter) Keep(stream uint8, ts int64) bool {
	st, delivered := &f.stdout, f.cursor.Stdout
	if stream == streamStderr {
		st, delivered = &f.stderr, f.cursor.Stderr
	}
	if st.passed {
		return true
	}
	switch {
	case ts < f.cursor.Time:
		return false
	case ts > f.cursor.Time:
		st.passed = true
		return true
	case f.cursor.AllAtTime:
		return false
	}
	if st.seen < delivered {
		st.seen++
		return false
	}
	st.passed = true
	return true
}
