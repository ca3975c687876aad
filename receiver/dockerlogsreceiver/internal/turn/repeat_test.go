package turn

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// TestRunDropsTheLineTheDaemonSendsAgainAtARotation replays what Docker 20.10 sends a follower across a json-file
// rotation: the last line read comes again. Each line is delivered once and the repeat counts as a duplicate.
func TestRunDropsTheLineTheDaemonSendsAgainAtARotation(t *testing.T) {
	f := &fakeLog{entries: []fakeEntry{
		{stream: decode.Stdout, ts: base + 1, body: "line 0"},
		{stream: decode.Stderr, ts: base + 2, body: "line 1"},
		{stream: decode.Stdout, ts: base + 3, body: "line 2"},
		{stream: decode.Stdout, ts: base + 3, body: "line 2"}, // sent again
		{stream: decode.Stdout, ts: base + 4, body: "line 3"},
		{stream: decode.Stderr, ts: base + 1, body: "line 1 again, stamped before"}, // an older stamp: sent again
		{stream: decode.Stderr, ts: base + 5, body: "line 4"},
	}}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), nil)
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 5), s.bodies())
	assert.Equal(t, 2, out.Duplicates)
}

// TestRunDropsALongLineTheDaemonSendsAgainAtARotation has the daemon send again, at a json-file rotation, a line
// of three entries that the reader cuts into several records at MaxLineBytes: every record of the repeat is
// dropped, and the line after it is delivered.
func TestRunDropsALongLineTheDaemonSendsAgainAtARotation(t *testing.T) {
	const max = 1000
	long := "seq=14 " + strings.Repeat(" ", 2400)
	pieces := []fakeEntry{
		{stream: decode.Stderr, ts: base + 2, body: long[:1024], partial: true},
		{stream: decode.Stderr, ts: base + 2, body: long[1024:2048], partial: true},
		{stream: decode.Stderr, ts: base + 2, body: long[2048:]},
	}
	entries := []fakeEntry{{stream: decode.Stdout, ts: base + 1, body: "line 0"}}
	entries = append(entries, pieces...)
	entries = append(entries, pieces...) // sent again
	entries = append(entries, fakeEntry{stream: decode.Stderr, ts: base + 3, body: "after"})
	f := &fakeLog{entries: entries}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.MaxLineBytes = max
	out := Run(context.Background(), spec, nil)
	assert.Equal(t, EndStreamClosed, out.End)
	var stderr strings.Builder
	for _, l := range s.lines {
		if l.Stream == decode.Stderr {
			stderr.WriteString(l.Body)
		}
	}
	assert.Equal(t, len(long+"after"), stderr.Len(), "the long line once, then the next")
	assert.True(t, long+"after" == stderr.String(), "every byte of the long line once, in order")
	assert.Equal(t, 3, out.Duplicates, "each record of the repeat")
	assert.Equal(t, checkpoint.Position{Time: base + 3, Count: 1}, out.Cursor.Stderr)
}

// TestRunDeliversALongLineAfterAnotherStampedAlike has two different long lines share a stamp: the second is no
// repeat, however it starts.
func TestRunDeliversALongLineAfterAnotherStampedAlike(t *testing.T) {
	const max = 1000
	first := strings.Repeat("=", 2400)
	second := strings.Repeat("=", 1500) + "different end"
	f := &fakeLog{entries: []fakeEntry{
		{stream: decode.Stdout, ts: base + 2, body: first},
		{stream: decode.Stdout, ts: base + 2, body: second},
		{stream: decode.Stdout, ts: base + 3, body: "after"},
	}}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.MaxLineBytes = max
	out := Run(context.Background(), spec, nil)
	assert.Equal(t, EndStreamClosed, out.End)
	var stdout strings.Builder
	for _, l := range s.lines {
		stdout.WriteString(l.Body)
	}
	assert.Equal(t, len(first+second+"after"), stdout.Len())
	assert.Zero(t, out.Duplicates)
}

