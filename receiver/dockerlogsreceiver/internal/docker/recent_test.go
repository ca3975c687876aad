package docker

import (
	"fmt"
	"testing"

	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
)

// TestRecentEventsDropReplaysInBoundedMemory sees each event once, a replay of it not again, and forgets the oldest.
func TestRecentEventsDropReplaysInBoundedMemory(t *testing.T) {
	msg := func(id string, action events.Action, at int64) events.Message {
		return events.Message{Action: action, Actor: events.Actor{ID: id}, TimeNano: at}
	}
	var r RecentEvents
	assert.True(t, r.Add(msg("a", events.ActionStart, 10)))
	assert.True(t, r.Add(msg("a", events.ActionDie, 10)), "another action")
	assert.True(t, r.Add(msg("b", events.ActionStart, 10)), "another container")
	assert.True(t, r.Add(msg("a", events.ActionStart, 11)), "another time")
	assert.False(t, r.Add(msg("a", events.ActionStart, 10)), "replayed")
	for i := range 2000 {
		r.Add(msg(fmt.Sprint(i), events.ActionStart, int64(100+i)))
	}
	assert.Len(t, r.seen, len(r.ring))
	assert.True(t, r.Add(msg("a", events.ActionStart, 10)), "forgotten, so new again")
}
