package docker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeAction(t *testing.T) {
	assert.Equal(t, events.ActionDestroy, NormalizeAction("remove"), "Podman's removal")
	for _, a := range []events.Action{events.ActionStart, events.ActionDie, events.ActionDestroy, events.ActionRename, events.ActionRestart} {
		assert.Equal(t, a, NormalizeAction(a))
	}
}

// fakeEngine answers /version, /info and /containers/{id}/logs as a daemon whose kind, ID and health a test sets.
type fakeEngine struct {
	mu           sync.Mutex
	podman       bool
	id           string
	versionFails bool
	versionReads int
	api          string // the API version /version answers; "1.41" when empty
	logTails     []string
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/version"):
		f.versionReads++
		if f.versionFails {
			http.Error(w, `{"message":"busy"}`, http.StatusServiceUnavailable)
			return
		}
		v := types.Version{Version: "20.10.24", APIVersion: "1.41"}
		if f.api != "" {
			v.APIVersion = f.api
		}
		if f.podman {
			v.Components = []types.ComponentVersion{{Name: "Podman Engine", Version: "4.3.1"}}
		}
		_ = json.NewEncoder(w).Encode(v)
	case strings.HasSuffix(r.URL.Path, "/info"):
		_ = json.NewEncoder(w).Encode(map[string]string{"ID": f.id, "Name": "host"})
	case strings.HasSuffix(r.URL.Path, "/logs"):
		f.logTails = append(f.logTails, r.URL.Query().Get("tail"))
		w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeEngine) set(change func(f *fakeEngine)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// lastTail opens a follow stream with a tail of 5 and returns the tail the daemon was asked for.
func (f *fakeEngine) lastTail(t *testing.T, c *Client) string {
	t.Helper()
	body, err := c.Logs(context.Background(), "c1", LogsRequest{Since: 1, Tail: 5, Follow: true})
	require.NoError(t, err)
	require.NoError(t, body.Close())
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logTails[len(f.logTails)-1]
}

func startFakeEngine(t *testing.T, f *fakeEngine) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewClient(Settings{Endpoint: "tcp://" + srv.Listener.Addr().String(), APIVersion: "1.41", Timeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestPodmanDetectionHoldsForTheDaemon(t *testing.T) {
	f := &fakeEngine{podman: true, id: "A", versionFails: true}
	c := startFakeEngine(t, f)

	// The kind cannot be read: the request is the one that loses no line on Podman.
	assert.Equal(t, "all", f.lastTail(t, c), "no tail while the daemon may be Podman")
	f.set(func(f *fakeEngine) { f.versionFails = false })
	assert.Equal(t, "all", f.lastTail(t, c), "Podman")

	// Once read, the kind holds for the daemon: a failed read changes nothing, and nothing is read again.
	f.set(func(f *fakeEngine) { f.versionFails = true; f.versionReads = 0 })
	assert.Equal(t, "all", f.lastTail(t, c))
	_, err := c.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "all", f.lastTail(t, c), "the same daemon")
	assert.Zero(t, f.versionReads)

	// Another daemon answers (a reconnect to a replaced one): its kind is read again.
	f.set(func(f *fakeEngine) { f.id, f.podman, f.versionFails = "B", false, false })
	_, err = c.Info(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "5", f.lastTail(t, c), "Docker gets the tail")
	assert.Equal(t, 1, f.versionReads)

	// And it holds for that daemon too.
	f.set(func(f *fakeEngine) { f.versionFails = true })
	assert.Equal(t, "5", f.lastTail(t, c))
}

func TestIsPodmanSaysWhenItCannotTell(t *testing.T) {
	f := &fakeEngine{podman: true, id: "A", versionFails: true}
	c := startFakeEngine(t, f)
	_, err := c.IsPodman(context.Background())
	require.ErrorContains(t, err, "read the daemon's version")
	f.set(func(f *fakeEngine) { f.versionFails = false })
	podman, err := c.IsPodman(context.Background())
	require.NoError(t, err)
	assert.True(t, podman)
}

func TestDaemonAPIVersionIsTheDaemonsAndHolds(t *testing.T) {
	f := &fakeEngine{id: "A", versionFails: true, api: "1.51"}
	c := startFakeEngine(t, f) // pinned to 1.41: the daemon's own version is asked, not the one negotiated
	_, err := c.Info(context.Background())
	require.NoError(t, err)
	_, err = c.DaemonAPIVersion(context.Background())
	require.ErrorContains(t, err, "read the daemon's version")
	f.set(func(f *fakeEngine) { f.versionFails = false })
	api, err := c.DaemonAPIVersion(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1.51", api)

	// Read with the kind, it holds for the daemon; another daemon's is read again.
	f.set(func(f *fakeEngine) { f.versionFails, f.versionReads = true, 0 })
	api, err = c.DaemonAPIVersion(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1.51", api)
	assert.Zero(t, f.versionReads)
	f.set(func(f *fakeEngine) { f.id, f.api, f.versionFails = "B", "1.41", false })
	_, err = c.Info(context.Background())
	require.NoError(t, err)
	api, err = c.DaemonAPIVersion(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1.41", api)
}