func TestRepeatsTellsOnlyTheLastLineOfAnOutputSentAgain(t *testing.T) {
	var last lastSent
	last.sent(decode.Stdout, base+7, []byte("x"), 1)
	assert.True(t, last.repeats(decode.Stdout, base+7, []byte("x"), 1))
	assert.False(t, last.repeats(decode.Stdout, base+7, []byte("y"), 1), "another line stamped alike")
	assert.False(t, last.repeats(decode.Stderr, base+7, []byte("x"), 1), "the other output")
	assert.False(t, last.repeats(decode.Stdout, base+8, []byte("x"), 1), "the same text later")
	last.sent(decode.Stdout, base, []byte("x"), 1)
	assert.False(t, last.repeats(decode.Stdout, base, []byte("x"), 1), "whole-second stamps share a time: never a repeat")
	last.sent(decode.Stdout, base+9, []byte("ab"), 0)
	assert.False(t, last.repeats(decode.Stdout, base+9, []byte("ab"), 0), "the next piece of a line still open")
	last.sent(decode.Stdout, base+9, []byte("c"), 2)
	assert.True(t, last.repeats(decode.Stdout, base+9, []byte("ab"), 0), "a line of two records sent again: its first")
	assert.False(t, last.repeats(decode.Stdout, base+9, []byte("c"), 0), "ends where the line does not")
}

// TestRunDeliversEveryPieceOfALongRunOfOneByte cuts lines of one repeated byte at MaxLineBytes: the pieces share
// the line's stamp and text, and none of them is taken for a line the daemon sent again.
func TestRunDeliversEveryPieceOfALongRunOfOneByte(t *testing.T) {
	const max = 1024
	long := "seq=1 " + strings.Repeat("x", 10*1024)
	zeros := strings.Repeat("0", 40_000) // three daemon entries: 16 KiB, 16 KiB and the rest
	f := &fakeLog{entries: []fakeEntry{
		{stream: decode.Stdout, ts: base + 1, body: long},
		{stream: decode.Stderr, ts: base + 2, body: zeros[:16384], partial: true},
		{stream: decode.Stderr, ts: base + 2, body: zeros[16384:32768], partial: true},
		{stream: decode.Stderr, ts: base + 2, body: zeros[32768:]},
		{stream: decode.Stdout, ts: base + 3, body: "after"},
	}}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.MaxLineBytes = max
	out := Run(context.Background(), spec, nil)
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Zero(t, out.Duplicates)
	var stdout, stderr strings.Builder
	for _, l := range s.lines {
		assert.LessOrEqual(t, len(l.Body), max)
		if l.Stream == decode.Stderr {
			stderr.WriteString(l.Body)
		} else {
			stdout.WriteString(l.Body)
		}
	}
	// Lengths first: a failure then says how much was lost without printing 50 KB.
	assert.Equal(t, len(long+"after"), stdout.Len())
	assert.True(t, long+"after" == stdout.String(), "every byte of the long line once, in order")
	assert.Equal(t, len(zeros), stderr.Len())
	assert.True(t, zeros == stderr.String(), "every byte of the line of zeros once, in order")
}

// TestAnswerCacheKeepsTheNewestAnswers bounds the answers kept and drops the oldest first.
func TestAnswerCacheKeepsTheNewestAnswers(t *testing.T) {
	c := &answerCache{byKey: map[storedKey]decode.StoredLine{}}
	for i := range answersKept + 1 {
		c.put(storedKey{stream: decode.Stdout, ts: int64(i)}, decode.StoredLine{Whole: true, Sums: []uint32{uint32(i)}})
	}
	_, ok := c.get(storedKey{stream: decode.Stdout, ts: 0})
	assert.False(t, ok, "the oldest answer is dropped")
	line, ok := c.get(storedKey{stream: decode.Stdout, ts: answersKept})
	assert.True(t, ok)
	assert.Equal(t, []uint32{answersKept}, line.Sums)
	assert.Len(t, c.order, answersKept)
}
