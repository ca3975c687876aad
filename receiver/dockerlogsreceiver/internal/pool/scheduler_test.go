package pool

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestPlanFillsFreeSlotsInArrivalOrder(t *testing.T) {
	s := newScheduler(2, 10*time.Second, time.Minute)
	for _, id := range []string{"a", "b", "c"} {
		s.add(id, false)
	}
	s.add("a", false) // asking twice changes nothing
	start, stop, next := s.plan(t0)
	assert.Equal(t, []string{"a", "b"}, start)
	assert.Empty(t, stop)
	assert.Equal(t, t0.Add(10*time.Second), next, "c waits: the next handover is due after one slice")
	assert.Equal(t, 2, s.open())
	assert.Equal(t, 1, s.waiting())
}

func TestPlanRotatesEveryTurnAtTheRotationInterval(t *testing.T) {
	s := newScheduler(5, 10*time.Second, time.Minute)
	s.add("a", false)
	s.plan(t0)
	_, stop, next := s.plan(t0.Add(30 * time.Second))
	assert.Empty(t, stop, "nobody waits: no handover before the rotation")
	assert.Equal(t, t0.Add(time.Minute), next)

	_, stop, _ = s.plan(t0.Add(time.Minute))
	assert.Equal(t, []order{{id: "a", reason: ReasonPlanned}}, stop)
	_, stop, _ = s.plan(t0.Add(2 * time.Minute))
	assert.Empty(t, stop, "a turn is asked to end once")

	s.done("a", Next{Again: true}, t0)
	start, _, _ := s.plan(t0.Add(2 * time.Minute))
	assert.Equal(t, []string{"a"}, start, "a rotated turn reopens at once when nobody waits")
}

func TestPlanHandsSlotsOverAfterTheSlice(t *testing.T) {
	s := newScheduler(1, 10*time.Second, time.Minute)
	s.add("a", false)
	s.add("b", false)
	s.plan(t0)
	_, stop, _ := s.plan(t0.Add(9 * time.Second))
	assert.Empty(t, stop)
	_, stop, _ = s.plan(t0.Add(10 * time.Second))
	assert.Equal(t, []order{{id: "a", reason: ReasonHandover}}, stop)

	s.done("a", Next{Again: true}, t0)
	start, _, _ := s.plan(t0.Add(11 * time.Second))
	assert.Equal(t, []string{"b"}, start)
	assert.Equal(t, 1, s.waiting(), "a waits behind b")
}

func TestRemovedContainersGetNoFurtherTurn(t *testing.T) {
	s := newScheduler(1, time.Second, time.Minute)
	s.add("a", false)
	s.add("b", false)
	s.plan(t0)
	assert.False(t, s.remove("b"), "a waiting container has no turn to end")
	assert.Equal(t, 0, s.waiting())
	assert.True(t, s.remove("a"), "the active turn is asked to end")
	assert.False(t, s.remove("a"), "once")
	s.done("a", Next{Again: true}, t0)
	start, _, _ := s.plan(t0.Add(time.Second))
	assert.Empty(t, start)
	assert.Equal(t, 0, s.open())

	s.remove("never-added")
	s.done("never-added", Next{Again: true}, t0)
	assert.Equal(t, 0, s.open())
}

func TestAddWhileActiveUndoesARemove(t *testing.T) {
	s := newScheduler(1, time.Second, time.Minute)
	s.add("a", false)
	s.plan(t0)
	s.remove("a")
	s.add("a", false)
	s.done("a", Next{Again: true}, t0)
	start, _, _ := s.plan(t0)
	assert.Equal(t, []string{"a"}, start)
}

