package turn

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// lineOverhead is what a line is charged beyond its body: the Line value, the batch slot and the record the
// consumer builds from it are not free, and without it a flood of empty lines would cost nothing.
const lineOverhead = 64

// Budget bounds the bytes of the lines read from the daemon and not yet accepted by the next consumer, across
// every turn that shares it; a nil Budget bounds nothing.
//
// A reader that finds the budget used up waits and stops reading its stream meanwhile: the daemon keeps the
// lines in its log files, where they cost the receiver nothing.
type Budget struct {
	size int64
	sem  *semaphore.Weighted
	// used and peak mirror the semaphore, which does not tell what it holds.
	used atomic.Int64
	peak atomic.Int64
}

// NewBudget returns a budget of size bytes.
func NewBudget(size int64) *Budget {
	return &Budget{size: size, sem: semaphore.NewWeighted(size)}
}

// InUse returns the bytes charged and not released yet.
func (b *Budget) InUse() int64 {
	return b.used.Load()
}

// Peak returns the most bytes that were ever charged at once.
func (b *Budget) Peak() int64 {
	return b.peak.Load()
}

// cost is the charge for a line of n body bytes, capped at the whole budget so that any line fits alone.
func (b *Budget) cost(n int) int64 {
	if b == nil {
		return 0
	}
	return min(int64(n)+lineOverhead, b.size)
}

// charge waits until n bytes are free and takes them; it fails, taking nothing, when ctx ends first.
func (b *Budget) charge(ctx context.Context, n int64) error {
	if b == nil {
		return nil
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return err
	}
	// Counted after the semaphore granted the bytes and uncounted before it gets them back: used never exceeds size.
	used := b.used.Add(n)
	for peak := b.peak.Load(); used > peak && !b.peak.CompareAndSwap(peak, used); peak = b.peak.Load() {
	}
	return nil
}

// release gives back the charges of lines that were accepted or discarded.
func (b *Budget) release(lines ...Line) {
	if b == nil {
		return
	}
	var n int64
	for _, l := range lines {
		n += l.charge
	}
	if n == 0 {
		return
	}
	b.used.Add(-n)
	b.sem.Release(n)
}
