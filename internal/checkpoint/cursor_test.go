package checkpoint

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entry is one line of a simulated container log.
type entry struct {
	stream uint8
	ts     int64
}

// resume delivers the first k entries, then replays the log as a reopen would (everything at or after
// since, since inclusive) and returns the indexes of the entries the filter keeps.
func resume(log []entry, k int, useAnchor bool) []int {
	var c Cursor
	for _, e := range log[:k] {
		c.Advance(e.stream, e.ts)
	}
	since := c.Time
	if useAnchor && c.Anchor() != 0 {
		since = c.Anchor()
	}
	f := NewFilter(c)
	var kept []int
	for i, e := range log {
		if e.ts < since {
			continue
		}
		if f.Keep(e.stream, e.ts) {
			kept = append(kept, i)
		}
	}
	return kept
}

// randomLog makes a log whose timestamps never decrease and often repeat, on both streams.
func randomLog(rng *rand.Rand, n int) []entry {
	log := make([]entry, n)
	ts := int64(1_700_000_000_000_000_000)
	for i := range log {
		if rng.IntN(3) == 0 {
			ts += int64(rng.IntN(5) + 1)
		}
		log[i] = entry{stream: uint8(rng.IntN(2) + 1), ts: ts}
	}
	return log
}

func TestResumeKeepsExactlyTheUndeliveredLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		log := randomLog(rng, rng.IntN(40)+1)
		for k := 0; k <= len(log); k++ {
			for _, anchor := range []bool{false, true} {
				want := make([]int, 0, len(log)-k)
				for i := k; i < len(log); i++ {
					want = append(want, i)
				}
				got := resume(log, k, anchor)
				if len(want) == 0 {
					want = nil
				}
				require.Equal(t, want, got, "log %v delivered %d anchor %v", log, k, anchor)
			}
		}
	}
}

func FuzzResumeKeepsExactlyTheUndeliveredLines(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 1}, uint8(3))
	f.Fuzz(func(t *testing.T, steps []byte, k uint8) {
		log := make([]entry, 0, len(steps))
		ts := int64(1000)
		for _, b := range steps {
			ts += int64(b >> 2 & 3) // often 0: lines sharing one timestamp
			log = append(log, entry{stream: b&1 + 1, ts: ts})
		}
		n := int(k) % (len(log) + 1)
		for _, anchor := range []bool{false, true} {
			got := resume(log, n, anchor)
			require.Len(t, got, len(log)-n)
			for j, i := range got {
				require.Equal(t, n+j, i)
			}
		}
	})
}

func TestAtEndSkipsEverythingAtItsTime(t *testing.T) {
	c := AtEnd(100)
	assert.Equal(t, int64(100), c.Anchor())
	f := NewFilter(c)
	assert.False(t, f.Keep(1, 99))
	assert.False(t, f.Keep(1, 100))
	assert.False(t, f.Keep(2, 100))
	assert.True(t, f.Keep(2, 101))
	assert.True(t, f.Keep(2, 100), "after its first new line every line of an output is new")
	assert.False(t, f.Keep(1, 100), "the other output still skips what is old")

	c.Advance(2, 100)
	assert.Equal(t, AtEnd(100), c, "a line at the marker's time does not move it")
	c.Advance(1, 150)
	assert.Equal(t, Cursor{Time: 150, Stdout: 1, Prev: 100}, c)
	assert.Equal(t, int64(100), c.Anchor())
}

func TestAdvanceKeepsTheFurthestTimeWhenTheClockGoesBack(t *testing.T) {
	var c Cursor
	c.Advance(1, 200)
	c.Advance(2, 150)
	assert.Equal(t, Cursor{Time: 200, Stdout: 1}, c)
	assert.Zero(t, c.Anchor(), "one distinct time delivered: no anchor yet")
}

func TestZeroCursorKeepsEverything(t *testing.T) {
	f := NewFilter(Cursor{})
	assert.True(t, f.Keep(1, 5))
	assert.True(t, Cursor{}.IsZero())
}
