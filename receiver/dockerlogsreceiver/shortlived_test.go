package dockerlogsreceiver

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// dockerLogsSince is the first request of a new container's turn.
func dockerLogsSince(since int64) docker.LogsRequest {
	return docker.LogsRequest{Since: since, Follow: true}
}

// The short-lived workload: containers run with --rm, each writing shortLivedLines to stdout and as many to stderr
// and exiting at once, started shortLivedWave at a time.
const (
	shortLivedContainers = 20
	shortLivedWave       = 10
	shortLivedLines      = 200
)

// TestShortLivedContainersReadWholeOrCounted runs --rm containers that write and exit at once, with the shipped
// start_at: end: each is either delivered whole or counted once as a removed_unread gap with one warning naming
// it, never lost silently. The fraction delivered depends on the machine and is logged, not asserted.
//
// It runs with make shortlived (DOCKERLOGS_SHORTLIVED=1), not make test: on Docker 20.10 it can still fail by chance
// (the daemon's follower can end a stream at the container's stop before its last lines, and a container removed
// at once cannot be checked; see the receiver's README), and a test that fails by chance would block every
// submission. TestShortLivedContainerIsReadFromItsFirstLine and TestStartEventThatCouldNotBeInspectedIsKept keep
// the single-container cases in make test.
func TestShortLivedContainersReadWholeOrCounted(t *testing.T) {
	if os.Getenv("DOCKERLOGS_SHORTLIVED") == "" {
		t.Skip("race against the daemon's removal, run by make shortlived (DOCKERLOGS_SHORTLIVED=1)")
	}
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	sink := &collector{}
	w := startRemovalWatch(t, cfg, nopHost(), sink)
	image := dockertest.LoggenImage(t, cli)

	ids := make([]string, shortLivedContainers)
	for i := range ids {
		ids[i] = createShortLived(t, cli, image, labels, 2*shortLivedLines, true)
	}
	for wave := 0; wave < len(ids); wave += shortLivedWave {
		var wg sync.WaitGroup
		for _, id := range ids[wave:min(wave+shortLivedWave, len(ids))] {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				assert.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
			})
		}
		wg.Wait()
	}

	want := 2 * shortLivedLines
	// failedRemoval are the containers the daemon failed to remove, removed by the test.
	failedRemoval := map[string]bool{}
	// Settled: every container is whole or counted, the daemon removed it, the receiver forgot it and no turn reads.
	waitFor(t, 3*time.Minute, 50*time.Millisecond, func() (bool, string) {
		var pending []string
		for _, id := range ids {
			n, warned, known := sink.count(id), len(w.removedUnreadWarnings(id)), w.r.tracker.View().Tracks(id)
			unsettled := n < want && warned == 0 && !failedRemoval[id] || known
			if unsettled && removeDead(t, cli, id) {
				failedRemoval[id] = true
			}
			if unsettled {
				pending = append(pending, fmt.Sprintf("%.12s (%d lines, %d warnings, known %v)", id, n, warned, known))
			}
		}
		open := w.r.pool.Stats().Open
		return len(pending) == 0 && open == 0, fmt.Sprintf("%d of %d containers neither whole nor counted, or not yet forgotten: %v; %d streams open",
			len(pending), len(ids), pending, open)
	})

	delivered, whole, counted, lostUncounted := 0, 0, 0, 0
	for _, id := range ids {
		n := sink.count(id)
		delivered += n
		warnings := len(w.removedUnreadWarnings(id))
		require.LessOrEqual(t, warnings, 1, "container %.12s: one warning at most", id)
		seqs := seqsByStream(t, sink.of(id))
		for _, stream := range []string{"stdout", "stderr"} {
			require.Equal(t, -1, firstDuplicate(seqs[stream]), "container %.12s %s: a line delivered twice", id, stream)
		}
		switch {
		case n == want:
			whole++
			require.Zero(t, warnings, "container %.12s was read whole and reported lost", id)
			require.Equal(t, wantSeqs(0, want, 2), seqs["stdout"], "container %.12s stdout", id)
			require.Equal(t, wantSeqs(1, want, 2), seqs["stderr"], "container %.12s stderr", id)
		case warnings == 0 && failedRemoval[id]:
			// Not counted yet, and lost when it is not whole: a log request served during the removal read the
			// log file that Docker 20.10 created again, empty, and made the removal fail (see the receiver's README).
			lostUncounted += want - n
			t.Logf("container %.12s: %d of %d lines, not counted; the daemon failed to remove it", id, n, want)
		default:
			counted++
			require.Equal(t, 1, warnings, "container %.12s: %d of %d lines and no removed_unread warning", id, n, want)
		}
	}
	require.Equal(t, float64(counted), w.removedUnreadGaps(t), "removed_unread gaps counted")
	t.Logf("short-lived: %d of %d lines delivered (%.1f%%); %d containers whole, %d counted as removed_unread (%d the daemon failed to remove, %d lines of them lost without a count)",
		delivered, want*len(ids), 100*float64(delivered)/float64(want*len(ids)), whole, counted, len(failedRemoval), lostUncounted)
}

