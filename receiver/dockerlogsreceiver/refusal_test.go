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
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
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

// handoverGate refuses the records of one container while another waits for a stream slot.
type handoverGate struct {
	*collector
	hog     string
	waiting func() bool
	refused atomic.Int64
}

func (g *handoverGate) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	id, _ := ld.ResourceLogs().At(0).Resource().Attributes().AsRaw()[attrContainerID].(string)
	if id == g.hog && g.waiting() {
		g.refused.Add(1)
		return errors.New("refused while another container waits")
	}
	return g.collector.ConsumeLogs(ctx, ld)
}

// TestHandoverHappensWhileTheConsumerRefuses reads two containers through one stream slot, with a consumer that
// refuses the first container's records as soon as the second waits: the first turn hands the slot over all the
// same, and each container's lines arrive once.
func TestHandoverHappensWhileTheConsumerRefuses(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	cfg.StartAt = StartAtBeginning // the hog starts before the receiver
	cfg.MaxConcurrentStreams = 1
	cfg.TimeSlice = 200 * time.Millisecond
	cfg.RotationInterval = time.Hour
	labels := isolate(t, cfg)
	sink := &handoverGate{collector: &collector{}}
	turns := newTurnLog()
	rcv, err := NewFactory().CreateLogs(context.Background(), receiverSettings(t), cfg, sink)
	require.NoError(t, err)
	r := rcv.(*logsReceiver)
	r.onTurnEnd = turns.observe
	sink.waiting = func() bool { return r.pool.Stats().Waiting > 0 }
	sink.hog = dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-rate", "200", "-streams", "both"}})
	require.NoError(t, r.Start(context.Background(), nopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return sink.count(sink.hog) > 0 }, 3*time.Minute, 10*time.Millisecond)

	const lines = 100
	waiter := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", fmt.Sprint(lines)}})
	waitFor(t, 2*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.count(waiter)
		return n >= lines, fmt.Sprintf("waiting container: %d of %d lines; hog refused %d times; turns: %s", n, lines, sink.refused.Load(), turns)
	})
	assert.Positive(t, turns.yieldsOf(pool.ReasonHandover))

	stopContainer(t, sink.hog)
	stdout, stderr := dockertest.Logs(t, cli, sink.hog)
	written := len(splitLines(stdout)) + len(splitLines(stderr))
	waitFor(t, 2*time.Minute, 10*time.Millisecond, func() (bool, string) {
		n := sink.count(sink.hog)
		return n >= written, fmt.Sprintf("hog: %d of %d lines", n, written)
	})
	time.Sleep(time.Second) // a duplicate would arrive now
	byStream := seqsByStream(t, sink.of(sink.hog))
	assert.Equal(t, wantSeqs(0, written, 2), byStream["stdout"], "hog stdout once")
	assert.Equal(t, wantSeqs(1, written, 2), byStream["stderr"], "hog stderr once")
	t.Logf("hog refused %d times; turns: %s", sink.refused.Load(), turns)
}
