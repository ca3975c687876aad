package dockerlogsreceiver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestTLSDaemon reads a container from a daemon that serves only TLS with client certificates on 127.0.0.1, and
// checks that a receiver trusting another CA reads nothing and says why.
func TestTLSDaemon(t *testing.T) {
	certs := dockertest.GenerateCerts(t)
	d := dockertest.StartDaemon(t, dockertest.DaemonOptions{TLS: &certs})
	cli := d.Client(t)
	image := dockertest.LoggenImage(t, cli)

	t.Run("trusted", func(t *testing.T) {
		cfg := tlsReceiverConfig(t, d.TCPHost, certs.CAFile, certs)
		cfg.StartAt = StartAtBeginning
		sink := &collector{}
		logs := startLogged(t, cfg, nopHost(), sink)
		const lines = 400
		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image,
			Cmd: []string{"-count", "400", "-rate", "400", "-streams", "both"}})
		dockertest.WaitExit(t, cli, id, time.Minute)
		waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
			n := sink.count(id)
			return n >= lines, fmt.Sprintf("%d of %d lines", n, lines)
		})
		time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
		byStream := seqsByStream(t, sink.of(id))
		assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "every stdout line once, through TLS")
		assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "every stderr line once, through TLS")
		assert.Zero(t, logs.FilterMessageSnippet("unencrypted").Len(), "no warning when tls is set")
	})

	t.Run("untrusted CA", func(t *testing.T) {
		other := dockertest.GenerateCerts(t)
		cfg := tlsReceiverConfig(t, d.TCPHost, other.CAFile, certs)
		cfg.StartAt = StartAtBeginning
		host := newStatusHost()
		sink := &collector{}
		logs := startLogged(t, cfg, host, sink)
		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Cmd: []string{"-count", "50"}})
		dockertest.WaitExit(t, cli, id, time.Minute)

		require.Eventually(t, func() bool { return host.last() == componentstatus.StatusRecoverableError }, 3*time.Minute, 10*time.Millisecond)
		host.mu.Lock()
		reported := host.events[len(host.events)-1].Err()
		host.mu.Unlock()
		t.Logf("status: %v", reported)
		assert.ErrorContains(t, reported, "certificate signed by unknown authority", "the status says the daemon's certificate is not trusted")
		require.Eventually(t, func() bool {
			return logs.FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("Listing containers failed").Len() > 0
		}, 3*time.Minute, 10*time.Millisecond)
		warning := logs.FilterMessageSnippet("Listing containers failed").All()[0]
		assert.Contains(t, warning.ContextMap()["error"], "certificate signed by unknown authority", "the log says so too")

		time.Sleep(2 * cfg.ReconcileInterval) // reconciles would find the container if anything got through
		sink.mu.Lock()
		defer sink.mu.Unlock()
		assert.Empty(t, sink.records, "nothing read from a daemon that is not trusted")
		assert.NotEqual(t, componentstatus.StatusOK, host.last())
	})
}

// TestUnencryptedTCPWarnsOnce starts receivers without tls on a tcp:// endpoint and on a unix socket; neither
// needs a daemon to answer.
func TestUnencryptedTCPWarnsOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := "tcp://" + l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there: discovery keeps failing and logging

	cfg := testConfig()
	cfg.Endpoint = endpoint
	cfg.ReconcileInterval = 100 * time.Millisecond
	logs := startLogged(t, cfg, nopHost(), &collector{})
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("subscribing again").Len() >= 2 }, 3*time.Minute, 10*time.Millisecond,
		"discovery tried more than once")
	warnings := logs.FilterMessageSnippet("unencrypted").All()
	require.Len(t, warnings, 1, "one warning, at start")
	assert.Equal(t, zapcore.WarnLevel, warnings[0].Level)
	assert.Contains(t, warnings[0].Message, "without tls")
	assert.Equal(t, endpoint, warnings[0].ContextMap()["endpoint"])

	cfg = testConfig()
	cfg.Endpoint = "unix:///nonexistent/docker.sock"
	logs = startLogged(t, cfg, nopHost(), &collector{})
	require.Eventually(t, func() bool { return logs.FilterMessageSnippet("subscribing again").Len() >= 1 }, 3*time.Minute, 10*time.Millisecond)
	assert.Zero(t, logs.FilterMessageSnippet("unencrypted").Len(), "a unix socket is not a network connection")
}

// tlsReceiverConfig is the test configuration for endpoint with the tls keys set as a user would in YAML.
func tlsReceiverConfig(t *testing.T, endpoint, caFile string, certs dockertest.Certs) *Config {
	t.Helper()
	cfg := testConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"endpoint": endpoint,
		"tls":      map[string]any{"ca_file": caFile, "cert_file": certs.ClientCert, "key_file": certs.ClientKey},
	}).Unmarshal(cfg))
	require.True(t, strings.HasPrefix(cfg.Endpoint, "tcp://"))
	require.NotNil(t, cfg.TLS)
	return cfg
}

// startLogged starts a receiver whose log is also kept for the test to read; it is shut down when the test ends.
func startLogged(t *testing.T, cfg *Config, host component.Host, next *collector) *observer.ObservedLogs {
	t.Helper()
	require.NoError(t, cfg.Validate())
	set := receiverSettings(t)
	core, logs := observer.New(zapcore.InfoLevel)
	set.Logger = set.Logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, core) }))
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return logs
}
