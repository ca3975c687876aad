package turn

import "time"

// flushWait is how long a batch begun at now waits for its flush: to the next multiple of interval on the wall
// clock, so that the streams of all turns flush at the same moments and their deliveries share one call to the
// next consumer (records' combiner) instead of one each; a line still waits at most interval.
func flushWait(now time.Time, interval time.Duration) time.Duration {
	if interval <= 0 {
		return interval
	}
	return interval - time.Duration(now.UnixNano()%int64(interval))
}

// flushAfter is how long a batch begun at now waits for its flush.
func (t *Spec) flushAfter(now time.Time) time.Duration {
	if t.FlushOnTick {
		return flushWait(now, t.FlushInterval)
	}
	return t.FlushInterval
}
