package turn

import (
	"context"
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
