package turn

import "time"

// firstBatchQuiet is how long a newly opened stream stays quiet before the lines it sent are handed on
// without waiting for the flush interval.
const firstBatchQuiet = 10 * time.Millisecond

// firstBatch hands on the first lines of an opening once the stream goes quiet: after a start, a restart or a
// reopen they are the container's newest, and someone may be waiting for them. It acts once per opening, so
// that a stream that keeps writing is still batched by size and flush interval.
type firstBatch struct {
	timer *time.Timer
	// due fires when the stream may have been quiet long enough; nil while nothing waits.
	due  <-chan time.Time
	last time.Time
	done bool
}

func newFirstBatch() *firstBatch {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &firstBatch{timer: t}
}

// queued notes that lines were added to a batch; after the first batch it costs nothing on the line's path.
func (f *firstBatch) queued() {
	if f.done {
		return
	}
	f.last = time.Now()
	if f.due == nil {
		f.timer.Reset(firstBatchQuiet)
		f.due = f.timer.C
	}
}

// quiet reports, when due fired, whether nothing was queued for firstBatchQuiet; if something was, it waits again.
func (f *firstBatch) quiet(now time.Time) bool {
	f.due = nil
	if wait := firstBatchQuiet - now.Sub(f.last); wait > 0 {
		f.timer.Reset(wait)
		f.due = f.timer.C
		return false
	}
	return true
}

// handedOn ends the first batch: later lines wait for the batch size or the flush interval.
func (f *firstBatch) handedOn() {
	f.done = true
	f.due = nil
	f.timer.Stop()
}
