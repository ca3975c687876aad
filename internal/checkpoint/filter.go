package checkpoint

// Filter drops the lines a reopened stream repeats from before a cursor.
//
// The stream must have been opened with since at or before the cursor's time. Once one line is new,
// every later line of the same stream is new too, because the daemon sends lines in log-file order.
type Filter struct {
	cursor         Cursor
	stdout, stderr int
	passed         bool
}

// NewFilter returns a filter for a stream reopened from cursor c.
func NewFilter(c Cursor) *Filter {
	return &Filter{cursor: c, passed: c.IsZero()}
}

// Keep reports whether the line with this stream and timestamp was not delivered before.
func (f *Filter) Keep(stream uint8, ts int64) bool {
	if f.passed {
		return true
	}
	switch {
	case ts < f.cursor.Time:
		return false
	case ts > f.cursor.Time:
		f.passed = true
		return true
	case f.cursor.AllAtTime:
		return false
	}
	seen, delivered := &f.stdout, f.cursor.Stdout
	if stream == streamStderr {
		seen, delivered = &f.stderr, f.cursor.Stderr
	}
	if *seen < delivered {
		*seen++
		return false
	}
	f.passed = true
	return true
}
