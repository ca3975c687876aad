package dockerlogsreceiver

import (
	"context"
	"fmt"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// readOnlyEndpoints are the requests the README says a read-only socket proxy must let through.
var readOnlyEndpoints = []string{
	"GET /_ping", "HEAD /_ping",
	"GET /v{api}/containers/json", "GET /v{api}/containers/{id}/json", "GET /v{api}/containers/{id}/logs",
	"GET /v{api}/events", "GET /v{api}/info", "GET /v{api}/version",
}

// TestReadOnlyAccessSuffices reads containers through a proxy that refuses every request but GET (and HEAD
// /_ping): a container running before the receiver, across rotations, and one found through its start event.
func TestReadOnlyAccessSuffices(t *testing.T) {
	cli := dockertest.Engine(t)
	proxy := startReadOnlyProxy(t, cli)
	cfg := testConfig()
	cfg.Endpoint = proxy.endpoint
	cfg.StartAt = StartAtBeginning
	cfg.RotationInterval = 500 * time.Millisecond
	// Only the first list and the events can find containers: the later one proves the events stream works.
	cfg.ReconcileInterval = time.Hour
	labels := isolate(t, cfg)

	const lines = 1500
	// Running until removed: the first list finds the early container however late the receiver starts.
	spec := dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", fmt.Sprint(lines), "-rate", "500", "-streams", "both", "-linger", "1h"}}
	early := dockertest.StartContainer(t, cli, spec)
	sink := &collector{}
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)
	require.Eventually(t, func() bool { return sink.count(early) > 0 }, 3*time.Minute, 10*time.Millisecond, "the running container was listed")
	later := dockertest.StartContainer(t, cli, spec)

	for _, id := range []string{early, later} {
		waitFor(t, 2*time.Minute, 10*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= lines, fmt.Sprintf("container %.12s: %d of %d lines", id, n, lines)
		})
	}
	time.Sleep(time.Second) // a duplicate would arrive now
	for _, id := range []string{early, later} {
		byStream := seqsByStream(t, sink.of(id))
		assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "container %.12s stdout once", id)
		assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "container %.12s stderr once", id)
	}
	assert.GreaterOrEqual(t, turns.rotations(), 3, "streams were rotated")
	assert.Empty(t, proxy.refusals(), "the receiver asked for nothing but reads")
	endpoints := proxy.endpoints()
	t.Logf("forwarded: %v; rotations: %d", endpoints, turns.rotations())
	for _, e := range endpoints {
		assert.Contains(t, readOnlyEndpoints, e, "every request is one the README lists")
	}
	assert.Contains(t, endpoints, "GET /v{api}/events")
	assert.Contains(t, endpoints, "GET /v{api}/containers/{id}/logs")
}

// TestReadOnlyProxyRefusesWrites checks the proxy itself: a write is answered 403 and recorded.
func TestReadOnlyProxyRefusesWrites(t *testing.T) {
	cli := dockertest.Engine(t)
	proxy := startReadOnlyProxy(t, cli)
	id := dockertest.CreateContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "1"}})
	through, err := client.NewClientWithOpts(client.WithHost(proxy.endpoint), client.WithAPIVersionNegotiation())
	require.NoError(t, err)
	defer through.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = through.ContainerInspect(ctx, id)
	require.NoError(t, err, "a read goes through")
	err = through.ContainerStart(ctx, id, container.StartOptions{})
	require.Error(t, err)
	assert.True(t, cerrdefs.IsPermissionDenied(err), "403: %v", err)
	assert.Equal(t, []string{"POST /v" + through.ClientVersion() + "/containers/" + id + "/start"}, proxy.refusals())
}
