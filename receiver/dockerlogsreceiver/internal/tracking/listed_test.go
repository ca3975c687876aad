package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// TestListedContainerRemovedBeforeItsInspectIsCounted: a container the list of running containers named and that
// was removed before it could be inspected is counted as removed unread, once, against the real engine.
func TestListedContainerRemovedBeforeItsInspectIsCounted(t *testing.T) {
	cli := dockertest.Engine(t)
	client := engineClient(t)
	ctx := context.Background()
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "10", "-linger", "1h"}})
	list, err := client.ListRunning(ctx, nil)
	require.NoError(t, err)
	var listed *container.Summary
	for i := range list {
		if list[i].ID == id {
			listed = &list[i]
		}
	}
	require.NotNil(t, listed, "the container is in the list")
	require.NoError(t, cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}))

	tr, tel := testTracker(t, zap.NewNop(), client, Config{StartAtBeginning: true})
	tr.filter, err = selection.NewFilter(selection.Rules{}, selection.Rules{})
	require.NoError(t, err)
	assert.False(t, tr.admit.trackListed(ctx, *listed))
	gaps := tel.gapsSeen()
	require.Len(t, gaps, 1)
	assert.Equal(t, turn.GapRemovedUnread, gaps[0].Cause)
	assert.LessOrEqual(t, gaps[0].From, time.Now().UnixNano())
	assert.GreaterOrEqual(t, gaps[0].To, time.Unix(listed.Created, 0).UnixNano(), "the span reaches from its creation")

	assert.False(t, tr.admit.trackListed(ctx, *listed))
	assert.Len(t, tel.gapsSeen(), 1, "counted once")
}
