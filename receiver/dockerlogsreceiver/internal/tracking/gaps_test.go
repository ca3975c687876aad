package tracking

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

func TestReportGapsLogsOneWarningPerGap(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	r, _ := testTracker(t, zap.New(core), nil, Config{})
	c := &trackedContainer{meta: records.Meta{ID: "c0ffee", Name: "web"}}
	at := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC).UnixNano()
	r.reportGaps(c, []turn.Gap{
		{Cause: turn.GapRotatedAway, From: at, To: at + int64(90*time.Second)},
		{Cause: turn.GapClockSteppedBack, From: at, To: at + int64(time.Hour)},
	})
	entries := logs.All()
	require.Len(t, entries, 2)
	for i, want := range []struct {
		cause, message, to string
		duration           time.Duration
	}{
		{"rotated_away", "log rotation deleted them", "2026-11-27T10:01:30.123456789Z", 90 * time.Second},
		{"clock_stepped_back", "clock stepped back", "2026-11-27T11:00:00.123456789Z", time.Hour},
	} {
		assert.Contains(t, entries[i].Message, want.message)
		assert.Equal(t, map[string]any{"container.id": "c0ffee", "container.name": "web", "cause": want.cause,
			"from": "2026-11-27T10:00:00.123456789Z", "to": want.to, "duration": want.duration}, entries[i].ContextMap())
	}
}

// TestWarningsCarryNoContainerOutput logs what a turn that failed on a malformed entry logs, and what a skip
// logs, and checks that none of it holds the container's bytes.
func TestWarningsCarryNoContainerOutput(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	tr, _ := testTracker(t, zap.New(core), nil, Config{})
	r := tr.reader
	c := &trackedContainer{meta: records.Meta{ID: "0123456789ab", Name: "app"}}

	const secret = "password=hunter2"
	for _, tc := range []struct {
		tty   bool
		input string
	}{
		{false, "\x01\x00\x00\x00\x00\x00\x00\x11" + secret + "\n"},
		{false, secret + " and more of it\n"},
		{true, secret + " and more\r\n"},
		{true, "Error " + secret + "\r\n"},
	} {
		rd := decode.NewReader(strings.NewReader(tc.input), decode.Options{TTY: tc.tty})
		_, err := rd.Next()
		require.ErrorIs(t, err, decode.ErrMalformed)
		r.afterFailure(context.Background(), c, turn.Outcome{End: turn.EndReadFailed, Err: err}, err)
	}
	r.reportSkipped(c, []turn.Skipped{{After: time.Now().UnixNano(), Offset: 100, Length: 17}})

	require.Equal(t, 5, logs.Len())
	for _, e := range logs.All() {
		text := e.Message
		for k, v := range e.ContextMap() {
			text += fmt.Sprintf(" %s=%v", k, v)
		}
		assert.NotContains(t, text, "hunter2", "a warning quotes the container's output")
		assert.NotContains(t, text, "password", "a warning quotes the container's output")
	}
	skipped := logs.FilterMessageSnippet("skipped").All()
	require.Len(t, skipped, 1)
	assert.Equal(t, int64(100), skipped[0].ContextMap()["offset"])
	assert.Equal(t, int64(17), skipped[0].ContextMap()["length"])
	assert.Equal(t, "0123456789ab", skipped[0].ContextMap()["container.id"])
}
