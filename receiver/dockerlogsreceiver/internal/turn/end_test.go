package turn

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// TestRunDeliversTheLastLineWithoutNewlineOnce ends a log with a write that has no newline: the turn whose stream
// ends with the log delivers it, a reopen does not deliver it again, and a restarted container's lines follow.
func TestRunDeliversTheLastLineWithoutNewlineOnce(t *testing.T) {
	f := &fakeLog{entries: append(makeLog(4), fakeEntry{stream: decode.Stdout, ts: base + 2*sec, body: "line 4", partial: true})}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), nil)
	assert.Equal(t, EndStreamClosed, out.End)
	require.Equal(t, bodies(0, 5), s.bodies())
	assert.Equal(t, checkpoint.Position{Time: base + 2*sec, Count: 1}, out.Cursor.Stdout)
	assert.Zero(t, out.Undelivered)

	// The container runs again: json-file keeps the write without newline, and the next run's lines follow it.
	f.entries = append(f.entries, fakeEntry{stream: decode.Stdout, ts: base + 3*sec, body: "line 5"},
		fakeEntry{stream: decode.Stderr, ts: base + 3*sec + 1, body: "line 6"})
	again := Run(context.Background(), turnFor(f, s, out.Cursor, 10), nil)
	assert.Equal(t, EndStreamClosed, again.End)
	assert.Equal(t, bodies(0, 7), s.bodies(), "each line once")
}

// TestRunLeavesALineCutByAStreamThatFellBehind ends a follow stream after the first piece of a long line, while
// the log holds the rest: the piece is no line, and is left to the turn that reads the line whole.
func TestRunLeavesALineCutByAStreamThatFellBehind(t *testing.T) {
	f := &fakeLog{behind: 3, entries: append(makeLog(2),
		fakeEntry{stream: decode.Stdout, ts: base + sec, body: "long ", partial: true},
		fakeEntry{stream: decode.Stdout, ts: base + sec, body: "line"})}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), nil)
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 2), s.bodies())
	assert.Equal(t, 1, out.Undelivered)

	f.behind = 0
	Run(context.Background(), turnFor(f, s, out.Cursor, 10), nil)
	assert.Equal(t, append(bodies(0, 2), "long line"), s.bodies())
}

func TestRunDeliversTheLastLinesOfBothOutputs(t *testing.T) {
	f := &fakeLog{entries: append(makeLog(2),
		fakeEntry{stream: decode.Stderr, ts: base + sec, body: "err", partial: true},
		fakeEntry{stream: decode.Stdout, ts: base + sec + 1, body: "out", partial: true})}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), nil)
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, []string{"line 0", "line 1", "err", "out"}, s.bodies())
	assert.Equal(t, decode.PerStream[int]{2, 2}, out.Lines)
}

// TestRunDeliversALongLastLineWithoutNewlineWhole ends a log with a write longer than MaxLineBytes and without a
// newline: its first record is sent while the stream is read, and the rest once the log is found to end with it.
func TestRunDeliversALongLastLineWithoutNewlineWhole(t *testing.T) {
	long := strings.Repeat("abcdefghij", 150)
	f := &fakeLog{entries: append(makeLog(2),
		fakeEntry{stream: decode.Stdout, ts: base + 2*sec, body: long[:1200], partial: true},
		fakeEntry{stream: decode.Stdout, ts: base + 2*sec, body: long[1200:], partial: true})}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.MaxLineBytes = 1000
	out := Run(context.Background(), spec, nil)
	assert.Equal(t, EndStreamClosed, out.End)
	got := s.bodies()
	require.Len(t, got, 4)
	assert.Equal(t, bodies(0, 2), got[:2])
	assert.Equal(t, long, got[2]+got[3], "the last line whole, in two records")
	assert.Zero(t, out.Undelivered)
}

// TestRunDeliversALongLastLineInterleavedWithTheOtherOutput ends a log with a long stdout line without newline
// whose pieces the other output's lines came between (the daemon logs each output in its own goroutine): the log
// still ends with the line, and every byte of it is delivered, once.
func TestRunDeliversALongLastLineInterleavedWithTheOtherOutput(t *testing.T) {
	long := strings.Repeat("abcdefghij", 250)
	at := base + 2*sec
	f := &fakeLog{entries: append(makeLog(2),
		fakeEntry{stream: decode.Stdout, ts: at, body: long[:1200], partial: true},
		fakeEntry{stream: decode.Stderr, ts: at + 1, body: "err 1"},
		fakeEntry{stream: decode.Stderr, ts: at + 2, body: "err 2"},
		fakeEntry{stream: decode.Stdout, ts: at, body: long[1200:2400], partial: true},
		fakeEntry{stream: decode.Stderr, ts: at + 3, body: "err 3"},
		fakeEntry{stream: decode.Stdout, ts: at, body: long[2400:], partial: true})}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.MaxLineBytes = 1000
	out := Run(context.Background(), spec, nil)
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Zero(t, out.Undelivered)
	var got []string
	for _, l := range s.lines {
		got = append(got, fmt.Sprintf("%s %d B", l.Stream, len(l.Body)))
	}
	assert.Equal(t, []string{"stdout 6 B", "stderr 6 B", "stdout 1000 B", "stderr 5 B", "stderr 5 B", "stdout 1000 B", "stderr 5 B", "stdout 500 B"}, got)
	var whole strings.Builder
	for _, l := range s.lines {
		if l.Stream == decode.Stdout && l.Timestamp == at {
			whole.WriteString(l.Body)
		}
	}
	assert.True(t, whole.String() == long, "the last line whole, in order")
}
