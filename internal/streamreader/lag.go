package streamreader

import "time"

// lagWatch tells when a stream's reader falls behind the daemon's writer by more than limit.
//
// A follow stream that is read more slowly than its container writes makes the daemon's follower fall behind
// the log file being written. Once it is more than a file behind, Docker 20.10 (json-file) goes on with the newest
// file and skips the ones in between without a word, and the positions move past the lines skipped, so no reopen
// can find them. Closed while it is less than a file behind, the stream is opened again at the cursor: that read
// starts from files the daemon holds open for it, and finds whatever rotation deleted meanwhile (rotatedAway).
// The lag is measured from the least lag the stream has had: catching up on history, it only shrinks.
type lagWatch struct {
	limit time.Duration
	least time.Duration
	seen  bool
	last  time.Duration
}

// fellBehind records the lag of a line stamped ts and read at now, and reports whether it grew past the limit.
func (w *lagWatch) fellBehind(ts int64, now time.Time) bool {
	if w.limit <= 0 {
		return false
	}
	w.last = now.Sub(time.Unix(0, ts))
	if !w.seen || w.last < w.least {
		w.least, w.seen = w.last, true
		return false
	}
	return w.last-w.least > w.limit
}

// lag is the lag of the last line recorded.
func (w *lagWatch) lag() time.Duration {
	return w.last
}
