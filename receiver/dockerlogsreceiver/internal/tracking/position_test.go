package tracking

import (
	"context"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/memstorage"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// TestAStartEventDoesNotSaveAPositionBehindATurns saves, after a turn advanced, the copy of the cursor a start
// event took before: the turn's newer position stays, in memory and in the storage.
func TestAStartEventDoesNotSaveAPositionBehindATurns(t *testing.T) {
	ctx := context.Background()
	st := memstorage.New()
	r, _ := testTracker(t, zaptest.NewLogger(t), nil, Config{})
	r.store = checkpoint.NewStore(st.Client())
	c := &trackedContainer{meta: records.Meta{ID: "c1"}}
	var older checkpoint.Cursor
	older.Advance(1, 100, 0)
	r.savePosition(ctx, c, older)

	stale, again := c.started(time.Now().UnixNano()) // the start event's copy
	require.True(t, again)
	newer := stale
	newer.Advance(1, 200, 0) // a turn delivers meanwhile
	r.savePosition(ctx, c, newer)
	r.savePosition(ctx, c, stale) // the start event saves its copy

	assert.Equal(t, newer, c.position())
	saved, ok, err := checkpoint.NewStore(st.Client()).Load(ctx, "c1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, newer.Stdout, saved.Stdout)
}
