package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// indexKey holds the IDs of the containers that have a saved position: the storage API cannot list its keys,
// and without the index the positions of containers removed while no receiver ran would stay forever.
const indexKey = "cursor-index"

// index is the stored form of the set of IDs.
type index struct {
	Version int      `json:"v"`
	IDs     []string `json:"ids"`
}

// indexVersion is written with the index so that a later encoding can migrate it.
const indexVersion = 1

// LoadIndex reads the IDs of the containers that have a saved position; call it once, before anything is saved.
func (s *Store) LoadIndex(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := s.client.Get(ctx, indexKey)
	if err != nil {
		return fmt.Errorf("load the index of saved positions: %w", err)
	}
	if data == nil {
		return nil
	}
	var ix index
	if err := json.Unmarshal(data, &ix); err != nil {
		return fmt.Errorf("decode the index of saved positions: %w", err)
	}
	if ix.Version != indexVersion {
		return fmt.Errorf("decode the index of saved positions: unknown encoding version %d", ix.Version)
	}
	for _, id := range ix.IDs {
		s.indexed[id] = struct{}{}
	}
	return nil
}

// IDs returns the containers that have a saved position, as the index knows them.
func (s *Store) IDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.indexed))
	for id := range s.indexed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Len returns how many containers have a saved position, as the index knows them.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.indexed)
}

// indexWith returns the operation that writes the index with ids added; s.mu is held.
func (s *Store) indexWith(ids ...string) (*storage.Operation, error) {
	all := make([]string, 0, len(s.indexed)+len(ids))
	for known := range s.indexed {
		if !slices.Contains(ids, known) {
			all = append(all, known)
		}
	}
	return indexOp(append(all, ids...))
}

// indexWithout returns the operation that writes the index with id removed; s.mu is held.
func (s *Store) indexWithout(id string) (*storage.Operation, error) {
	all := make([]string, 0, len(s.indexed))
	for known := range s.indexed {
		if known != id {
			all = append(all, known)
		}
	}
	return indexOp(all)
}

// indexOp returns the operation that writes the index of ids.
func indexOp(ids []string) (*storage.Operation, error) {
	slices.Sort(ids)
	data, err := json.Marshal(index{Version: indexVersion, IDs: ids})
	if err != nil {
		return nil, fmt.Errorf("encode the index of saved positions: %w", err)
	}
	return storage.SetOperation(indexKey, data), nil
}