// TestEveryContainerIsReadWithinABoundedDelay simulates many more containers than slots, with turns that
// end as soon as they are asked to, and checks the longest wait for a slot against ceil(C/N) slices
// plus the handover time of each.
func TestEveryContainerIsReadWithinABoundedDelay(t *testing.T) {
	for _, tc := range []struct{ containers, slots int }{{10, 4}, {100, 7}, {200, 50}, {3, 5}} {
		t.Run(fmt.Sprintf("%d_on_%d", tc.containers, tc.slots), func(t *testing.T) {
			const slice, rotation, step = 10 * time.Second, 5 * time.Minute, 100 * time.Millisecond
			s := newScheduler(tc.slots, slice, rotation)
			lastStart := map[string]time.Time{}
			for i := range tc.containers {
				id := fmt.Sprintf("c%03d", i)
				s.add(id, false)
				lastStart[id] = t0
			}
			rounds := (tc.containers + tc.slots - 1) / tc.slots
			// Each round costs a slice plus the time a turn takes to hand over (here up to two steps).
			bound := time.Duration(rounds) * (slice + 2*step)
			var longest time.Duration
			asked := map[string]bool{}
			for now := t0; now.Before(t0.Add(30 * time.Minute)); now = now.Add(step) {
				// Turns asked on the previous step have ended by now.
				for id := range asked {
					s.done(id, Next{Again: true}, now)
				}
				clear(asked)
				start, stop, _ := s.plan(now)
				for _, id := range start {
					if i, ok := lastStart[id]; ok {
						longest = max(longest, now.Sub(i))
					}
					lastStart[id] = now
				}
				for _, o := range stop {
					asked[o.id] = true
				}
				require.LessOrEqual(t, s.open(), tc.slots)
			}
			for id, at := range lastStart {
				require.WithinDuration(t, t0.Add(30*time.Minute), at, bound+rotation, "container %s starved", id)
			}
			t.Logf("longest gap between two turns of one container: %v (bound %v)", longest, bound)
			if tc.containers > tc.slots {
				assert.LessOrEqual(t, longest, bound)
			}
		})
	}
}

func TestAgainOutlivesATurnThatSawTheContainerStopped(t *testing.T) {
	s := newScheduler(1, time.Second, time.Minute)
	s.add("a", false)
	s.plan(t0)
	// The container restarts while its turn is ending: the start event arrives before the turn's end.
	s.add("a", true)
	s.done("a", Next{}, t0)
	start, _, _ := s.plan(t0)
	assert.Equal(t, []string{"a"}, start, "the restarted container is read")

	s.add("a", false)
	s.done("a", Next{}, t0)
	start, _, _ = s.plan(t0)
	assert.Empty(t, start, "a plain add (a reconcile) does not override the turn's word")
}

func TestAFailedTurnBacksOffWithoutHoldingASlot(t *testing.T) {
	s := newScheduler(1, time.Hour, time.Hour)
	s.add("failing", false)
	s.add("healthy", false)
	s.plan(t0)
	s.done("failing", Next{Again: true, After: 5 * time.Second}, t0)
	start, _, next := s.plan(t0)
	assert.Equal(t, []string{"healthy"}, start, "the slot goes to the next container at once")
	assert.Equal(t, t0.Add(5*time.Second), next)
	assert.True(t, s.has("failing"))
	assert.Equal(t, 0, s.waiting(), "backing off is not waiting for a slot")

	s.done("healthy", Next{Again: true}, t0.Add(time.Second))
	start, _, _ = s.plan(t0.Add(time.Second))
	assert.Equal(t, []string{"healthy"}, start, "failing is still backing off")
	s.plan(t0.Add(5 * time.Second))
	assert.Equal(t, 1, s.waiting(), "after its back-off it waits for a slot again")
	s.done("healthy", Next{Again: true}, t0.Add(6*time.Second))
	start, _, _ = s.plan(t0.Add(6 * time.Second))
	assert.Equal(t, []string{"failing"}, start)

	s.done("failing", Next{Again: true, After: time.Minute}, t0.Add(7*time.Second))
	s.add("failing", false)
	assert.Equal(t, 2, s.waiting(), "asked for from outside, a container stops backing off")

	s.plan(t0.Add(7 * time.Second))
	s.done("healthy", Next{Again: true, After: time.Minute}, t0.Add(8*time.Second))
	s.remove("healthy")
	assert.False(t, s.has("healthy"), "a removed container stops backing off too")
}
