package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"

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

// Store keeps cursors in a storage extension's client so that reading resumes after a collector restart.
type Store struct {
	client storage.Client
}

// NewStore returns a store over client; a nil client keeps nothing (positions then live only in memory).
func NewStore(client storage.Client) *Store {
	if client == nil {
		client = storage.NewNopClient()
	}
	return &Store{client: client}
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
	return r.Cursor, true, nil
}

// Save stores a container's cursor.
func (s *Store) Save(ctx context.Context, containerID string, c Cursor) error {
	data, err := json.Marshal(record{Version: codecVersion, Cursor: c})
	if err != nil {
		return fmt.Errorf("encode position of container %s: %w", containerID, err)
	}
	if err := s.client.Set(ctx, keyPrefix+containerID, data); err != nil {
		return fmt.Errorf("save position of container %s: %w", containerID, err)
	}
	return nil
}

// Delete forgets a container's cursor; only a destroyed container is forgotten.
func (s *Store) Delete(ctx context.Context, containerID string) error {
	if err := s.client.Delete(ctx, keyPrefix+containerID); err != nil {
		return fmt.Errorf("delete position of container %s: %w", containerID, err)
	}
	return nil
}

// Close closes the storage client.
func (s *Store) Close(ctx context.Context) error {
	return s.client.Close(ctx)
}
