package dockerlogsreceiver

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// deaf blocks every call until it is released, whatever its context says.
type deaf struct {
	called  chan struct{}
	release chan struct{}
}

func (d *deaf) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (d *deaf) ConsumeLogs(context.Context, plog.Logs) error {
	select {
	case d.called <- struct{}{}:
	default:
	}
	<-d.release
	return nil
}

// TestShutdownReturnsByItsDeadlineWhenTheConsumerIgnoresCancellation holds a lifecycle record in a consumer that
// ignores cancellation: Shutdown returns by its context's deadline with an error, and a later Shutdown, once the
// consumer returned, releases everything.
func TestShutdownReturnsByItsDeadlineWhenTheConsumerIgnoresCancellation(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = "unix://" + filepath.Join(t.TempDir(), "no-daemon.sock")
	cfg.LifecycleEvents.Enabled = true
	next := &deaf{called: make(chan struct{}, 1), release: make(chan struct{})}
	rcv, err := NewFactory().CreateLogs(context.Background(), receiverSettings(t), cfg, next)
	require.NoError(t, err)
	r := rcv.(*logsReceiver)
	require.NoError(t, r.Start(context.Background(), nopHost()))
	r.lifecycle.Offer(records.Meta{ID: "c1", Name: "web-1"}, eventMsg("c1", events.ActionStart, time.Now(), nil))
	select {
	case <-next.called:
	case <-time.After(time.Minute):
		require.FailNow(t, "the lifecycle record was not handed on")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- r.Shutdown(ctx) }()
	select {
	case err := <-returned:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(30 * time.Second):
		close(next.release)
		<-returned
		require.FailNow(t, "Shutdown did not return by its deadline")
	}

	close(next.release)
	assert.NoError(t, r.Shutdown(context.Background()))
	assert.Nil(t, r.store, "the second Shutdown released what the first left open")
}

// TestShutdownReturnsByItsDeadlineWhileATurnHandsOn holds a turn's batch in a consumer that ignores cancellation:
// Shutdown returns by its context's deadline instead of waiting for the pool.
func TestShutdownReturnsByItsDeadlineWhileATurnHandsOn(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	next := &deaf{called: make(chan struct{}, 1), release: make(chan struct{})}
	rcv, err := NewFactory().CreateLogs(context.Background(), receiverSettings(t), cfg, next)
	require.NoError(t, err)
	r := rcv.(*logsReceiver)
	require.NoError(t, r.Start(context.Background(), nopHost()))
	released := false
	defer func() {
		if !released {
			close(next.release)
		}
		assert.NoError(t, r.Shutdown(context.Background()))
	}()
	dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels, Cmd: []string{"-count", "100"}})
	select {
	case <-next.called:
	case <-time.After(3 * time.Minute):
		require.FailNow(t, "no batch was handed on")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- r.Shutdown(ctx) }()
	select {
	case err := <-returned:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(30 * time.Second):
		close(next.release)
		released = true
		<-returned
		require.FailNow(t, "Shutdown did not return by its deadline")
	}
	close(next.release)
	released = true
}
