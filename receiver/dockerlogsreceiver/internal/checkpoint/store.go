package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// codecVersion is written with every cursor so that a later encoding can migrate old ones.
const codecVersion = 2

// keyPrefix namespaces the receiver's keys inside the storage client it was given.
const keyPrefix = "cursor/"

// record is the stored form of a cursor.
type record struct {
	Version int `json:"v"`
	Cursor
}

// Store keeps cursors in a storage extension's client so that reading resumes after a collector restart, and an
// index of the containers that have one (index.go).
//
// The index is written in the same Batch as a container's first position, before it, and after its deletion:
// an index entry without a position is harmless, a position without an entry would never be removed.
type Store struct {
	client storage.Client
	// persistent is false without a storage extension: nothing is saved, so nothing is indexed.
	persistent bool

	// mu serializes the writes, so that the index written last holds every ID saved and not deleted, and a
	// position saved concurrently with its deletion cannot land after it.
	mu      sync.Mutex
	indexed map[string]struct{}
	// saved is each container's cursor as last saved or loaded, so that a save behind it is refused.
	saved map[string]Cursor

	// queued guards queue: the saves waiting for s.mu, which the first to get it writes in one Batch.
	queued sync.Mutex
	queue  []*pendingSave
}

// ErrBehind is returned by Save for a cursor behind the one saved before: the newer one is kept.
var ErrBehind = errors.New("the position is behind the one saved")

// NewStore returns a store over client; a nil client keeps nothing (positions then live only in memory).
func NewStore(client storage.Client) *Store {
	s := &Store{client: client, persistent: client != nil, indexed: map[string]struct{}{}, saved: map[string]Cursor{}}
	if client == nil {
		s.client = storage.NewNopClient()
	}
	return s
}

// Load returns the cursor saved for a container and whether there was one.
func (s *Store) Load(ctx context.Context, containerID string) (Cursor, bool, error) {
	data, err := s.client.Get(ctx, keyPrefix+containerID)
	if err != nil {
		return Cursor{}, false, fmt.Errorf("load position of container %s: %w", containerID, err)
	}
	if data == nil {
		return Cursor{}, false, nil
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return Cursor{}, false, fmt.Errorf("decode position of container %s: %w", containerID, err)
	}
	if r.Version != codecVersion {
		return Cursor{}, false, fmt.Errorf("decode position of container %s: unknown encoding version %d", containerID, r.Version)
	}
	if err := s.ensureIndexed(ctx, containerID); err != nil {
		return Cursor{}, false, err
	}
	s.mu.Lock()
	if prev, ok := s.saved[containerID]; !ok || prev.Behind(r.Cursor) {
		s.saved[containerID] = r.Cursor
	}
	s.mu.Unlock()
	return r.Cursor, true, nil
}

// ensureIndexed adds to the index a position saved before the index existed.
func (s *Store) ensureIndexed(ctx context.Context, containerID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indexed[containerID]; ok {
		return nil
	}
	op, err := s.indexWith(containerID)
	if err == nil {
		err = s.client.Batch(ctx, op)
	}
	if err != nil {
		return fmt.Errorf("index position of container %s: %w", containerID, err)
	}
	s.indexed[containerID] = struct{}{}
	return nil
}

// Save stores a container's cursor; it refuses with ErrBehind one behind the cursor saved or loaded before (see
// Cursor.Behind), so that of two saves that race, the newer position stays whichever lands last.
//
// Saves that arrive while another is written wait for it and are then written together, in one Batch (turns
// whose records went in one delivery save at the same moment): one storage transaction instead of one each.
func (s *Store) Save(ctx context.Context, containerID string, c Cursor) error {
	data, err := json.Marshal(record{Version: codecVersion, Cursor: c})
	if err != nil {
		return fmt.Errorf("encode position of container %s: %w", containerID, err)
	}
	p := &pendingSave{id: containerID, cursor: c, data: data, done: make(chan error, 1)}
	s.queued.Lock()
	s.queue = append(s.queue, p)
	s.queued.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case err := <-p.done:
		// Written by the save that held s.mu before.
		return err
	default:
	}
	s.queued.Lock()
	saves := s.queue
	s.queue = nil
	s.queued.Unlock()
	s.saveAll(ctx, saves)
	return <-p.done
}

// pendingSave is a Save waiting to be written.
type pendingSave struct {
	id     string
	cursor Cursor
	data   []byte
	done   chan error
}

// saveAll writes the saves in one Batch, with the index when one is a container's first, and answers each; s.mu
// is held.
func (s *Store) saveAll(ctx context.Context, saves []*pendingSave) {
	var ops []*storage.Operation
	var written []*pendingSave
	// later is each container's cursor as it will be once the batch is written, for the saves after it in the batch.
	later := map[string]Cursor{}
	var newIDs []string
	for _, p := range saves {
		prev, ok := later[p.id]
		if !ok {
			prev, ok = s.saved[p.id]
		}
		if ok && p.cursor.Behind(prev) {
			p.done <- fmt.Errorf("save position of container %s: %w", p.id, ErrBehind)
			continue
		}
		later[p.id] = p.cursor
		if _, indexed := s.indexed[p.id]; !indexed && s.persistent && !slices.Contains(newIDs, p.id) {
			newIDs = append(newIDs, p.id)
		}
		ops = append(ops, storage.SetOperation(keyPrefix+p.id, p.data))
		written = append(written, p)
	}
	if len(written) == 0 {
		return
	}
	var err error
	if len(newIDs) > 0 {
		// The index first: a storage that applies a batch in order and stops halfway leaves an entry without a position.
		var op *storage.Operation
		if op, err = s.indexWith(newIDs...); err == nil {
			ops = append([]*storage.Operation{op}, ops...)
		}
	}
	if err == nil {
		err = s.client.Batch(ctx, ops...)
	}
	if err == nil {
		for _, id := range newIDs {
			s.indexed[id] = struct{}{}
		}
		for id, c := range later {
			s.saved[id] = c
		}
	}
	for _, p := range written {
		if err != nil {
			p.done <- fmt.Errorf("save position of container %s: %w", p.id, err)
			continue
		}
		p.done <- nil
	}
}

// Delete forgets a container's cursor and removes it from the index; only a container that is gone is forgotten.
func (s *Store) Delete(ctx context.Context, containerID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.saved, containerID)
	if _, indexed := s.indexed[containerID]; !indexed {
		if err := s.client.Delete(ctx, keyPrefix+containerID); err != nil {
			return fmt.Errorf("delete position of container %s: %w", containerID, err)
		}
		return nil
	}
	op, err := s.indexWithout(containerID)
	if err == nil {
		// The position first, for the same reason as in Save.
		err = s.client.Batch(ctx, storage.DeleteOperation(keyPrefix+containerID), op)
	}
	if err != nil {
		return fmt.Errorf("delete position of container %s: %w", containerID, err)
	}
	delete(s.indexed, containerID)
	return nil
}

// Close closes the storage client.
func (s *Store) Close(ctx context.Context) error {
	return s.client.Close(ctx)
}
