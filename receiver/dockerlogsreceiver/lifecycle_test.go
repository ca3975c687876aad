package dockerlogsreceiver

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
)

// eventMsg is a container event as the daemon sends it.
func eventMsg(id string, action events.Action, at time.Time, attrs map[string]string) events.Message {
	a := map[string]string{"name": "web-1", "image": "shop/web:1.2"}
	for k, v := range attrs {
		a[k] = v
	}
	return events.Message{Type: events.ContainerEventType, Action: action, TimeNano: at.UnixNano(),
		Actor: events.Actor{ID: id, Attributes: a}}
}

func TestLifecycleActionsFollowTheConfig(t *testing.T) {
	assert.Empty(t, LifecycleEventsConfig{Events: []string{"die"}}.actions(), "disabled")
	assert.Equal(t, lifecycleActions, LifecycleEventsConfig{Enabled: true}.actions())
	assert.Equal(t, []events.Action{events.ActionDie, events.ActionOOM},
		LifecycleEventsConfig{Enabled: true, Events: []string{"die", "oom"}}.actions())
}
