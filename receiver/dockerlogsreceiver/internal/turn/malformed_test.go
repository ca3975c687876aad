package turn

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// TestRunPassesOverAMalformedEntryAfterFailingOnItRepeatedly reads a log with an entry that cannot be parsed:
// the turns fail on it MalformedAttempts times, then the next turn passes over it and its container's later lines
// flow; the skip is reported once, and later reopens that read it again pass over it silently.
func TestRunPassesOverAMalformedEntryAfterFailingOnItRepeatedly(t *testing.T) {
	entries := makeLog(4)
	// The daemon filters it by the time it stored it with; the stream carries none.
	bad := fakeEntry{stream: decode.Stdout, ts: base, body: "password=hunter2\n", raw: true}
	entries = append(entries[:2:2], append([]fakeEntry{bad}, entries[2:]...)...)
	f := &fakeLog{entries: entries}
	s := &sink{}
	var m Malformed
	cur := checkpoint.Cursor{}
	run := func() Outcome {
		turn := turnFor(f, s, cur, 10)
		turn.SkipMalformed = m.Skip
		out := Run(context.Background(), turn, nil)
		cur = out.Cursor
		return out
	}
	for i := range MalformedAttempts {
		out := run()
		require.Equal(t, EndReadFailed, out.End, "turn %d", i)
		require.True(t, errors.Is(out.Err, decode.ErrMalformed))
		assert.NotContains(t, out.Err.Error(), "hunter2", "errors carry no container output")
		require.NotNil(t, out.MalformedAfter)
		assert.Equal(t, base, *out.MalformedAfter, "known by the line before it")
		assert.Empty(t, m.Observe(out), "not skipped yet")
	}
	assert.Equal(t, bodies(0, 2), s.bodies(), "the lines before it, once")

	out := run()
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 4), s.bodies(), "the lines after it flow")
	fresh := m.Observe(out)
	require.Len(t, fresh, 1)
	assert.Equal(t, base, fresh[0].After)
	assert.Equal(t, int64(len(bad.body)+8), fresh[0].Length, "the frame, header and payload")
	assert.Positive(t, fresh[0].Offset)

	// More lines; the reopen reads the bad entry again in the margin before the cursor.
	f.entries = append(f.entries, fakeEntry{stream: decode.Stdout, ts: base + 2*sec, body: "line 4"})
	out = run()
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 5), s.bodies())
	assert.Empty(t, m.Observe(out), "reported once")
}

func TestMalformedForgetsEntriesNoReopenReads(t *testing.T) {
	var m Malformed
	after := base
	for range MalformedAttempts {
		m.Observe(Outcome{MalformedAfter: &after})
	}
	assert.True(t, m.Skip(base))
	assert.False(t, m.Skip(base+1), "another entry")
	m.Observe(Outcome{Cursor: checkpoint.Cursor{Floor: base + 2*checkpoint.InversionMargin}})
	assert.False(t, m.Skip(base))
	assert.True(t, m.Empty())
}
