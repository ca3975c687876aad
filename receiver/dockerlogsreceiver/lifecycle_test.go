package dockerlogsreceiver

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
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

// TestLifecycleRecordOfAnUntrackedContainerMapsLabelsAsItsLines maps the labels an event carries with the mapping
// of the container's lines: patterns and the empty name for the label's own key included.
func TestLifecycleRecordOfAnUntrackedContainerMapsLabelsAsItsLines(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ContainerLabelsToAttributes = map[string]string{"com.example.*": "", "org.opencontainers.image.*": "image.*", "maintainer": ""}
	r := &logsReceiver{cfg: cfg, containers: newContainers(), excluded: newExcludedSet()}
	var err error
	r.labelMapping, err = records.CompileLabelMapping(cfg.ContainerLabelsToAttributes)
	require.NoError(t, err)
	r.filter, err = selection.NewFilter(cfg.Include, cfg.Exclude)
	require.NoError(t, err)
	labels := map[string]string{"com.example.team": "payments", "org.opencontainers.image.title": "shop",
		"maintainer": "ops@example.com", "other": "x"}

	meta, ok := r.eventMeta(eventMsg("c1", events.ActionStart, time.Now(), labels))
	require.True(t, ok)
	lines := r.metaOf(container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: "c1", Name: "/web-1"},
		Config: &container.Config{Image: "shop/web:1.2", Labels: labels}})
	assert.Equal(t, map[string]string{"com.example.team": "payments", "image.title": "shop", "maintainer": "ops@example.com"}, meta.Extra)
	assert.Equal(t, lines.Extra, meta.Extra)
	assert.Equal(t, records.NewResource(cfg.ResourceAttributes, records.Daemon{}, lines).Attributes().AsRaw(),
		records.NewResource(cfg.ResourceAttributes, records.Daemon{}, meta).Attributes().AsRaw())
}

func TestLifecycleActionsFollowTheConfig(t *testing.T) {
	assert.Empty(t, LifecycleEventsConfig{Events: []string{"die"}}.actions(), "disabled")
	assert.Equal(t, lifecycleActions, LifecycleEventsConfig{Enabled: true}.actions())
	assert.Equal(t, []events.Action{events.ActionDie, events.ActionOOM},
		LifecycleEventsConfig{Enabled: true, Events: []string{"die", "oom"}}.actions())
}
