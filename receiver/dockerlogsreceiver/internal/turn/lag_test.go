package turn

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

func TestLagWatchMeasuresFromTheLeastLag(t *testing.T) {
	now := time.Unix(0, base)
	w := lagWatch{limit: time.Second}
	assert.False(t, w.fellBehind(base-int64(10*time.Second), 0, now), "history 10 s old")
	assert.False(t, w.fellBehind(base-int64(time.Second), 0, now.Add(time.Millisecond)), "catching up: the lag only shrinks")
	assert.False(t, w.fellBehind(base, 0, now.Add(1900*time.Millisecond)), "1.9 s behind, 0.9 s more than at best")
	assert.True(t, w.fellBehind(base, 0, now.Add(2100*time.Millisecond)), "2.1 s behind: 1.1 s more than at best")
	assert.Equal(t, 2100*time.Millisecond, w.lag())
	off := lagWatch{}
	assert.False(t, off.fellBehind(base, 0, now.Add(time.Hour)), "no limit: never")
}

func TestLagWatchCountsTheHistoryReadFromTheOpening(t *testing.T) {
	opened := time.Unix(0, base)
	w := newLagWatch(time.Second, 0, opened)
	old := base - int64(time.Hour)
	assert.False(t, w.fellBehind(old, 0, opened.Add(10*time.Millisecond)), "the first line of history")
	assert.False(t, w.fellBehind(old+1, 0, opened.Add(900*time.Millisecond)), "0.89 s into the history read")
	assert.True(t, w.fellBehind(old+2, 0, opened.Add(1100*time.Millisecond)),
		"still history 1.1 s after the opening: the follower waits at the opening's end of the log, the writer went on")
	w = newLagWatch(time.Second, 0, opened)
	assert.False(t, w.fellBehind(old, 0, opened.Add(10*time.Millisecond)))
	assert.False(t, w.fellBehind(base+int64(500*time.Millisecond), 0, opened.Add(510*time.Millisecond)), "caught up")
	assert.False(t, w.fellBehind(base+int64(600*time.Millisecond), 0, opened.Add(1500*time.Millisecond)), "0.9 s behind: less than 1 s more than at best")
}

// TestLagWatchCountsALateFirstLineOfHistory: the daemon took longer than the limit to send the first line of the
// history; the follower already trails by that long, so the stream falls behind at that line.
func TestLagWatchCountsALateFirstLineOfHistory(t *testing.T) {
	opened := time.Unix(0, base)
	w := newLagWatch(time.Second, 0, opened)
	assert.True(t, w.fellBehind(base-int64(time.Hour), 0, opened.Add(1100*time.Millisecond)),
		"the first line 1.1 s after the opening, against a 1 s limit")
	w = newLagWatch(time.Second, 0, opened)
	assert.False(t, w.fellBehind(base-int64(time.Hour), 0, opened.Add(800*time.Millisecond)), "0.8 s late")
	assert.True(t, w.fellBehind(base-int64(time.Hour)+1, 0, opened.Add(1100*time.Millisecond)),
		"0.3 s more of history: 1.1 s after the opening, whatever the first line's delay")
}

func TestLagWatchRemainingIsThePauseTheReadingCanAfford(t *testing.T) {
	opened := time.Unix(0, base)
	off := lagWatch{opened: opened}
	_, ok := off.remaining(opened)
	assert.False(t, ok, "no limit")
	w := newLagWatch(time.Second, 0, opened)
	d, ok := w.remaining(opened.Add(300 * time.Millisecond))
	require.True(t, ok)
	assert.Equal(t, 700*time.Millisecond, d, "nothing read yet: from the opening")
	w.fellBehind(base+int64(time.Second), 0, opened.Add(1100*time.Millisecond))
	d, _ = w.remaining(opened.Add(1600 * time.Millisecond))
	assert.Equal(t, 500*time.Millisecond, d, "0.1 s behind at best, 0.6 s now")
	d, _ = w.remaining(opened.Add(3 * time.Second))
	assert.Negative(t, d, "paused too long already")
}

