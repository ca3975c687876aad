package checkpoint

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// steppedLog makes a log whose daemon clock steps back by back after old entries: old lines, then new
// lines stamped from back before the newest old one; both parts as randomLog makes them.
func steppedLog(rng *rand.Rand, old, new int, back int64) (log []entry, newestOld int64) {
	log = randomLog(rng, old, InversionMargin/10)
	for _, e := range log {
		newestOld = max(newestOld, e.ts)
	}
	for _, e := range randomLog(rng, new, InversionMargin/10) {
		e.ts += newestOld - back - log[0].ts
		log = append(log, e)
	}
	return log, newestOld
}

// reopen replays log from c as the daemon does (every entry at or after Since, wherever it stands in the file)
// and returns the indexes the filter keeps, and whether the filter found the floor line missing.
func reopen(log []entry, c Cursor) ([]int, bool) {
	since, _ := c.Since()
	f := NewFilter(c)
	var kept []int
	for i, e := range log {
		if e.ts >= since && f.Keep(e.stream, e.ts) {
			kept = append(kept, i)
		}
	}
	return kept, f.FloorMissing()
}

// TestAfterStepKeepsExactlyTheLinesAfterTheAnchor re-anchors on a new line after a clock step and checks that
// reopens deliver every later line once and no line written before the anchor, however its time compares,
// until the floor passes the old clock and the cursor forgets the step.
func TestAfterStepKeepsExactlyTheLinesAfterTheAnchor(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	checked, left := 0, 0
	for range 300 {
		back := InversionMargin * (2 + rng.Int64N(8))
		old := 20 + rng.IntN(20)
		log, newestOld := steppedLog(rng, old, 40+rng.IntN(60), back)
		// The daemon stamps lines to the nanosecond: the anchor's time is its own (randomLog repeats times often).
		anchor := old + rng.IntN(10)
		if slices.ContainsFunc(log[:anchor], func(e entry) bool { return e.ts == log[anchor].ts }) {
			continue
		}
		var want []int
		for i := anchor + 1; i < len(log); i++ {
			if log[i].ts > log[anchor].ts { // AtEnd also skips the other output's lines stamped up to the anchor
				want = append(want, i)
			}
		}

		checked++
		c := AfterStep(log[anchor].ts, newestOld)
		kept, missing := reopen(log, c)
		require.Equal(t, want, kept, "first reopen after the step, anchor %d", anchor)
		assert.False(t, missing)

		// Deliver a part, reopen again: the rest, exactly, with the old lines still skipped.
		for len(kept) > 0 {
			n := rng.IntN(len(kept)) + 1
			for _, i := range kept[:n] {
				c.Advance(log[i].stream, log[i].ts, 0)
			}
			rest, missing := reopen(log, c)
			require.Equal(t, append([]int(nil), kept[n:]...), rest, "reopen after %d more delivered", n)
			assert.False(t, missing)
			if c.Floor > newestOld {
				left++
				assert.Zero(t, c.Stepped, "the floor passed the old clock: the step is forgotten")
			} else {
				assert.Equal(t, newestOld, c.Stepped)
			}
			kept = rest
		}
	}
	assert.Greater(t, checked, 200, "logs checked")
	assert.Positive(t, left, "reopens after the step was forgotten")
}

// TestAfterStepWithTheFloorLineRotatedAway drops the start of the log, floor line included, as json-file
// rotation does: the reopen does not wait for the floor line forever; it resumes at the first line the old
// clock cannot have stamped and says that the floor line was missing.
func TestAfterStepWithTheFloorLineRotatedAway(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	back := 4 * InversionMargin
	log, newestOld := steppedLog(rng, 30, 200, back)
	anchor := len(log) - 200
	c := AfterStep(log[anchor].ts, newestOld)
	retained := log[anchor+1:]

	kept, missing := reopen(retained, c)
	assert.True(t, missing)
	require.NotEmpty(t, kept)
	first := 0
	for retained[first].ts <= newestOld+InversionMargin {
		first++
	}
	assert.Equal(t, first, kept[0], "lines up to the old clock and a margin are skipped")
	for j, i := range kept {
		assert.Equal(t, first+j, i, "every line from there on")
	}
}

func TestNewestIsTheLatestPosition(t *testing.T) {
	assert.Zero(t, Cursor{}.Newest())
	c := Cursor{Stdout: Position{Time: 7, Count: 1}, Stderr: Position{Time: 9, Count: 2}}
	assert.Equal(t, int64(9), c.Newest())
}
