package records

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Names of resource attributes the tests look records up by.
const (
	attrContainerID   = "container.id"
	attrContainerName = "container.name"
	attrRuntime       = "container.runtime"
	attrImageName     = "container.image.name"
	attrImageTags     = "container.image.tags"
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
	meta := Meta{
		ID: "abc", Name: "shop-web-1", Image: "shop/web:1.2",
		Labels: map[string]string{ComposeServiceKey: "web", ComposeProjectKey: "shop", "team": "payments"},
		Extra:  map[string]string{"team": "payments", "service.name": "must not win"},
	}
	observed := time.Unix(1_700_000_100, 0)
	daemon := Daemon{HostName: "docker-host-1", EngineID: "4f3c-engine"}
	res := NewResource(metadata.DefaultResourceAttributesConfig(), daemon, meta)
	logs := Build(res, "1.0", []turn.Line{
		{Stream: decode.Stdout, Timestamp: 1_700_000_000_000_000_001, Body: "hello"},
		{Stream: decode.Stderr, Timestamp: 1_700_000_000_000_000_002, Body: "oops"},
	}, observed)

	rl := logs.ResourceLogs().At(0)
	assert.Equal(t, map[string]any{
		"container.id": "abc", "container.name": "shop-web-1", "container.image.name": "shop/web",
		"container.image.tags": []any{"1.2"}, "container.runtime": "docker",
		"service.name": "web", "service.namespace": "shop", "team": "payments",
		"host.name": "docker-host-1", "docker.engine.id": "4f3c-engine",
	}, rl.Resource().Attributes().AsRaw())
	assert.Empty(t, rl.SchemaUrl(), "records name no schema, as before resource_attributes were declared")
	sl := rl.ScopeLogs().At(0)
	assert.Equal(t, metadata.ScopeName, sl.Scope().Name())
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
	res := NewResource(metadata.DefaultResourceAttributesConfig(), Daemon{}, Meta{ID: "x", Name: "solo"})
	v, _ := res.Attributes().Get("service.name")
	assert.Equal(t, "solo", v.Str())
	_, ok := res.Attributes().Get("service.namespace")
	assert.False(t, ok)
	_, ok = res.Attributes().Get("host.name")
	assert.False(t, ok, "no host.name before the daemon answered")
}

// TestResourceAttributesSwitchedOff checks that each declared attribute can be switched off, and that a mapped
// label may then take its name.
func TestResourceAttributesSwitchedOff(t *testing.T) {
	rac := metadata.DefaultResourceAttributesConfig()
	rac.ContainerID.Enabled = false
	rac.ContainerImageTags.Enabled = false
	rac.ContainerRuntime.Enabled = false
	rac.HostName.Enabled = false
	rac.ServiceName.Enabled = false
	meta := Meta{ID: "abc", Name: "api-1", Image: "api:2",
		Labels: map[string]string{"app": "api"}, Extra: map[string]string{"service.name": "api"}}
	res := NewResource(rac, Daemon{HostName: "h", EngineID: "e"}, meta)
	assert.Equal(t, map[string]any{
		"container.name": "api-1", "container.image.name": "api", "docker.engine.id": "e",
		"service.name": "api",
	}, res.Attributes().AsRaw())
}

// TestSwarmTaskResource gives a Swarm task's records its service as service.name, its stack as service.namespace,
// and the task's labels under their own keys; compose labels, when a container has both, win.
func TestSwarmTaskResource(t *testing.T) {
	swarm := map[string]string{
		"com.docker.swarm.service.name": "shop_web", "com.docker.swarm.task.name": "shop_web.2.k3j9",
		"com.docker.swarm.task.id": "k3j9", "com.docker.swarm.node.id": "n0d3", "com.docker.stack.namespace": "shop",
		"com.docker.swarm.task": "",
	}
	res := NewResource(metadata.DefaultResourceAttributesConfig(), Daemon{},
		Meta{ID: "abc", Name: "shop_web.2.k3j9", Image: "web:1", Labels: swarm}).Attributes().AsRaw()
	for k, v := range map[string]any{
		"service.name": "shop_web", "service.namespace": "shop", "container.name": "shop_web.2.k3j9",
		"com.docker.swarm.service.name": "shop_web", "com.docker.swarm.task.name": "shop_web.2.k3j9",
		"com.docker.swarm.task.id": "k3j9", "com.docker.swarm.node.id": "n0d3", "com.docker.stack.namespace": "shop",
	} {
		assert.Equal(t, v, res[k], k)
	}
	assert.NotContains(t, res, "com.docker.swarm.task", "an empty label is not an attribute")

	both := map[string]string{"com.docker.compose.service": "web", "com.docker.compose.project": "dev",
		"com.docker.swarm.service.name": "shop_web", "com.docker.stack.namespace": "shop"}
	res = NewResource(metadata.DefaultResourceAttributesConfig(), Daemon{},
		Meta{ID: "abc", Name: "x", Labels: both}).Attributes().AsRaw()
	assert.Equal(t, "web", res["service.name"])
	assert.Equal(t, "dev", res["service.namespace"])

	rac := metadata.DefaultResourceAttributesConfig()
	rac.ComDockerSwarmTaskName.Enabled = false
	rac.ComDockerSwarmTaskID.Enabled = false
	res = NewResource(rac, Daemon{}, Meta{ID: "abc", Name: "x", Labels: swarm}).Attributes().AsRaw()
	assert.NotContains(t, res, "com.docker.swarm.task.name", "switched off")
	assert.NotContains(t, res, "com.docker.swarm.task.id", "switched off")
	assert.Equal(t, "n0d3", res["com.docker.swarm.node.id"])
}
