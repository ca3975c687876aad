package dockerlogsreceiver

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// versionEndpoints are /version with and without the API version prefix, as the proxy names them.
var versionEndpoints = []string{"GET /version", "GET /v{api}/version"}

// TestDaemonWhoseVersionCannotBeReadIsAskedAsPodman reads a container through a proxy that refuses /version: the
// daemon may be Podman, so no follow request carries a tail (Podman would skip lines after it), and every line
// arrives once. Once /version answers, the daemon is known to be Docker and its reopens ask for a tail again.
func TestDaemonWhoseVersionCannotBeReadIsAskedAsPodman(t *testing.T) {
	cli := dockertest.Engine(t)
	proxy := startReadOnlyProxy(t, cli)
	for _, e := range versionEndpoints {
		proxy.refuse(e)
	}
	cfg := testConfig()
	cfg.Endpoint = proxy.endpoint
	cfg.StartAt = StartAtBeginning
	cfg.RotationInterval = 300 * time.Millisecond
	labels := isolate(t, cfg)
	sink := &collector{}
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)

	const lines, paused = 2000, 1000
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		Cmd: []string{"-count", fmt.Sprint(lines), "-pause-after", fmt.Sprint(paused), "-rate", "500", "-streams", "both"}})
	rotated := func(more int) func() (bool, string) {
		from := turns.rotations()
		return func() (bool, string) {
			n := turns.rotations() - from
			return n >= more, fmt.Sprintf("%d of %d rotations; %d lines", n, more, sink.count(id))
		}
	}
	waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.count(id)
		return n >= paused, fmt.Sprintf("%d of %d lines", n, paused)
	})
	waitFor(t, 3*time.Minute, 10*time.Millisecond, rotated(3))
	tails := proxy.tailsOfFollows(0)
	require.NotEmpty(t, tails)
	assert.Equal(t, []string{"all"}, slices.Compact(slices.Sorted(slices.Values(tails))), "no tail while the daemon may be Podman")

	for _, e := range versionEndpoints {
		proxy.allow(e)
	}
	// Still paused: the stream keeps being rotated.
	seen := len(proxy.tailsOfFollows(0))
	waitFor(t, 3*time.Minute, 10*time.Millisecond, rotated(3))
	assert.NotEqual(t, []string{"all"}, slices.Compact(slices.Sorted(slices.Values(proxy.tailsOfFollows(seen)))),
		"known to be Docker: reopens ask for a tail")

	resumeLoggen(t, id)
	waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.count(id)
		return n >= lines, fmt.Sprintf("%d of %d lines", n, lines)
	})

	time.Sleep(time.Second) // a duplicate would arrive now
	byStream := seqsByStream(t, sink.of(id))
	assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "every stdout line once")
	assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "every stderr line once")
}
