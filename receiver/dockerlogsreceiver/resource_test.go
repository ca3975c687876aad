package dockerlogsreceiver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestRecordsCarryTheDaemonIdentity checks against the real engine that every record carries the daemon's
// host name and ID, as the engine reports them.
func TestRecordsCarryTheDaemonIdentity(t *testing.T) {
	cli := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := cli.Info(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, info.Name)
	require.NotEmpty(t, info.ID)

	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.StartAt = StartAtBeginning
	sink := &collector{}
	startReceiver(t, cfg, sink, nil)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "20", "-streams", "both"}})
	require.Eventually(t, func() bool { return sink.count(id) >= 20 }, 3*time.Minute, 20*time.Millisecond)
	for _, r := range sink.of(id) {
		assert.Equal(t, info.Name, r.resource["host.name"])
		assert.Equal(t, info.ID, r.resource["docker.engine.id"])
	}
}

// TestLabelPatternsBecomeResourceAttributes maps a real container's labels by pattern: under their own keys,
// under a new prefix, and a literal key beside them.
func TestLabelPatternsBecomeResourceAttributes(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.StartAt = StartAtBeginning
	cfg.ContainerLabelsToAttributes = map[string]string{
		"com.example.*":              "",
		"org.opencontainers.image.*": "image.*",
		"owner":                      "team.owner",
	}
	cfg.ResourceAttributes.HostName.Enabled = false
	cfg.ResourceAttributes.DockerEngineID.Enabled = false
	labels["com.example.team"] = "payments"
	labels["com.example.tier"] = "web"
	labels["org.opencontainers.image.version"] = "1.4.2"
	labels["owner"] = "ops"
	labels["unmapped.key"] = "never"
	sink := &collector{}
	startReceiver(t, cfg, sink, nil)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "5"}})
	require.Eventually(t, func() bool { return sink.count(id) >= 5 }, 3*time.Minute, 20*time.Millisecond)

	res := sink.of(id)[0].resource
	assert.Equal(t, "payments", res["com.example.team"])
	assert.Equal(t, "web", res["com.example.tier"])
	assert.Equal(t, "1.4.2", res["image.version"])
	assert.Equal(t, "ops", res["team.owner"])
	for _, absent := range []string{"unmapped.key", "org.opencontainers.image.version", "owner", "host.name", "docker.engine.id"} {
		assert.NotContains(t, res, absent)
	}
}

// TestDaemonIdentityIsReadAgainAfterAReconnect breaks every connection to the daemon and checks that the
// receiver, subscribing to the events again, reads the daemon's identity again.
func TestDaemonIdentityIsReadAgainAfterAReconnect(t *testing.T) {
	cli := dockertest.Engine(t)
	proxy := startReadOnlyProxy(t, cli)
	cfg := testConfig()
	cfg.Endpoint = proxy.endpoint
	isolate(t, cfg)
	startReceiver(t, cfg, &collector{}, nil)
	identityReadAtStart(t, proxy)
	cutUntil(t, proxy, func() bool { return proxy.calls(infoEndpoint) >= 2 && proxy.calls(eventsEndpoint) >= 2 },
		"read again when subscribing again")
}

// The endpoints the identity tests count.
const (
	infoEndpoint   = "GET /v{api}/info"
	eventsEndpoint = "GET /v{api}/events"
)

// identityReadAtStart waits until the receiver read the daemon's identity once and subscribed to its events.
func identityReadAtStart(t *testing.T, proxy *readOnlyProxy) {
	t.Helper()
	require.Eventually(t, func() bool { return proxy.calls(infoEndpoint) == 1 && proxy.calls(eventsEndpoint) == 1 },
		time.Minute, 10*time.Millisecond, "read once at start, before the first subscription")
}

// cutUntil breaks every connection through the proxy, every 5 seconds, until done: a cut can pass unnoticed (one
// that lands before a request was answered is retried by the client's transport, and counted twice).
func cutUntil(t *testing.T, proxy *readOnlyProxy, done func() bool, what string) {
	t.Helper()
	require.Eventually(t, func() bool {
		proxy.cut()
		return sleep(context.Background(), 5*time.Second) && done()
	}, 2*time.Minute, time.Millisecond, what)
}

// TestDaemonIdentityIsReadAgainAfterAFailedRead makes the read that follows a reconnect fail and checks that a
// later reconcile reads the identity again, instead of keeping the one read before the reconnect.
func TestDaemonIdentityIsReadAgainAfterAFailedRead(t *testing.T) {
	cli := dockertest.Engine(t)
	proxy := startReadOnlyProxy(t, cli)
	cfg := testConfig()
	cfg.Endpoint = proxy.endpoint
	cfg.ReconcileInterval = 200 * time.Millisecond
	isolate(t, cfg)
	startReceiver(t, cfg, &collector{}, nil)
	identityReadAtStart(t, proxy)
	proxy.refuse(infoEndpoint)
	refusedInfo := func() bool {
		for _, r := range proxy.refusals() {
			if strings.HasPrefix(r, "GET ") && strings.HasSuffix(r, "/info") {
				return true
			}
		}
		return false
	}
	cutUntil(t, proxy, func() bool { return refusedInfo() && proxy.calls(eventsEndpoint) >= 2 },
		"the events stream was subscribed to again, after a read of the identity that failed")
	proxy.allow(infoEndpoint)
	require.Eventually(t, func() bool { return proxy.calls(infoEndpoint) >= 2 }, 3*time.Minute, 10*time.Millisecond,
		"read again at a reconcile once /info answers")
}

// TestRecordsGoOnWhenInfoIsRefused reads through a proxy that refuses /info: records arrive without the
// daemon's identity, and the refusal is warned about once.
func TestRecordsGoOnWhenInfoIsRefused(t *testing.T) {
	cli := dockertest.Engine(t)
	proxy := startReadOnlyProxy(t, cli)
	proxy.refuse(infoEndpoint)
	cfg := testConfig()
	cfg.Endpoint = proxy.endpoint
	cfg.StartAt = StartAtBeginning
	cfg.ReconcileInterval = 200 * time.Millisecond
	labels := isolate(t, cfg)
	core, logs := observer.New(zap.WarnLevel)
	set := receiverSettings(t)
	set.Logger = zap.New(core)
	sink := &collector{}
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "5"}})
	require.Eventually(t, func() bool { return sink.count(id) >= 5 }, 3*time.Minute, 20*time.Millisecond)
	// Reconciles go on trying: wait for a few refusals before counting the warnings.
	require.Eventually(t, func() bool { return len(proxy.refusals()) >= 3 }, 3*time.Minute, 20*time.Millisecond)
	res := sink.of(id)[0].resource
	assert.NotContains(t, res, "host.name")
	assert.NotContains(t, res, "docker.engine.id")
	assert.Equal(t, id, res["container.id"])
	assert.Equal(t, 1, logs.FilterMessageSnippet("Reading the Docker daemon's name and ID failed").Len(), "warned once")
}
