package dockerlogsreceiver

import (
	"context"
	"fmt"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/memstorage"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
)

// TestPositionsOfRemovedContainersAreRemoved reads three containers, stops the receiver, removes one while no
// receiver runs and excludes another by name, and starts a new receiver over the same storage: the removed
// container's position goes, the others stay, and the one still read resumes exactly once. Then a container the
// receiver knows is removed without its destroy event being seen: the next reconcile forgets it too.
func TestPositionsOfRemovedContainersAreRemoved(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	cfg.StartAt = StartAtBeginning
	labels := isolate(t, cfg)
	sink := &collector{}
	st := memstorage.New()
	start := restartableOver(t, cfg, sink, st, nil)
	spec := dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-rate", "200", "-streams", "both"}}
	removed := dockertest.StartContainer(t, cli, spec)
	kept := dockertest.StartContainer(t, cli, spec)
	spec.Name = fmt.Sprintf("%sexcluded-later-%d", dockertest.NamePrefix, time.Now().UnixNano())
	excludedLater := dockertest.StartContainer(t, cli, spec)

	first := start()
	require.Eventually(t, func() bool {
		return sink.count(removed) > 100 && sink.count(kept) > 100 && sink.count(excludedLater) > 100
	}, 3*time.Minute, 10*time.Millisecond)
	require.NoError(t, first.Shutdown(context.Background()))
	saved := savedPositions(t, st)
	require.Subset(t, saved, []string{removed, kept, excludedLater})
	before := sink.count(kept)

	removeNow(t, removed)
	cfg.Exclude = selection.Rules{Names: []string{spec.Name}}
	second := start()
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return !hasPosition(t, st, removed) }, 3*time.Minute, 20*time.Millisecond,
		"the position of the container removed while no receiver ran is removed")
	assert.NotContains(t, savedPositions(t, st), removed, "and out of the index")
	assert.True(t, hasPosition(t, st, kept))
	assert.True(t, hasPosition(t, st, excludedLater), "a container that exists keeps its position, excluded or not")
	assert.Equal(t, 2, second.store.Len(), "docker_logs_positions_saved")

	// The container still read resumes where the first receiver stopped.
	require.Eventually(t, func() bool { return sink.count(kept) > before+200 }, 3*time.Minute, 10*time.Millisecond)
	stopContainer(t, kept)
	stdout, stderr := dockertest.Logs(t, cli, kept)
	written := len(splitLines(stdout)) + len(splitLines(stderr))
	waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.count(kept)
		return n >= written, fmt.Sprintf("%d of %d lines", n, written)
	})
	time.Sleep(time.Second) // anything sent twice would arrive by now
	byStream := seqsByStream(t, sink.of(kept))
	assert.Equal(t, wantSeqs(0, written, 2), byStream["stdout"], "every stdout line once across the restart")
	assert.Equal(t, wantSeqs(1, written, 2), byStream["stderr"], "every stderr line once across the restart")

	// A destroy event missed: a container the receiver reads, and one it excluded, removed while it did not
	// hear of it. Their state is put in place by hand, as the events would have, for containers that are gone.
	gone, goneExcluded := removedContainer(t, labels), removedContainer(t, labels)
	ctx := context.Background()
	require.NoError(t, second.store.Save(ctx, gone, checkpoint.AtEnd(1)))
	second.tracker.View().Seed(gone, goneExcluded)
	require.Eventually(t, func() bool {
		return !hasPosition(t, st, gone) && !second.tracker.View().Tracks(gone) && !second.tracker.View().Excluded(goneExcluded)
	}, 3*time.Minute, 20*time.Millisecond, "the next reconcile forgets the containers that are gone")
	assert.ElementsMatch(t, []string{kept}, second.tracker.View().IDs(), "the stopped container is still known; nothing else")
	// Other containers on the engine may be excluded too: only this test's are looked at.
	assert.Contains(t, second.tracker.View().ExcludedIDs(), excludedLater)
	assert.NotContains(t, second.tracker.View().ExcludedIDs(), goneExcluded)
	assert.ElementsMatch(t, []string{kept, excludedLater}, savedPositions(t, st))
	t.Logf("positions saved before the restart: %d of this test's containers; after: %v; kept container: %d lines, %d written",
		len(saved), savedPositions(t, st), sink.count(kept), written)
}

// savedPositions returns the containers the storage's index names.
func savedPositions(t *testing.T, st *memstorage.Storage) []string {
	t.Helper()
	s := checkpoint.NewStore(st.Copy().Client())
	require.NoError(t, s.LoadIndex(context.Background()))
	return s.IDs()
}

// hasPosition reports whether the storage holds a position for the container.
func hasPosition(t *testing.T, st *memstorage.Storage, id string) bool {
	t.Helper()
	// On a copy: Load indexes the position it finds, which could put back an index entry the receiver has just
	// removed with the position.
	_, ok, err := checkpoint.NewStore(st.Copy().Client()).Load(context.Background(), id)
	require.NoError(t, err)
	return ok
}

// removeNow removes a container at once, running or not.
func removeNow(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, dockertest.Engine(t).ContainerRemove(ctx, id, container.RemoveOptions{Force: true}))
}

// removedContainer returns the ID of a container that existed and was removed.
func removedContainer(t *testing.T, labels map[string]string) string {
	t.Helper()
	id := dockertest.CreateContainer(t, dockertest.Engine(t), dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "1"}})
	removeNow(t, id)
	return id
}
