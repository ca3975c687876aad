package main

import (
	"context"
	"time"
)

// pacer schedules line n at start+n/rate, so sleep overshoot is caught up by the next lines instead of lowering the long-run rate.
type pacer struct {
	start  time.Time
	period float64 // nanoseconds per line
	timer  *time.Timer
}

func newPacer(rate float64) *pacer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &pacer{start: time.Now(), period: float64(time.Second) / rate, timer: t}
}

// wait blocks until line seq is due and reports whether ctx is still live.
func (p *pacer) wait(ctx context.Context, seq int) bool {
	d := time.Until(p.start.Add(time.Duration(float64(seq) * p.period)))
	if d <= 0 {
		return ctx.Err() == nil
	}
	p.timer.Reset(d)
	select {
	case <-ctx.Done():
		p.timer.Stop()
		return false
	case <-p.timer.C:
		return true
	}
}

// resumeAt schedules line seq now and the lines after it at the rate from now.
func (p *pacer) resumeAt(seq int) {
	p.start = time.Now().Add(-time.Duration(float64(seq) * p.period))
}

func (p *pacer) stop() { p.timer.Stop() }
