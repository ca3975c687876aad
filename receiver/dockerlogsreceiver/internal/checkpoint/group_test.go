package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// gatedClient is a mapClient whose first Batch waits for gate; it records how many operations each Batch held.
type gatedClient struct {
	mapClient
	mu      sync.Mutex
	gate    chan struct{}
	batches []int
}

func (g *gatedClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	g.mu.Lock()
	g.batches = append(g.batches, len(ops))
	first := len(g.batches) == 1
	g.mu.Unlock()
	if first {
		<-g.gate
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mapClient.Batch(ctx, ops...)
}

func (g *gatedClient) batchSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.batches...)
}

// waitQueued waits until n saves wait for the one being written.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.queued.Lock()
		got := len(s.queue)
		s.queued.Unlock()
		if got == n {
			return
		}
		require.False(t, time.Now().After(deadline), "%d saves queued, want %d", got, n)
		time.Sleep(time.Millisecond)
	}
}

func TestSavesThatArriveDuringAWriteGoInOneBatch(t *testing.T) {
	ctx := context.Background()
	client := &gatedClient{mapClient: mapClient{data: map[string][]byte{}}, gate: make(chan struct{})}
	s := NewStore(client)
	at := func(ts int64) Cursor { return Cursor{Stdout: Position{Time: ts, Count: 1}} }

	first := make(chan error, 1)
	go func() { first <- s.Save(ctx, "a", at(200)) }()
	require.Eventually(t, func() bool { return len(client.batchSizes()) == 1 }, 30*time.Second, time.Millisecond)
	saves := map[string]chan error{"b": make(chan error, 1), "c": make(chan error, 1), "a-behind": make(chan error, 1)}
	go func() { saves["b"] <- s.Save(ctx, "b", at(100)) }()
	go func() { saves["c"] <- s.Save(ctx, "c", at(100)) }()
	go func() { saves["a-behind"] <- s.Save(ctx, "a", at(150)) }()
	waitQueued(t, s, 3)
	close(client.gate)

	require.NoError(t, <-first)
	require.NoError(t, <-saves["b"])
	require.NoError(t, <-saves["c"])
	assert.ErrorIs(t, <-saves["a-behind"], ErrBehind, "a save behind the one written before it in the same batch")
	// The first save alone (its index and position), then b's and c's positions with one index write for both.
	assert.Equal(t, []int{2, 3}, client.batchSizes())
	assert.Equal(t, []string{"a", "b", "c"}, s.IDs())

	var ix index
	require.NoError(t, json.Unmarshal(client.data[indexKey], &ix))
	assert.Equal(t, []string{"a", "b", "c"}, ix.IDs)
	for id, want := range map[string]int64{"a": 200, "b": 100, "c": 100} {
		got, ok, err := NewStore(&client.mapClient).Load(ctx, id)
		require.NoError(t, err)
		require.True(t, ok, id)
		assert.Equal(t, want, got.Stdout.Time, id)
	}
}

func TestAFailedBatchFailsEachSaveInIt(t *testing.T) {
	ctx := context.Background()
	client := &gatedClient{mapClient: mapClient{data: map[string][]byte{}}, gate: make(chan struct{})}
	s := NewStore(client)
	first := make(chan error, 1)
	go func() { first <- s.Save(ctx, "a", Cursor{Stdout: Position{Time: 1, Count: 1}}) }()
	require.Eventually(t, func() bool { return len(client.batchSizes()) == 1 }, 30*time.Second, time.Millisecond)
	client.mu.Lock()
	client.err = errors.New("disk full")
	client.mu.Unlock()
	errs := make(chan error, 2)
	for _, id := range []string{"b", "c"} {
		go func() { errs <- s.Save(ctx, id, Cursor{Stdout: Position{Time: 1, Count: 1}}) }()
	}
	waitQueued(t, s, 2)
	close(client.gate)
	assert.Error(t, <-first)
	for range 2 {
		assert.ErrorContains(t, <-errs, "disk full")
	}
	assert.Empty(t, s.IDs(), "a container whose first save failed is not indexed")
}
