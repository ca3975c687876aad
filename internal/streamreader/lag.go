package streamreader

import "time"

// lagWatch tells when the daemon's follower of a stream may fall behind the log file being written by more than limit.
//
// A follow stream that is read more slowly than its container writes makes the daemon's follower fall behind
// the log file being written. Once it is more than a file behind, Docker 20.10 (json-file) goes on with the newest
// file and skips the ones in between without a word, and the positions move past the lines skipped, so no reopen
// can find them. Closed while it is less than a file behind, the stream is opened again at the cursor: that read
// starts from files the daemon holds open for it, and finds whatever rotation deleted meanwhile (rotatedAway).
//
// The follower starts where the log ended when the stream was opened, and stays there while the stream sends the
// history before it: until the reading reaches lines stamped after the opening, the follower trails the writer by
// the time since the opening, however fast that history is read. After that it trails by the lines' own lag.
// The lag is measured from the least the stream has had, so that a constant delay of the pipeline does not count.
type lagWatch struct {
	limit  time.Duration
	opened time.Time
	least  time.Duration
	seen   bool
	// newest is the newest timestamp read.
	newest int64
	last   time.Duration
}

// behind is how far the follower may trail the writer at now.
func (w *lagWatch) behind(now time.Time) time.Duration {
	at := time.Unix(0, w.newest)
	if at.Before(w.opened) {
		at = w.opened
	}
	return now.Sub(at)
}

// fellBehind records a line stamped ts and read at now, and reports whether the lag grew past the limit.
func (w *lagWatch) fellBehind(ts int64, now time.Time) bool {
	if w.limit <= 0 {
		return false
	}
	w.newest = max(w.newest, ts)
	w.last = w.behind(now)
	if !w.seen || w.last < w.least {
		w.least, w.seen = w.last, true
		return false
	}
	return w.last-w.least > w.limit
}

// remaining is how much longer than at now the reading may pause before the lag grows past the limit; ok is
// false without a limit.
func (w *lagWatch) remaining(now time.Time) (d time.Duration, ok bool) {
	if w.limit <= 0 {
		return 0, false
	}
	var least time.Duration
	if w.seen {
		least = w.least
	}
	return w.limit - (w.behind(now) - least), true
}

// lag is the lag of the last line recorded.
func (w *lagWatch) lag() time.Duration {
	return w.last
}
