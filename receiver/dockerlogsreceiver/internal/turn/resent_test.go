package turn

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// TestRunReadsAgainATTYLineTheDaemonSentItsFileInto replays what Docker 20.10 sends a TTY container's follower at its
// first end of a rotated json-file file, when that end came after a piece of a long line: the file again from its
// start, right after the piece, where a TTY stream cannot tell it from the line's content. The stream ends there and
// is opened again at the cursor: every line arrives once and whole.
func TestRunReadsAgainATTYLineTheDaemonSentItsFileInto(t *testing.T) {
	long := strings.Repeat("a", 16384)
	f := &fakeLog{tty: true, entries: []fakeEntry{
		{stream: decode.Stdout, ts: base + 1, body: "line 0"},
		{stream: decode.Stdout, ts: base + 2, body: "line 1, the first of the new file"},
		{stream: decode.Stdout, ts: base + 3, body: long, partial: true},
		{stream: decode.Stdout, ts: base + 3, body: "end"},
		{stream: decode.Stdout, ts: base + 4, body: "line 3"},
	}, resendFirst: [2]int{1, 3}}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.TTY, spec.Driver = true, "json-file"
	out := Run(context.Background(), spec, nil)
	assert.Equal(t, EndStreamClosed, out.End)
	want := []string{"line 0", "line 1, the first of the new file", long + "end", "line 3"}
	assert.Equal(t, shortBodies(want), shortBodies(s.bodies()), "every line once and whole")
	assert.Equal(t, 1, out.Resent)
	assert.Len(t, f.requests, 2, "opened again once")
}

// shortBodies sums up bodies by length and start, so that a failure stays readable.
func shortBodies(bodies []string) []string {
	out := make([]string, len(bodies))
	for i, b := range bodies {
		out[i] = fmt.Sprintf("%d B %.40q", len(b), b)
	}
	return out
}
