package checkpoint

import (
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"

	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entry is one line of a simulated container log, in file order.
type entry struct {
	stream decode.Stream
	ts     int64
}

// resume delivers the first k entries, then replays the log as a reopen does (the daemon keeps every
// entry at or after since, wherever it stands in the file) and returns the indexes the filter keeps.
func resume(log []entry, k int) []int {
	var c Cursor
	for _, e := range log[:k] {
		c.Advance(e.stream, e.ts, 0)
	}
	since, _ := c.Since()
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

// randomLog makes a log whose timestamps never go back within an output, often repeat, and cross between
// the outputs by less than InversionMargin; step scales the time between lines.
func randomLog(rng *rand.Rand, n int, step int64) []entry {
	var clock decode.PerStream[int64]
	now := int64(1_700_000_000_000_000_000)
	log := make([]entry, n)
	for i := range log {
		if rng.IntN(3) == 0 {
			now += step * int64(rng.IntN(5)+1)
		}
		s := decode.Stream(rng.IntN(2) + 1)
		// A line may carry a time up to half the margin older than the file position suggests.
		ts := max(*clock.At(s), now-rng.Int64N(InversionMargin/2))
		*clock.At(s) = ts
		log[i] = entry{stream: s, ts: ts}
	}
	return log
}

func TestResumeKeepsExactlyTheUndeliveredLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, step := range []int64{1, InversionMargin / 10, InversionMargin} {
		for range 300 {
			log := randomLog(rng, rng.IntN(60)+1, step)
			for k := 0; k <= len(log); k++ {
				var want []int
				for i := k; i < len(log); i++ {
					want = append(want, i)
				}
				require.Equal(t, want, resume(log, k), "log %v delivered %d", log, k)
			}
		}
	}
}

func FuzzResumeKeepsExactlyTheUndeliveredLines(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 1, 200, 7}, uint8(3))
	f.Fuzz(func(t *testing.T, steps []byte, k uint8) {
		var clock decode.PerStream[int64]
		now := int64(1_000_000_000_000)
		log := make([]entry, 0, len(steps))
		for _, b := range steps {
			now += int64(b>>3&7) * InversionMargin / 4 // often 0: lines sharing one timestamp
			s := decode.Stream(b&1 + 1)
			ts := max(*clock.At(s), now-int64(b>>1&3)*InversionMargin/8)
			*clock.At(s) = ts
			log = append(log, entry{stream: s, ts: ts})
		}
		n := int(k) % (len(log) + 1)
		got := resume(log, n)
		require.Len(t, got, len(log)-n)
		for j, i := range got {
			require.Equal(t, n+j, i)
		}
	})
}

func TestFloorFollowsDeliveredLinesByTheMargin(t *testing.T) {
	var c Cursor
	s := InversionMargin / 2
	for i := int64(1); i <= 8; i++ {
		c.Advance(decode.Stdout, i*s, 0)
	}
	since, anchored := c.Since()
	assert.True(t, anchored)
	assert.Equal(t, 6*s, since, "the newest delivered line at least the margin older than the position")

	held, free := c, c
	held.Advance(decode.Stdout, 16*s, 0)
	free.Advance(decode.Stdout, 16*s, 0)
	held.Advance(decode.Stdout, 20*s, 17*s)
	free.Advance(decode.Stdout, 20*s, 0)
	assert.Equal(t, 8*s, held.Floor, "an unfinished line holds the floor back")
	assert.Equal(t, 16*s, free.Floor)

	c.Advance(decode.Stderr, 5*s, 0)
	assert.Equal(t, 6*s, c.Floor, "the floor never moves back")
}

func TestSinceWithoutFloorGoesBackByTheMargin(t *testing.T) {
	var c Cursor
	c.Advance(decode.Stderr, 10*InversionMargin, 0)
	since, anchored := c.Since()
	assert.False(t, anchored)
	assert.Equal(t, 9*InversionMargin, since)
	since, anchored = Cursor{}.Since()
	assert.Zero(t, since)
	assert.False(t, anchored)
}

