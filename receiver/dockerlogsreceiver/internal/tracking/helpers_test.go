package tracking

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// counts is a Telemetry that keeps what it was told.
type counts struct {
	mu      sync.Mutex
	skipped int
	gaps    []turn.Gap
}

func (c *counts) TurnEnded(context.Context, turn.Outcome)     {}
func (c *counts) TurnFailed(context.Context, turn.End, error) {}
func (c *counts) Event(context.Context, events.Message)       {}
func (c *counts) Reconnect(context.Context)                   {}
func (c *counts) GapsFound(_ context.Context, gaps []turn.Gap) {
	c.mu.Lock()
	c.gaps = append(c.gaps, gaps...)
	c.mu.Unlock()
}
func (c *counts) EntrySkipped(context.Context) { c.mu.Lock(); c.skipped++; c.mu.Unlock() }
func (c *counts) skips() int                   { c.mu.Lock(); defer c.mu.Unlock(); return c.skipped }
func (c *counts) gapsSeen() []turn.Gap         { c.mu.Lock(); defer c.mu.Unlock(); return c.gaps }

// nopPool is a Pool that gives no turns.
type nopPool struct{}

func (nopPool) Add(string)    {}
func (nopPool) Again(string)  {}
func (nopPool) Remove(string) {}

// testTracker builds a Tracker that is not run, on client (nil: none) and an in-memory store.
func testTracker(t *testing.T, logger *zap.Logger, client *docker.Client, cfg Config) (*Tracker, *counts) {
	t.Helper()
	tel := &counts{}
	return New(Settings{Config: cfg, Logger: logger, Client: client, Store: checkpoint.NewStore(nil), Pool: nopPool{},
		Telemetry: tel, Resources: records.NewResources(metadata.DefaultResourceAttributesConfig()),
		LabelWarnings: &records.LabelWarnings{}, StartedAt: time.Now()}), tel
}

// engineClient is the receiver's client of the test engine.
func engineClient(t *testing.T) *docker.Client {
	t.Helper()
	dockertest.Engine(t)
	endpoint := os.Getenv("DOCKER_HOST")
	if endpoint == "" {
		endpoint = client.DefaultDockerHost
	}
	c, err := docker.NewClient(docker.Settings{Endpoint: endpoint, Timeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

// dockerLogsSince is the first request of a new container's turn.
func dockerLogsSince(since int64) docker.LogsRequest {
	return docker.LogsRequest{Since: since, Follow: true}
}