// createShortLived creates (does not start) a container that writes lines lines, alternately to stdout and stderr,
// and exits at once; autoRemove makes the daemon remove it then (docker run --rm). It is removed when the test ends.
func createShortLived(t *testing.T, cli *client.Client, image string, labels map[string]string, lines int, autoRemove bool) string {
	t.Helper()
	all := map[string]string{dockertest.TestLabel: "1"}
	for k, v := range labels {
		all[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := cli.ContainerCreate(ctx,
		&container.Config{Image: image, Labels: all, Cmd: []string{"-count", fmt.Sprint(lines), "-streams", "both"}},
		&container.HostConfig{NetworkMode: "none", AutoRemove: autoRemove}, nil, nil,
		fmt.Sprintf("%sshortlived-%d", dockertest.NamePrefix, time.Now().UnixNano()))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = cli.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true})
	})
	return resp.ID
}

// inspectEndpoint is the request that inspects a container, as the proxy names it.
const inspectEndpoint = "GET /v{api}/containers/{id}/json"

// TestStartEventThatCouldNotBeInspectedIsKept makes the inspect of a container that writes and exits at once fail
// (the proxy refuses it, as an overloaded daemon's inspect times out). Removed at once (--rm), the container is
// read from the stream opened at its start event when its destroy event comes, or counted as removed_unread;
// left stopped, it is read whole once inspect answers again, though it is in no list of running containers.
func TestStartEventThatCouldNotBeInspectedIsKept(t *testing.T) {
	for _, removed := range []bool{true, false} {
		t.Run(fmt.Sprintf("removed=%v", removed), func(t *testing.T) {
			cli := dockertest.Engine(t)
			proxy := startReadOnlyProxy(t, cli)
			proxy.refuse(inspectEndpoint)
			cfg := testConfig()
			cfg.Endpoint = proxy.endpoint
			cfg.ReconcileInterval = 200 * time.Millisecond
			labels := isolate(t, cfg)
			sink := &collector{}
			w := startRemovalWatch(t, cfg, nopHost(), sink)
			const want = 100
			id := createShortLived(t, cli, dockertest.LoggenImage(t, cli), labels, want, removed)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
			waitFor(t, time.Minute, 10*time.Millisecond, func() (bool, string) {
				return slices.ContainsFunc(proxy.refusals(), func(r string) bool { return strings.Contains(r, id) }),
					"the receiver tried to inspect the container"
			})
			if !removed {
				dockertest.WaitExit(t, cli, id, time.Minute)
				proxy.allow(inspectEndpoint)
			}
			waitFor(t, time.Minute, 10*time.Millisecond, func() (bool, string) {
				n, warned := sink.count(id), len(w.removedUnreadWarnings(id))
				return n == want || warned > 0, fmt.Sprintf("%d of %d lines, %d removed_unread warnings", n, want, warned)
			})
			n, warned := sink.count(id), len(w.removedUnreadWarnings(id))
			if !removed || warned == 0 {
				require.Equal(t, want, n, "lines delivered")
				require.Zero(t, warned, "read whole, and reported lost")
				seqs := seqsByStream(t, sink.of(id))
				require.Equal(t, wantSeqs(0, want, 2), seqs["stdout"])
				require.Equal(t, wantSeqs(1, want, 2), seqs["stderr"])
				return
			}
			t.Logf("%d of %d lines delivered before the container was removed; counted as removed_unread", n, want)
			require.Equal(t, 1, warned, "one warning")
			require.Equal(t, float64(1), w.removedUnreadGaps(t), "one removed_unread gap")
		})
	}
}

// removeDead removes the container if the daemon failed to remove it and left it dead, as a user would; it reports
// whether it did. A log request that reaches the daemon while it removes the container can make the removal fail
// ("directory not empty": json-file creates the log file again), and a dead container's log cannot be read.
func removeDead(t *testing.T, cli *client.Client, id string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil || info.State == nil || !info.State.Dead {
		return false
	}
	if err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
		// Dead is also the state of a container whose removal is under way.
		require.True(t, cerrdefs.IsConflict(err) || cerrdefs.IsNotFound(err), "remove dead container %.12s: %v", id, err)
		return false
	}
	t.Logf("the daemon failed to remove container %.12s; removed it", id)
	return true
}