// TestRunReopensAtTheCursorWhenADeliveryOutlastsTheLag: a consumer slower than the lag limit (but faster than the
// stall limit) closes the stream while it holds the batch; the batch is accepted and the turn reopens at the cursor.
func TestRunReopensAtTheCursorWhenADeliveryOutlastsTheLag(t *testing.T) {
	now := time.Now().UnixNano()
	f := &fakeLog{}
	for i := range 3 {
		f.entries = append(f.entries, fakeEntry{stream: decode.Stdout, ts: now + int64(i), body: bodies(i, i+1)[0]})
	}
	s := &sink{hold: func(context.Context) error { time.Sleep(50 * time.Millisecond); return nil }}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.MaxBatch = 1
	turn.StallLimit = time.Hour
	turn.LagLimit = time.Millisecond
	out := Run(context.Background(), turn, nil)
	require.Positive(t, out.FellBehind, "each delivery takes 50 ms against a 1 ms lag limit")
	assert.Zero(t, out.Stalls)
	assert.Equal(t, bodies(0, 3), s.bodies(), "every line once across the reopens")
}

// TestRunReopensAtTheCursorWhenTheReadingFallsBehind: lines stamped ever further behind the time they are read
// close the stream, whose lines are delivered first; the turn reopens at the cursor and delivers each line once.
func TestRunReopensAtTheCursorWhenTheReadingFallsBehind(t *testing.T) {
	// Stamped an hour apart and read at once: each line is an hour less behind than the one before.
	now := time.Now().UnixNano()
	f := &fakeLog{}
	for i := range 6 {
		f.entries = append(f.entries, fakeEntry{stream: decode.Stdout, ts: now - int64(10-i)*int64(time.Hour), body: bodies(i, i+1)[0]})
	}
	// Lags 10 h, 9 h, ... shrink: no reopen while catching up.
	s := &sink{}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.LagLimit = time.Second
	out := Run(context.Background(), turn, nil)
	assert.Equal(t, bodies(0, 6), s.bodies())
	assert.Zero(t, out.FellBehind, "catching up on history is not falling behind")

	// An hour old and a nanosecond apart, handed on slowly: each batch takes at least 5 ms, so the reading falls
	// further behind the lines' stamps by at least that much, whatever the machine's speed.
	g := &fakeLog{}
	for i := range 12 {
		g.entries = append(g.entries, fakeEntry{stream: decode.Stdout, ts: now - int64(time.Hour) + int64(i), body: bodies(i, i+1)[0]})
	}
	s2 := &sink{hold: func(context.Context) error { time.Sleep(5 * time.Millisecond); return nil }}
	turn = turnFor(g, s2, checkpoint.Cursor{}, 0)
	turn.LagLimit = time.Millisecond
	out = Run(context.Background(), turn, nil)
	require.Positive(t, out.FellBehind)
	assert.Equal(t, bodies(0, 12), s2.bodies(), "every line once across the reopens")
	assert.Equal(t, EndStreamClosed, out.End)
	require.Greater(t, len(g.requests), 1)
	assert.NotEqual(t, docker.LogsRequest{}, g.requests[1], "reopened at the cursor")
}

