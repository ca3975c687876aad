package checkpoint

import (
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"

	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	now2026 = int64(1_796_000_000) * int64(time.Second)
	in2099  = int64(4_102_444_800) * int64(time.Second)
)

// TestReopenAfterAnUnterminatedEndStartsAfterIt: after a run's last write without a newline, a reopen asks for the
// entries after it, until the next line is delivered; the mark survives a save.
func TestReopenAfterAnUnterminatedEndStartsAfterIt(t *testing.T) {
	s := int64(time.Second)
	var c Cursor
	for ts := 10 * s; ts <= 20*s; ts += s {
		c.Advance(decode.Stdout, ts, 0)
	}
	require.NotZero(t, c.Floor)
	c.EndUnterminated(20 * s)
	since, anchored := c.Since()
	assert.Equal(t, 20*s+1, since)
	assert.False(t, anchored, "the first entry after it has a time not known yet")

	data, err := json.Marshal(c)
	require.NoError(t, err)
	var back Cursor
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, 20*s, back.Unterminated, "saved and loaded: %s", data)

	c.Start = 30 * s
	since, _ = c.Since()
	assert.Equal(t, 30*s, since, "nothing before Start is read")

	c.Advance(decode.Stdout, 31*s, 0)
	assert.Zero(t, c.Unterminated, "a delivered line means the log had more")
	since, anchored = c.Since()
	assert.Equal(t, c.Floor, since)
	assert.True(t, anchored)
}

func TestRepairedTakesBackTimesInTheFuture(t *testing.T) {
	s := int64(time.Second)
	last := now2026 - 60*s
	var past Cursor
	for ts := last; ts <= last+10*s; ts += s {
		past.Advance(decode.Stdout, ts, 0)
	}
	require.NotZero(t, past.Floor)
	_, repaired := past.Repaired(now2026)
	assert.False(t, repaired, "a cursor in the past is kept")

	ahead := past
	ahead.Advance(decode.Stdout, in2099, 0)
	got, repaired := ahead.Repaired(now2026)
	assert.True(t, repaired)
	assert.Equal(t, Position{Time: got.Floor, Count: -1}, got.Stdout, "back to the floor, a line known delivered")
	assert.LessOrEqual(t, got.Floor, last+10*s)
	got.Advance(decode.Stdout, now2026, 0)
	assert.Equal(t, now2026, got.Newest(), "new lines move it again")

	stepped := AfterStep(last+10*s, in2099)
	got, repaired = stepped.Repaired(now2026)
	assert.True(t, repaired)
	assert.Zero(t, got.Stepped, "no step from the future")
	assert.Equal(t, AtEnd(last+10*s).Replacing(stepped), got)

	lost := Cursor{Stdout: Position{Time: in2099, Count: 1}, Floor: in2099 - InversionMargin, Held: in2099, Unterminated: in2099}
	got, repaired = lost.Repaired(now2026)
	assert.True(t, repaired)
	assert.Equal(t, Cursor{Stdout: Position{Time: now2026, Count: -1}, Resets: 1}, got, "no floor in the past: to the limit")

	// The store keeps the repaired cursor over the one it repairs, and a turn's later save over it.
	store := NewStore(nil)
	require.NoError(t, store.Save(t.Context(), "c", lost))
	require.NoError(t, store.Save(t.Context(), "c", got), "a repair moves the position back on purpose")
	got.Advance(decode.Stdout, now2026+s, 0)
	require.NoError(t, store.Save(t.Context(), "c", got))
	assert.ErrorIs(t, store.Save(t.Context(), "c", lost), ErrBehind, "the future cursor does not come back")
}