func TestAtEndSkipsEverythingAtItsTime(t *testing.T) {
	c := AtEnd(100)
	since, anchored := c.Since()
	assert.Equal(t, int64(100), since)
	assert.True(t, anchored)
	f := NewFilter(c)
	assert.False(t, f.Keep(1, 99))
	assert.False(t, f.Keep(1, 100))
	assert.False(t, f.Keep(2, 100))
	assert.True(t, f.Keep(2, 101))
	assert.True(t, f.Keep(2, 101), "after its first new line every line of an output is new")
	assert.False(t, f.Keep(2, 100), "but one stamped before the newest line kept was sent again")
	assert.False(t, f.Keep(1, 100), "the other output still skips what is old")

	c.Advance(2, 100, 0)
	assert.Equal(t, Position{Time: 100, Count: -1}, c.Stderr, "a line at the marker's time does not move it")
	c.Advance(1, 150, 0)
	assert.Equal(t, Position{Time: 150, Count: 1}, c.Stdout)
}

func TestAdvanceKeepsTheFurthestTimeWhenTheClockGoesBack(t *testing.T) {
	var c Cursor
	c.Advance(1, 200, 0)
	c.Advance(1, 150, 0)
	assert.Equal(t, Position{Time: 200, Count: 1}, c.Stdout)
}

func TestZeroCursorKeepsEverything(t *testing.T) {
	f := NewFilter(Cursor{})
	assert.True(t, f.Keep(1, 5))
	assert.True(t, f.Keep(2, 1))
	assert.True(t, Cursor{}.IsZero())
}

// TestFilterDropsLinesTheDaemonSendsAgain replays a stream into which the daemon repeats a run of lines, as
// Docker 20.10 does to a follower crossing a json-file rotation: each output keeps every line once, and a
// line stamped like the newest one kept is kept (several lines can share a timestamp).
func TestFilterDropsLinesTheDaemonSendsAgain(t *testing.T) {
	f := NewFilter(Cursor{})
	stream := []entry{{1, 10}, {2, 11}, {1, 12}, {2, 13}, {1, 14}, {1, 14},
		// Repeated from the second line on, then new lines.
		{2, 11}, {1, 12}, {2, 13}, {1, 14}, {2, 15}, {1, 16}}
	var kept []entry
	for _, e := range stream {
		if f.Keep(e.stream, e.ts) {
			kept = append(kept, e)
		}
	}
	assert.Equal(t, []entry{{1, 10}, {2, 11}, {1, 12}, {2, 13}, {1, 14}, {1, 14}, {2, 13}, {1, 14}, {2, 15}, {1, 16}}, kept,
		"strictly older lines of an output are dropped; a repeat stamped like the newest line of its output is not told apart")
}

// TestFilterDropsRepeatsAfterTheResumePoint: the repeat rule also holds for lines past a reopened cursor.
func TestFilterDropsRepeatsAfterTheResumePoint(t *testing.T) {
	f := NewFilter(Cursor{Stdout: Position{Time: 100, Count: 1}, Stderr: Position{Time: 101, Count: 1}})
	assert.False(t, f.Keep(1, 100), "delivered before")
	assert.True(t, f.Keep(1, 110))
	assert.True(t, f.Keep(1, 120))
	assert.False(t, f.Keep(1, 110), "sent again by the daemon")
	assert.True(t, f.Keep(2, 115), "the other output is judged apart")
	assert.True(t, f.Keep(1, 121))
}

func TestFromReadsEverythingStampedSinceItsTime(t *testing.T) {
	c := From(100)
	assert.True(t, c.IsZero(), "nothing delivered: no position to find again, no gap to report")
	since, anchored := c.Since()
	assert.Equal(t, int64(100), since, "the daemon's since is inclusive: the first line at 100 comes back")
	assert.False(t, anchored, "no line of the log carries 100 for certain: a tail could not prove it reached back")
	assert.Equal(t, int64(99), c.Newest(), "every line before 100 counts as done")

	f := NewFilter(c)
	assert.False(t, f.Keep(1, 99), "history of an earlier run")
	assert.True(t, f.Keep(1, 100))
	assert.True(t, f.Keep(2, 100), "each output keeps its line at the start")
	assert.True(t, f.Keep(1, 100), "several lines can share a timestamp")
}

