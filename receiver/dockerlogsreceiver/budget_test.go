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
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// fillGate holds every batch until the receiver's byte budget has been nearly full once, then takes each slowly.
type fillGate struct {
	*collector
	budget    atomic.Pointer[turn.Budget]
	threshold int64
	filled    atomic.Bool
}

func (g *fillGate) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	for !g.filled.Load() {
		if b := g.budget.Load(); b != nil && b.InUse() >= g.threshold {
			g.filled.Store(true)
			break
		}
		select {
		case <-ctx.Done():
			// A rotation cancelled the delivery: the lines are read again at the next turn.
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	time.Sleep(2 * time.Millisecond)
	return g.collector.ConsumeLogs(ctx, ld)
}

// TestSmallByteBudgetDeliversEverythingOnce reads several containers through a budget of a few dozen lines, with
// a consumer that holds everything until the budget is full and is slow afterwards.
func TestSmallByteBudgetDeliversEverythingOnce(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)
	cfg := testConfig()
	cfg.MaxLogSize = 1024
	cfg.MaxBufferedBytes = 8 << 10
	cfg.RotationInterval = time.Second
	labels := isolate(t, cfg)
	// Full: no room left for a line of max_log_size.
	sink := &fillGate{collector: &collector{}, threshold: int64(cfg.MaxBufferedBytes - cfg.MaxLogSize - 64)}
	turns := newTurnLog()
	r := startReceiver(t, cfg, sink, turns)
	sink.budget.Store(r.budget)

	const containers, lines = 4, 2000
	ids := make([]string, containers)
	for i := range ids {
		ids[i] = dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
			Cmd: []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both"}})
	}
	waitFor(t, time.Minute, 10*time.Millisecond, func() (bool, string) {
		return sink.filled.Load(), fmt.Sprintf("the budget never filled: %d bytes in use", r.budget.InUse())
	})
	for _, id := range ids {
		waitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= lines, fmt.Sprintf("container %s: %d of %d lines", id[:12], n, lines)
		})
	}
	// Anything duplicated late would show up now.
	time.Sleep(time.Second)
	for _, id := range ids {
		byStream := seqsByStream(t, sink.of(id))
		require.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "container %s stdout (duplicate: %d)", id[:12], firstDuplicate(byStream["stdout"]))
		require.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "container %s stderr (duplicate: %d)", id[:12], firstDuplicate(byStream["stderr"]))
	}
	budget := r.budget
	require.NoError(t, r.Shutdown(context.Background()))
	t.Logf("budget %d bytes, peak %d; rotations %d; ends %v", cfg.MaxBufferedBytes, budget.Peak(), turns.rotations(), turns.snapshot().ends)
	assert.LessOrEqual(t, budget.Peak(), int64(cfg.MaxBufferedBytes))
	assert.Zero(t, budget.InUse(), "every charge was released")
}

// dropAll refuses every batch permanently, as an exporter does with data it can never send.
type dropAll struct {
	records atomic.Int64
}

func (d *dropAll) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (d *dropAll) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	d.records.Add(int64(ld.LogRecordCount()))
	return consumererror.NewPermanent(errors.New("never accepted"))
}

// TestPermanentRefusalReleasesTheBudget checks that lines dropped after a permanent refusal give their bytes back.
func TestPermanentRefusalReleasesTheBudget(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	cfg.MaxLogSize = 1024
	cfg.MaxBufferedBytes = 4 << 10
	labels := isolate(t, cfg)
	sink := &dropAll{}
	r := startReceiver(t, cfg, sink, nil)

	const lines = 500
	dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		Cmd: []string{"-count", fmt.Sprint(lines), "-streams", "both"}})
	waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.records.Load()
		return n >= lines, fmt.Sprintf("%d of %d lines offered", n, lines)
	})
	budget := r.budget
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Equal(t, int64(lines), sink.records.Load(), "each line offered once, then dropped")
	assert.Zero(t, budget.InUse(), "every charge was released")
}
