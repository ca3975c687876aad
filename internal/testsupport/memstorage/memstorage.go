// Package memstorage is a storage extension that keeps its data in memory, across the receivers a test starts
// over it, as file_storage keeps positions across collector restarts.
package memstorage

import (
	"context"
	"maps"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Storage is the extension and its data.
type Storage struct {
	mu   sync.Mutex
	data map[string][]byte
}

// New returns an empty storage.
func New() *Storage { return &Storage{data: map[string][]byte{}} }

// Copy returns a storage holding the same data now, for reads that must not change what a receiver sees.
func (s *Storage) Copy() *Storage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Storage{data: maps.Clone(s.data)}
}

// Client returns a client of the storage.
func (s *Storage) Client() storage.Client { return &client{s: s} }

// Start does nothing: the data is there from New on.
func (s *Storage) Start(context.Context, component.Host) error { return nil }

// Shutdown keeps the data, for the next receiver.
func (s *Storage) Shutdown(context.Context) error { return nil }

// GetClient returns a client of the one storage, whoever asks.
func (s *Storage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return s.Client(), nil
}

// client is a storage client of a Storage.
type client struct{ s *Storage }

func (c *client) Get(_ context.Context, k string) ([]byte, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.data[k], nil
}

func (c *client) Set(_ context.Context, k string, v []byte) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.data[k] = append([]byte(nil), v...)
	return nil
}

func (c *client) Delete(_ context.Context, k string) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	delete(c.s.data, k)
	return nil
}

// Batch applies the operations in order, all at once, as file_storage does in one transaction.
func (c *client) Batch(_ context.Context, ops ...*storage.Operation) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value = c.s.data[op.Key]
		case storage.Set:
			c.s.data[op.Key] = append([]byte(nil), op.Value...)
		case storage.Delete:
			delete(c.s.data, op.Key)
		}
	}
	return nil
}

func (c *client) Close(context.Context) error { return nil }
