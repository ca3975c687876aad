package turn

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// ttyLines makes TTY lines from..to-1, one per margin, the first stamped start.
func ttyLines(from, to int, start int64) []fakeEntry {
	var out []fakeEntry
	for i := from; i < to; i++ {
		out = append(out, fakeEntry{stream: decode.Stdout, ts: start + int64(i-from)*sec, body: fmt.Sprintf("line %d", i)})
	}
	return out
}

// daemonStamp formats ns as the daemon does.
func daemonStamp(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}

// TestTTYTimestampsInContentMoveNoPosition reads TTY lines that print timestamps of the daemon's form, later than
// their own and far in the future, followed by a space: each is one line, stamped by the daemon, and a reopen
// drops them all and finds no gap.
func TestTTYTimestampsInContentMoveNoPosition(t *testing.T) {
	entries := ttyLines(0, 3, base)
	for i, at := range []int64{base + 10*sec, base + 2*sec + 1, 4102444800 * int64(time.Second)} {
		entries = append(entries, fakeEntry{stream: decode.Stdout, ts: base + int64(3+i)*sec, body: "GET /" + daemonStamp(at) + " x"})
	}
	f := &fakeLog{entries: entries, tty: true}
	s := &sink{}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.TTY = true
	out := Run(context.Background(), turn, nil)
	require.Len(t, s.lines, len(entries))
	for i, l := range s.lines {
		assert.Equal(t, entries[i].body, l.Body)
		assert.Equal(t, entries[i].ts, l.Timestamp, "line %d stamped by the daemon", i)
	}
	newest := entries[len(entries)-1].ts
	assert.Equal(t, newest, out.Cursor.Newest())

	turn.Cursor = out.Cursor
	again := Run(context.Background(), turn, nil)
	assert.Len(t, s.lines, len(entries), "nothing delivered twice")
	assert.Empty(t, again.Gaps)
	assert.False(t, again.Repaired)
	assert.Equal(t, newest, again.Cursor.Newest())
}

// TestTTYRunEndingWithoutNewline has a TTY container end its run with a write without a newline, which the turn
// delivers at the end of the log; the next run's first entry then follows that write's content directly. The next
// turn asks for the entries after it, so that the next run's first line is not read with it, and delivers every
// new line once; later reopens read the two together and drop them.
func TestTTYRunEndingWithoutNewline(t *testing.T) {
	run1 := append(ttyLines(0, 4, base), fakeEntry{stream: decode.Stdout, ts: base + 4*sec, body: "done", partial: true})
	f := &fakeLog{entries: run1, tty: true}
	s := &sink{}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.TTY = true
	out := Run(context.Background(), turn, nil)
	assert.Equal(t, append(bodies(0, 4), "done"), s.bodies())
	assert.Equal(t, base+4*sec, out.Cursor.Unterminated)

	f.mu.Lock()
	f.entries = append(f.entries, ttyLines(4, 8, base+10*sec)...)
	f.requests = nil
	f.mu.Unlock()
	turn.Cursor = out.Cursor
	second := Run(context.Background(), turn, nil)
	assert.Equal(t, append(append(bodies(0, 4), "done"), bodies(4, 8)...), s.bodies(), "the next run's lines once, whole")
	assert.Empty(t, second.Gaps)
	assert.Equal(t, docker.LogsRequest{Since: base + 4*sec + 1, Follow: true}, f.requests[1], "the entries after the last write")
	assert.Zero(t, second.Cursor.Unterminated)

	// With the floor before the last write, as when the next run wrote little, a reopen reads that write with the
	// next run's first line, as one line, and drops it.
	turn.Cursor = second.Cursor
	turn.Cursor.Floor = base + 3*sec
	third := Run(context.Background(), turn, nil)
	assert.Len(t, s.lines, 9, "nothing delivered twice")
	assert.Positive(t, third.Duplicates, "the last write and the lines after it were read again")
	assert.Empty(t, third.Gaps)
}

// TestFutureCursorIsRepaired starts turns from cursors that an older version saved after taking a timestamp in a
// TTY line for the daemon's: a position in 2099, and a step of the clock back from 2099. Neither is kept, no step is
// reported, and the lines written after the last real one are delivered.
func TestFutureCursorIsRepaired(t *testing.T) {
	future := 4102444800 * int64(time.Second)
	entries := ttyLines(0, 10, base)
	delivered := deliveredUpTo(entries, 6)
	tests := []struct {
		name   string
		cursor checkpoint.Cursor
		want   []string
	}{
		{
			name: "a position in the future",
			cursor: func() checkpoint.Cursor {
				c := delivered
				c.Advance(decode.Stdout, future, 0)
				return c
			}(),
			// Back to the floor, the newest line known delivered (line 5 here): the lines after it.
			want: bodies(6, 10),
		},
		{
			name:   "a step back from the future",
			cursor: checkpoint.AfterStep(entries[5].ts, future),
			want:   bodies(6, 10),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotZero(t, delivered.Floor)
			f := &fakeLog{entries: entries, tty: true}
			s := &sink{}
			turn := turnFor(f, s, tt.cursor, 0)
			turn.TTY = true
			var saved []checkpoint.Cursor
			turn.OnAdvance = func(c checkpoint.Cursor) { saved = append(saved, c) }
			out := Run(context.Background(), turn, nil)
			assert.True(t, out.Repaired)
			assert.Empty(t, out.Gaps, "no step of the clock")
			assert.Equal(t, tt.want, s.bodies())
			require.NotEmpty(t, saved)
			assert.Less(t, saved[0].Newest(), future, "the repaired cursor is saved at once")
			assert.Zero(t, out.Cursor.Stepped)
			assert.Equal(t, entries[9].ts, out.Cursor.Newest())
		})
	}
}

// TestTTYLocalLastPieceEndsAtNextEntry reads a TTY container of Docker 20.10's local driver, which gives a long
// line's last piece back without its newline: told the driver and the daemon's API version, the turn delivers the
// long line and the next one apart, each once.
func TestTTYLocalLastPieceEndsAtNextEntry(t *testing.T) {
	piece := strings.Repeat("x", 16384)
	entries := append(ttyLines(0, 2, base),
		fakeEntry{stream: decode.Stdout, ts: base + 2*sec, body: piece, partial: true},
		fakeEntry{stream: decode.Stdout, ts: base + 2*sec, body: "end\r", partial: true},
		fakeEntry{stream: decode.Stdout, ts: base + 3*sec, body: "after"})
	f := &fakeLog{entries: entries, tty: true}
	s := &sink{}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.TTY, turn.Driver, turn.DaemonAPI = true, "local", "1.41"
	out := Run(context.Background(), turn, nil)
	assert.Equal(t, []string{"line 0", "line 1", piece + "end\r", "after"}, s.bodies())
	assert.Equal(t, base+3*sec, out.Cursor.Newest())

	turn.Cursor = out.Cursor
	again := Run(context.Background(), turn, nil)
	assert.Len(t, s.lines, 4, "nothing delivered twice")
	assert.Empty(t, again.Gaps)
}
