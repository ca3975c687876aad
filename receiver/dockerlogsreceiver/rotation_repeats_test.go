package dockerlogsreceiver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestFollowAcrossJSONFileRotationsDeliversEachLineOnce reads a container whose small json-file log rotates about
// ten times a second with one stream kept open, with a pipeline that keeps up: Docker 20.10 sends the follower some
// lines twice around a rotation, and each must still arrive once, with none lost and no gap reported.
func TestFollowAcrossJSONFileRotationsDeliversEachLineOnce(t *testing.T) {
	cli := dockertest.Engine(t)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	cfg.RotationInterval = time.Hour
	labels := isolate(t, cfg)
	sink := newPausingCollector(1 << 30) // never pauses
	seen := &outcomes{}
	startObserved(t, cfg, tt, sink, seen.observe)

	// Three files of 100 KB keep some 3,000 lines: seconds of slack for a reader that keeps up.
	const lines = 20000
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		LogOpts: map[string]string{"max-size": "100k", "max-file": "3"},
		Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both", "-delay", "1s"}})
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	// The last lines always arrive: they are the newest, never rotated away.
	waitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
		byStream := seqsByStream(t, sink.of(id))
		return lastOf(byStream["stdout"]) == lines-2 && lastOf(byStream["stderr"]) == lines-1,
			fmt.Sprintf("the last lines arrive (gaps reported: %d)", seen.gapCount())
	})

	byStream := seqsByStream(t, sink.of(id))
	require.Equal(t, -1, firstDuplicate(byStream["stdout"]), "stdout: no line twice")
	require.Equal(t, -1, firstDuplicate(byStream["stderr"]), "stderr: no line twice")
	missing := lines - len(byStream["stdout"]) - len(byStream["stderr"])
	seen.mu.Lock()
	defer seen.mu.Unlock()
	dups, gaps := 0, 0
	for _, out := range seen.all {
		dups += out.Duplicates
		gaps += len(out.Gaps)
	}
	if missing > 0 {
		// A reader slower than 1,000 lines/s on a loaded machine lets Docker delete lines: never silently.
		require.NotZero(t, gaps, "%d lines missing and no gap reported", missing)
	} else {
		require.Zero(t, gaps, "no gap: nothing was lost")
	}
	t.Logf("%d lines through a json-file log rotated every 100 KB: %d missing (%d gaps reported), none twice; %d lines sent twice by the daemon dropped",
		lines, missing, gaps, dups)
}

// gapCount counts the gaps the observed turns reported.
func (o *outcomes) gapCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, out := range o.all {
		n += len(out.Gaps)
	}
	return n
}
