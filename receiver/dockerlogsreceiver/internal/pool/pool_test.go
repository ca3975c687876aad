package pool

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a TurnFunc that counts turns and the most that ran at once.
type recorder struct {
	running, peak atomic.Int32
	mu            sync.Mutex
	turns         map[string]int
	reasons       map[Reason]int
}

func newRecorder() *recorder {
	return &recorder{turns: map[string]int{}, reasons: map[Reason]int{}}
}

func (r *recorder) turn(ctx context.Context, id string, yield <-chan Reason) Next {
	n := r.running.Add(1)
	defer r.running.Add(-1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			break
		}
	}
	r.mu.Lock()
	r.turns[id]++
	r.mu.Unlock()
	select {
	case reason := <-yield:
		r.mu.Lock()
		r.reasons[reason]++
		r.mu.Unlock()
		return Next{Again: true}
	case <-ctx.Done():
		return Next{}
	}
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.turns[id]
}

func TestPoolTimeSlicesMoreContainersThanStreams(t *testing.T) {
	rec := newRecorder()
	var yields atomic.Int32
	p := Start(Settings{
		MaxStreams: 3, Rotation: time.Second, TimeSlice: 20 * time.Millisecond, Turn: rec.turn,
		OnYield: func(string, Reason) { yields.Add(1) },
	})
	defer p.Stop()
	for i := range 10 {
		p.Add(fmt.Sprintf("c%d", i))
	}
	require.Eventually(t, func() bool {
		for i := range 10 {
			if rec.count(fmt.Sprintf("c%d", i)) < 2 {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond, "every container gets turns again and again")
	assert.LessOrEqual(t, rec.peak.Load(), int32(3), "never more turns at once than streams")
	st := p.Stats()
	assert.Equal(t, 3, st.Open)
	assert.Equal(t, 7, st.Waiting)
	rec.mu.Lock()
	assert.Positive(t, rec.reasons[ReasonHandover])
	rec.mu.Unlock()
	assert.Positive(t, yields.Load())
}

func TestPoolRotatesATurnThatNobodyWaitsFor(t *testing.T) {
	rec := newRecorder()
	p := Start(Settings{MaxStreams: 2, Rotation: 30 * time.Millisecond, TimeSlice: time.Hour, Turn: rec.turn})
	defer p.Stop()
	p.Add("a")
	require.Eventually(t, func() bool { return rec.count("a") >= 4 }, 10*time.Second, 5*time.Millisecond)
	rec.mu.Lock()
	assert.Zero(t, rec.reasons[ReasonHandover])
	assert.GreaterOrEqual(t, rec.reasons[ReasonPlanned], 3)
	rec.mu.Unlock()
}

func TestPoolStopCancelsAndWaitsForEveryTurn(t *testing.T) {
	rec := newRecorder()
	p := Start(Settings{MaxStreams: 5, Rotation: time.Hour, TimeSlice: time.Hour, Turn: rec.turn})
	for i := range 5 {
		p.Add(fmt.Sprintf("c%d", i))
	}
	require.Eventually(t, func() bool { return rec.running.Load() == 5 }, 10*time.Second, time.Millisecond)
	p.Stop()
	assert.Equal(t, int32(0), rec.running.Load(), "Stop returns only after every turn returned")
	p.Stop()
	p.Add("late")
	p.Remove("late")
	assert.Equal(t, Stats{}, p.Stats())
}

func TestPoolRemovedContainerGetsNoNextTurn(t *testing.T) {
	var turns atomic.Int32
	p := Start(Settings{MaxStreams: 1, Rotation: 10 * time.Millisecond, TimeSlice: time.Hour,
		Turn: func(ctx context.Context, _ string, yield <-chan Reason) Next {
			turns.Add(1)
			select {
			case <-yield:
			case <-ctx.Done():
			}
			return Next{Again: true}
		}})
	defer p.Stop()
	p.Add("a")
	require.Eventually(t, func() bool { return turns.Load() >= 1 }, 10*time.Second, time.Millisecond)
	p.Remove("a")
	require.Eventually(t, func() bool { return p.Stats().Open == 0 }, 10*time.Second, time.Millisecond)
	n := turns.Load()
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, n, turns.Load())
}

func TestPoolOnWaitReportsOnlyContainersThatFoundThePoolFull(t *testing.T) {
	rec := newRecorder()
	var mu sync.Mutex
	var waited []string
	p := Start(Settings{MaxStreams: 2, Rotation: time.Hour, TimeSlice: 20 * time.Millisecond, Turn: rec.turn,
		OnWait: func(id string) { mu.Lock(); waited = append(waited, id); mu.Unlock() }})
	defer p.Stop()
	for _, id := range []string{"a", "b", "c", "d"} {
		p.Add(id)
	}
	// Handovers put every container back in the queue again and again: those waits are not reported.
	require.Eventually(t, func() bool { return rec.count("c") >= 3 && rec.count("d") >= 3 && rec.count("a") >= 3 },
		10*time.Second, 5*time.Millisecond)
	// Adding a container that already holds a slot or waits for one changes nothing.
	p.Add("a")
	p.Add("c")
	p.Stats() // the loop has handled both requests
	mu.Lock()
	assert.Equal(t, []string{"c", "d"}, waited)
	mu.Unlock()
}
