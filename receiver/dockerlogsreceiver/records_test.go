package dockerlogsreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/logstream"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/streamreader"
)

func TestParseImageRef(t *testing.T) {
	for _, tc := range []struct{ ref, name, tag string }{
		{"nginx", "nginx", "latest"},
		{"nginx:1.27", "nginx", "1.27"},
		{"library/nginx:1.27-alpine", "library/nginx", "1.27-alpine"},
		{"registry:5000/org/app", "registry:5000/org/app", "latest"},
		{"registry:5000/org/app:1.2", "registry:5000/org/app", "1.2"},
		{"registry:5000/org/app:1.2@sha256:0123abcd", "registry:5000/org/app", "1.2"},
		{"registry:5000/org/app@sha256:0123abcd", "registry:5000/org/app", ""},
		{"ghcr.io/org/sub/app:v2", "ghcr.io/org/sub/app", "v2"},
		{"localhost:5000/app", "localhost:5000/app", "latest"},
		{"sha256:0123abcd", "sha256:0123abcd", ""},
	} {
		name, tag := parseImageRef(tc.ref)
		assert.Equal(t, tc.name, name, tc.ref)
		assert.Equal(t, tc.tag, tag, tc.ref)
	}
}

func TestBuildLogs(t *testing.T) {
	meta := containerMeta{
		ID: "abc", Name: "shop-web-1", Image: "shop/web:1.2",
		Labels: map[string]string{composeServiceKey: "web", composeProjectKey: "shop", "team": "payments"},
		Extra:  map[string]string{"team": "payments", "service.name": "must not win"},
	}
	observed := time.Unix(1_700_000_100, 0)
	logs := buildLogs(meta, "1.0", []streamreader.Line{
		{Stream: logstream.Stdout, Timestamp: 1_700_000_000_000_000_001, Body: "hello"},
		{Stream: logstream.Stderr, Timestamp: 1_700_000_000_000_000_002, Body: "oops"},
	}, observed)

	rl := logs.ResourceLogs().At(0)
	assert.Equal(t, map[string]any{
		"container.id": "abc", "container.name": "shop-web-1", "container.image.name": "shop/web",
		"container.image.tags": []any{"1.2"}, "container.runtime": "docker",
		"service.name": "web", "service.namespace": "shop", "team": "payments",
	}, rl.Resource().Attributes().AsRaw())
	sl := rl.ScopeLogs().At(0)
	assert.Equal(t, scopeName, sl.Scope().Name())
	assert.Equal(t, "1.0", sl.Scope().Version())
	records := sl.LogRecords()
	assert.Equal(t, 2, records.Len())
	assert.Equal(t, "hello", records.At(0).Body().Str())
	assert.Equal(t, int64(1_700_000_000_000_000_001), int64(records.At(0).Timestamp()))
	assert.Equal(t, observed.UnixNano(), int64(records.At(0).ObservedTimestamp()))
	assert.Equal(t, map[string]any{"log.iostream": "stdout"}, records.At(0).Attributes().AsRaw())
	assert.Equal(t, map[string]any{"log.iostream": "stderr"}, records.At(1).Attributes().AsRaw())
}

func TestServiceNameFallsBackToTheContainerName(t *testing.T) {
	logs := buildLogs(containerMeta{ID: "x", Name: "solo"}, "", nil, time.Now())
	v, _ := logs.ResourceLogs().At(0).Resource().Attributes().Get("service.name")
	assert.Equal(t, "solo", v.Str())
	_, ok := logs.ResourceLogs().At(0).Resource().Attributes().Get("service.namespace")
	assert.False(t, ok)
}
