package turn

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
// the time since the opening, however fast that history is read. After that it trails by the lines' own lag,
// measured from the least lag of the lines stamped after the opening, so that a constant delay of the pipeline
// (or a daemon clock that differs from the collector's) does not count.
//
// The limit is half the time the container takes to fill a log file. It starts from what earlier turns saw, and
// follows the rate at which the lines read were written, by their timestamps, over windows of rateWindow.
type lagWatch struct {
	limit  time.Duration
	opened time.Time
	// max bounds the limit; fileSize is the size at which the log rotates (0: the limit stays as it is).
	max      time.Duration
	fileSize int64
	// windowStart and windowBytes measure the write rate: the log bytes of the lines stamped since windowStart.
	windowStart int64
	windowBytes int64
	// rate is the write rate of the last window, in log bytes per second; 0 until one was measured.
	rate  float64
	least time.Duration
	seen  bool
	// newest is the newest timestamp read.
	newest int64
	last   time.Duration
}

// behind is how far the follower may trail the writer at now.
func (w *lagWatch) behind(now time.Time) time.Duration {
	if w.inHistory() {
		return now.Sub(w.opened)
	}
	return now.Sub(time.Unix(0, w.newest))
}

// newLagWatch watches a stream opened at opened, of a log that rotates at fileSize, starting from limit.
func newLagWatch(limit time.Duration, fileSize int64, opened time.Time) lagWatch {
	return lagWatch{limit: limit, max: limit, fileSize: fileSize, opened: opened}
}

// Sizes of the measure.
const (
	// EntryOverhead is what json-file adds to a line's text: {"log":"...\n","stream":"stdout","time":"..."}.
	EntryOverhead = 80
	// MinLagLimit keeps a stream open for a few batches even when a log file fills within a moment.
	MinLagLimit = 100 * time.Millisecond
	// rateWindow is the span of timestamps over which the write rate is measured.
	rateWindow = 250 * time.Millisecond
)

// HalfFill is half the time a log file of fileSize bytes takes to fill at bytesPerSecond, within MinLagLimit and
// limit; limit when the rate is unknown.
func HalfFill(fileSize int64, bytesPerSecond float64, limit time.Duration) time.Duration {
	if bytesPerSecond <= 0 || fileSize <= 0 {
		return limit
	}
	fill := time.Duration(float64(fileSize) / bytesPerSecond * float64(time.Second))
	return min(max(fill/2, MinLagLimit), limit)
}

// measure counts a line stamped ts with size bytes of text into the write rate, and sets the limit from each
// window's rate.
func (w *lagWatch) measure(ts int64, size int) {
	if w.fileSize <= 0 {
		return
	}
	if w.windowStart == 0 || ts < w.windowStart {
		w.windowStart, w.windowBytes = ts, 0
	}
	w.windowBytes += int64(size) + EntryOverhead
	span := time.Duration(ts - w.windowStart)
	if span < rateWindow {
		return
	}
	w.rate = float64(w.windowBytes) / span.Seconds()
	w.limit = HalfFill(w.fileSize, w.rate, w.max)
	w.windowStart, w.windowBytes = ts, 0
}

// fellBehind records a line stamped ts with size bytes of text, read at now, and reports whether the lag grew
// past the limit.
func (w *lagWatch) fellBehind(ts int64, size int, now time.Time) bool {
	if w.limit <= 0 {
		return false
	}
	w.measure(ts, size)
	w.newest = max(w.newest, ts)
	w.last = w.behind(now)
	if w.inHistory() {
		// The follower waits where the log ended at the opening: it trails by the time since then, on this
		// machine's clock alone, however late the first line arrived (a loaded daemon may take most of the limit).
		return w.last > w.limit
	}
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

// jumped reports whether a line stamped ts, sent by the follower (stamped after the opening), comes after the newest
// line read by more than the container takes to write half a log file at its measured rate.
//
// Docker 20.10 subscribes the follower to rotations only once the history was sent: a rotation while the history
// is being sent leaves the follower on the renamed file until the next rotation, and the file written in between
// is skipped without a word. Its lines are missing from the stream, so the next line comes a file's writing time
// after the last one; a reopen at the cursor reads them from the files (or finds them rotated away).
func (w *lagWatch) jumped(ts int64) bool {
	if w.fileSize <= 0 || w.rate <= 0 || w.newest == 0 || !time.Unix(0, ts).After(w.opened) {
		return false
	}
	halfFill := time.Duration(float64(w.fileSize) / w.rate / 2 * float64(time.Second))
	return time.Duration(ts-w.newest) > max(halfFill, MinLagLimit)
}

// inHistory reports whether every line read so far was stamped before the stream was opened.
func (w *lagWatch) inHistory() bool {
	return time.Unix(0, w.newest).Before(w.opened)
}

// lag is the lag of the last line recorded.
func (w *lagWatch) lag() time.Duration {
	return w.last
}
