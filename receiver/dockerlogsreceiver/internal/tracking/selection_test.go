package tracking

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
)

// TestLifecycleRecordOfAnUntrackedContainerMapsLabelsAsItsLines maps the labels an event carries with the mapping
// of the container's lines: patterns and the empty name for the label's own key included.
func TestLifecycleRecordOfAnUntrackedContainerMapsLabelsAsItsLines(t *testing.T) {
	r, _ := testTracker(t, zaptest.NewLogger(t), nil, Config{})
	var err error
	r.labelMapping, err = records.CompileLabelMapping(map[string]string{"com.example.*": "", "org.opencontainers.image.*": "image.*", "maintainer": ""})
	require.NoError(t, err)
	r.filter, err = selection.NewFilter(selection.Rules{}, selection.Rules{})
	require.NoError(t, err)
	rac := metadata.DefaultResourceAttributesConfig()
	labels := map[string]string{"com.example.team": "payments", "org.opencontainers.image.title": "shop",
		"maintainer": "ops@example.com", "other": "x"}

	meta, ok := r.eventMeta(events.Message{Action: events.ActionStart, TimeNano: time.Now().UnixNano(), Actor: events.Actor{ID: "c1", Attributes: eventAttributes(labels)}})
	require.True(t, ok)
	lines := r.metaOf(container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: "c1", Name: "/web-1"},
		Config: &container.Config{Image: "shop/web:1.2", Labels: labels}})
	assert.Equal(t, map[string]string{"com.example.team": "payments", "image.title": "shop", "maintainer": "ops@example.com"}, meta.Extra)
	assert.Equal(t, lines.Extra, meta.Extra)
	assert.Equal(t, records.NewResource(rac, records.Daemon{}, lines).Attributes().AsRaw(),
		records.NewResource(rac, records.Daemon{}, meta).Attributes().AsRaw())
}

func TestEnabledLabel(t *testing.T) {
	for _, tc := range []struct {
		value        string
		present      bool
		enabled, set bool
		bad          string
	}{
		{present: false},
		{value: "false", present: true, set: true},
		{value: "0", present: true, set: true},
		{value: "True", present: true, enabled: true, set: true},
		{value: "1", present: true, enabled: true, set: true},
		{value: "nope", present: true, bad: "nope"},
	} {
		labels := map[string]string{}
		if tc.present {
			labels[enabledLabel] = tc.value
		}
		enabled, set, bad := labelOptIn(labels)
		assert.Equal(t, []any{tc.enabled, tc.set, tc.bad}, []any{enabled, set, bad}, "value %q", tc.value)
	}
}

// eventAttributes are the attributes of a container event: its name, image and labels.
func eventAttributes(labels map[string]string) map[string]string {
	a := map[string]string{"name": "web-1", "image": "shop/web:1.2"}
	for k, v := range labels {
		a[k] = v
	}
	return a
}
