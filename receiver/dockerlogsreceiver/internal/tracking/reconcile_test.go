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
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// TestPruneKeepsEverythingWhenTheListFails: a daemon that does not answer is no proof that a container is gone.
func TestPruneKeepsEverythingWhenTheListFails(t *testing.T) {
	ctx := context.Background()
	st := memstorage.New()
	client, err := docker.NewClient(docker.Settings{Endpoint: "unix://" + t.TempDir() + "/no-daemon.sock", APIVersion: "1.41", Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close()) })
	r, _ := testTracker(t, zaptest.NewLogger(t), client, Config{})
	r.store = checkpoint.NewStore(st.Client())
	require.NoError(t, r.store.Save(ctx, "saved", checkpoint.AtEnd(1)))
	r.containers.add(&trackedContainer{meta: records.Meta{ID: "known"}})
	r.excluded.add("excluded")

	r.prune(ctx)
	again := checkpoint.NewStore(st.Client())
	require.NoError(t, again.LoadIndex(ctx))
	assert.Equal(t, []string{"saved"}, again.IDs(), "the saved position is kept")
	assert.NotNil(t, r.containers.get("known"))
	assert.True(t, r.excluded.has("excluded"))
}
