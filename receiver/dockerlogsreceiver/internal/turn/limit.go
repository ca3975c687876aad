package turn

import (
	"context"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// Limit slows the reading of one container to at most a number of lines and of body bytes per second.
//
// It is made once per container and kept across its turns, so a turn starts with what the last one left: the
// limit holds over time, not per stream. Waiting stops reading, nothing is dropped: the lines wait in the
// daemon's log files, and what rotation deletes meanwhile is found and counted as a gap, as for any slow reader.
type Limit struct {
	lines, bytes *rate.Limiter
}

// NewLimit returns a limit of linesPerSecond and bytesPerSecond (0: that one is not limited), or nil when
// neither is set. A second's worth may be read at once; a line longer than a second's bytes waits for a second's
// worth and is read whole.
func NewLimit(linesPerSecond float64, bytesPerSecond int) *Limit {
	if linesPerSecond <= 0 && bytesPerSecond <= 0 {
		return nil
	}
	l := &Limit{}
	if linesPerSecond > 0 {
		l.lines = rate.NewLimiter(rate.Limit(linesPerSecond), int(max(1, math.Ceil(linesPerSecond))))
	}
	if bytesPerSecond > 0 {
		l.bytes = rate.NewLimiter(rate.Limit(bytesPerSecond), bytesPerSecond)
	}
	return l
}

// wait blocks until a line of n body bytes may be read, or ctx ends; it returns how long it waited.
func (l *Limit) wait(ctx context.Context, n int) (time.Duration, error) {
	if l == nil {
		return 0, nil
	}
	start := time.Now()
	if l.lines != nil {
		if err := l.lines.Wait(ctx); err != nil {
			return time.Since(start), err
		}
	}
	if l.bytes != nil && n > 0 {
		if err := l.bytes.WaitN(ctx, min(n, l.bytes.Burst())); err != nil {
			return time.Since(start), err
		}
	}
	return time.Since(start), nil
}
