package dockerlogsreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// gate refuses every batch while it is closed, as a memory_limiter under pressure does.
type gate struct {
	*collector
	open    atomic.Bool
	refused atomic.Int64
}

func (g *gate) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if !g.open.Load() {
		g.refused.Add(1)
		return errors.New("refused until the gate opens")
	}
	return g.collector.ConsumeLogs(ctx, ld)
}

// TestRotationsGoOnWhileTheConsumerRefuses checks that a refused batch being retried does not keep a stream
// open past its rotation, and that the lines refused meanwhile all arrive once the consumer accepts them.
func TestRotationsGoOnWhileTheConsumerRefuses(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	cfg.RotationInterval = 200 * time.Millisecond
	labels := isolate(t, cfg)
	sink := &gate{collector: &collector{}}
	sink.open.Store(true)
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)

	const lines, paused = 2000, 200
	// The container writes past the first lines only once the consumer refuses, however slow either is.
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		Cmd: []string{"-count", fmt.Sprint(lines), "-pause-after", fmt.Sprint(paused), "-rate", "500", "-streams", "both"}})
	// Some lines first, so that the turns refused later reopen at a position, with a bounded tail.
	require.Eventually(t, func() bool { return sink.count(id) > 0 }, 3*time.Minute, 10*time.Millisecond)
	sink.open.Store(false)
	resumeLoggen(t, id)
	require.Eventually(t, func() bool { return sink.refused.Load() > 0 }, 3*time.Minute, 10*time.Millisecond)
	before := turns.rotations()
	const rotations = 5
	waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := turns.rotations() - before
		return n >= rotations, fmt.Sprintf("rotations while refused: %d of %d", n, rotations)
	})
	accepted := sink.count(id)
	assert.LessOrEqual(t, accepted, paused, "the consumer refused the rest so far")

	sink.open.Store(true)
	waitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
		n := sink.count(id)
		return n >= lines, fmt.Sprintf("%d of %d lines", n, lines)
	})
	// Anything duplicated late would show up now.
	time.Sleep(time.Second)
	byStream := seqsByStream(t, sink.of(id))
	assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "stdout (duplicate: %d)", firstDuplicate(byStream["stdout"]))
	assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "stderr (duplicate: %d)", firstDuplicate(byStream["stderr"]))
	t.Logf("accepted before refusing: %d; refused calls: %d; rotations: %d; ends: %v; bounded re-reads that missed: %d",
		accepted, sink.refused.Load(), turns.rotations(), turns.snapshot().ends, turns.snapshot().missed)
}