// TestLagWatchJumpIsHalfAFileAtTheMeasuredRate: a follower line that comes more than half a file's writing time
// after the newest line read is a jump; history lines, and any line before a rate was measured, never are.
func TestLagWatchJumpIsHalfAFileAtTheMeasuredRate(t *testing.T) {
	opened := time.Unix(0, base)
	// 100 KiB files, lines of 920 bytes + 80 at 100 lines a second: 100 KB/s, a file every ~1 s, half of it ~0.5 s.
	w := newLagWatch(time.Second, 100<<10, opened)
	assert.False(t, w.jumped(base+int64(time.Hour)), "nothing read yet")
	for i := range 60 {
		// History up to the opening, then lines the follower sends, at the same rate.
		ts := base - int64(300*time.Millisecond) + int64(i)*int64(10*time.Millisecond)
		assert.False(t, w.jumped(ts), "line %d, 10 ms after the one before", i)
		w.fellBehind(ts, 920, time.Unix(0, ts))
	}
	require.Positive(t, w.rate)
	assert.False(t, w.jumped(w.newest+int64(400*time.Millisecond)), "0.4 s after the newest: less than half a file")
	assert.True(t, w.jumped(w.newest+int64(700*time.Millisecond)), "0.7 s after the newest: more than half a file")

	history := newLagWatch(time.Second, 100<<10, opened.Add(time.Hour))
	for i := range 60 {
		history.fellBehind(base+int64(i)*int64(10*time.Millisecond), 920, opened)
	}
	assert.False(t, history.jumped(history.newest+int64(time.Second)), "history comes from the files: nothing is skipped")

	slow := newLagWatch(time.Second, 100<<10, opened)
	for i := range 30 {
		slow.fellBehind(base+int64(i)*int64(time.Second), 920, opened.Add(time.Duration(i)*time.Second))
	}
	assert.False(t, slow.jumped(slow.newest+int64(30*time.Second)), "a line a second fills a file in 100 s: 30 s is no jump")
	assert.True(t, slow.jumped(slow.newest+int64(2*time.Minute)), "2 minutes is more than half of it")

	noRotation := newLagWatch(time.Second, 0, opened)
	for i := range 30 {
		noRotation.fellBehind(base+int64(i)*int64(10*time.Millisecond), 920, opened)
	}
	assert.False(t, noRotation.jumped(noRotation.newest+int64(time.Hour)), "a log that never rotates skips nothing")
}

// TestRunReadsAgainWhatTheFollowerSkipped: the first stream sends its history, then skips a file's worth of lines
// as Docker's follower does after a rotation during the history; the turn stops before the line after the jump,
// reopens at the cursor, and every line arrives once.
func TestRunReadsAgainWhatTheFollowerSkipped(t *testing.T) {
	now := time.Now()
	f := &fakeLog{}
	const history, written = 300, 2000
	for i := range written {
		// History a millisecond apart before the opening; the rest from a second after it, as the follower sends it.
		ts := now.Add(-time.Second).UnixNano() + int64(i)*int64(time.Millisecond)
		if i >= history {
			ts = now.Add(time.Second).UnixNano() + int64(i)*int64(time.Millisecond)
		}
		f.entries = append(f.entries, fakeEntry{stream: decode.Stdout, ts: ts, body: bodies(i, i+1)[0]})
	}
	f.skipFirst = [2]int{history + 100, history + 1100}
	s := &sink{}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.LagLimit = time.Hour
	turn.LogFileSize = 100 << 10
	out := Run(context.Background(), turn, nil)
	assert.Equal(t, 1, out.Jumps, "one jump, of a second, against half a file's writing time")
	assert.Equal(t, bodies(0, written), s.bodies(), "every line once")
	require.Len(t, f.requests, 2)
	assert.NotZero(t, f.requests[1].Since, "reopened at the cursor")
}

func TestLagLimitFollowsTheRateTheLinesWereWritten(t *testing.T) {
	opened := time.Unix(0, base)
	// A 100 KiB log: at 1 MB/s of log (1,000 lines of 920 bytes + 80 a second) it fills in about 0.1 s.
	w := newLagWatch(time.Second, 100<<10, opened)
	for i := range 300 {
		w.fellBehind(base+int64(i)*int64(time.Millisecond), 920, opened)
	}
	assert.Equal(t, MinLagLimit, w.limit, "fills in 0.1 s: half of it, at least the minimum")
	// 10 lines a second: the file fills in about 10 s; the limit stays at the turn's.
	for i := range 10 {
		w.fellBehind(base+int64(time.Second)+int64(i)*int64(100*time.Millisecond), 920, opened)
	}
	assert.Equal(t, time.Second, w.limit, "a slow writer: the turn's limit")
	// 4,000 lines of 920 bytes a second (4 MB/s): 100 KiB every 25 ms, half of it under the minimum.
	off := newLagWatch(time.Second, 0, opened)
	for i := range 1000 {
		off.fellBehind(base+int64(i)*int64(250*time.Microsecond), 920, opened)
	}
	assert.Equal(t, time.Second, off.limit, "a log that never rotates keeps the turn's limit")
	assert.Equal(t, 500*time.Millisecond, HalfFill(100<<10, 100<<10, time.Hour), "fills in 1 s")
	assert.Equal(t, time.Hour, HalfFill(100<<10, 0, time.Hour), "rate unknown")
}