// TestFromResumesWithoutReadingHistoryAgain delivers lines after a From cursor, then reopens as a stream opened
// at the epoch would: the history before the start never comes back, and the undelivered lines all do.
func TestFromResumesWithoutReadingHistoryAgain(t *testing.T) {
	log := []entry{{1, 10}, {2, 20}, {1, 30}, {1, 100}, {2, 100}, {1, 101}, {2, 2000}}
	c := From(100)
	c.Advance(1, 100, 0)
	since, _ := c.Since()
	assert.GreaterOrEqual(t, since, int64(100), "a reopen never asks for the history")
	assert.Equal(t, int64(100), c.Start, "the start outlives the first delivery")
	f := NewFilter(c)
	var kept []entry
	for _, e := range log {
		if f.Keep(e.stream, e.ts) {
			kept = append(kept, e)
		}
	}
	assert.Equal(t, []entry{{2, 100}, {1, 101}, {2, 2000}}, kept)
}

func TestEndedLastsUntilTheNextDeliveredLine(t *testing.T) {
	c := AtEnd(1_700_000_000_000_000_000)
	c.Ended = true
	data, err := json.Marshal(c)
	require.NoError(t, err)
	var back Cursor
	require.NoError(t, json.Unmarshal(data, &back))
	assert.True(t, back.Ended, "saved and loaded: %s", data)
	back.Advance(1, 1_700_000_000_000_000_001, 0)
	assert.False(t, back.Ended, "a delivered line means the log had more")
	data, err = json.Marshal(back)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "ended", "omitted while not set")
}

// TestSinceWithoutFloorStaysBeforeAHeldRecord: an open multiline record of an output with no position yet is not
// seen by the positions; Held keeps the reopen from starting after its first line, and survives a save.
func TestSinceWithoutFloorStaysBeforeAHeldRecord(t *testing.T) {
	const s = int64(time.Second)
	var c Cursor
	c.Advance(decode.Stderr, 100*s, 10*s)
	c.Hold(10 * s)
	since, anchored := c.Since()
	assert.False(t, anchored)
	assert.Equal(t, 10*s-InversionMargin, since)

	data, err := json.Marshal(c)
	require.NoError(t, err)
	var back Cursor
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, int64(10*s), back.Held)

	c.Hold(0)
	since, _ = c.Since()
	assert.Equal(t, 100*s-InversionMargin, since, "no record open: the positions decide")
}

func TestCursorBehind(t *testing.T) {
	at := func(out, err Position) Cursor { return Cursor{Stdout: out, Stderr: err} }
	p := func(ts int64, n int) Position { return Position{Time: ts, Count: n} }
	for _, tc := range []struct {
		name   string
		c, o   Cursor
		behind bool
	}{
		{"equal", at(p(5, 1), p(4, 2)), at(p(5, 1), p(4, 2)), false},
		{"older time on one output", at(p(5, 1), p(3, 9)), at(p(5, 1), p(4, 1)), true},
		{"fewer lines at the same time", at(p(5, 1), p(4, 1)), at(p(5, 2), p(4, 1)), true},
		{"ahead", at(p(6, 1), p(4, 1)), at(p(5, 3), p(4, 1)), false},
		{"all lines at a time are not behind a count", at(p(5, -1), p(4, 1)), at(p(5, 7), p(4, 1)), false},
		{"a count is behind all lines at a time", at(p(5, 7), p(4, 1)), at(p(5, -1), p(4, 1)), true},
		{"nothing delivered is behind a position", Cursor{}, at(p(5, 1), Position{}), true},
		{"a reset is ahead of what it replaced", AfterStep(1, 9).Replacing(at(p(9, 1), p(9, 1))), at(p(9, 1), p(9, 1)), false},
		{"what a reset replaced is behind it", at(p(9, 1), p(9, 1)), AfterStep(1, 9).Replacing(at(p(9, 1), p(9, 1))), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.behind, tc.c.Behind(tc.o))
		})
	}
}
