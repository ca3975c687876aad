package turn

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
)

// TestARecordPastItsTimeoutWaitsWhileTheReaderHoldsLines: a record whose timeout has passed (as one an earlier turn
// left open is when a turn reads it again) is not closed while the reader holds bytes it has not sent on, in which
// the record may go on; it is closed once the reader waits for the daemon, or after one more timeout at most.
func TestARecordPastItsTimeoutWaitsWhileTheReaderHoldsLines(t *testing.T) {
	timeout := time.Minute
	spec := Spec{MaxBatch: 10, FlushInterval: time.Hour, Multiline: &multiline.Rule{Start: traceStart, FlushTimeout: timeout}}
	s := newStream(context.Background(), &spec, &Outcome{}, nil, false, func() {})
	s.src = &source{}
	s.start(time.Now())
	defer s.close()
	openRecord := func() {
		s.d.groups.add(Line{Stream: decode.Stdout, Timestamp: 1, Body: "trace 1"}, time.Now().Add(-2*timeout))
		s.armGroups()
	}

	openRecord()
	require.Equal(t, readOn, s.groupsDue())
	assert.Empty(t, s.d.batch, "closed while the reader still held lines")
	assert.NotNil(t, s.groupDue, "asked again shortly")

	s.src.waiting.Store(true)
	require.Equal(t, readOn, s.groupsDue())
	require.Len(t, s.d.batch, 1, "closed once the reader waits for the daemon")
	assert.Equal(t, "trace 1", s.d.batch[0].Body)
	assert.True(t, s.groupsLate.IsZero())

	s.d.batch = nil
	s.src.waiting.Store(false)
	openRecord()
	s.groupsLate = time.Now().Add(-timeout)
	require.Equal(t, readOn, s.groupsDue())
	assert.Len(t, s.d.batch, 1, "a reader kept busy holds a record one more timeout at most")
}
