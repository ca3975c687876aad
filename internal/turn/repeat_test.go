package turn

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/decode"
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

func TestRepeatsTellsOnlyTheLastLineOfAnOutputSentAgain(t *testing.T) {
	var last lastSent
	last[decode.Stdout] = sentLine{ts: base + 7, body: "x"}
	assert.True(t, last.repeats(decode.Stdout, base+7, []byte("x")))
	assert.False(t, last.repeats(decode.Stdout, base+7, []byte("y")), "another line stamped alike")
	assert.False(t, last.repeats(decode.Stderr, base+7, []byte("x")), "the other output")
	assert.False(t, last.repeats(decode.Stdout, base+8, []byte("x")), "the same text later")
	last[decode.Stdout] = sentLine{ts: base, body: "x"}
	assert.False(t, last.repeats(decode.Stdout, base, []byte("x")), "whole-second stamps share a time: never a repeat")
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
