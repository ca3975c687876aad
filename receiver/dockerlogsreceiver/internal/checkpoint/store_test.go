package checkpoint

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// mapClient is an in-memory storage.Client, as the file_storage extension behaves for Get/Set/Delete.
type mapClient struct {
	data      map[string][]byte
	err       error
	failAfter int
	closed    bool
}

func (m *mapClient) Get(_ context.Context, k string) ([]byte, error) { return m.data[k], m.err }
func (m *mapClient) Set(_ context.Context, k string, v []byte) error {
	m.data[k] = v
	return m.err
}
func (m *mapClient) Delete(_ context.Context, k string) error {
	delete(m.data, k)
	return m.err
}

// Batch applies the operations in order; with failAfter positive it stops after that many, as a crash would.
func (m *mapClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if m.err != nil {
		return m.err
	}
	for i, op := range ops {
		if m.failAfter > 0 && i == m.failAfter {
			return errors.New("crashed halfway")
		}
		switch op.Type {
		case storage.Set:
			m.data[op.Key] = op.Value
		case storage.Delete:
			delete(m.data, op.Key)
		case storage.Get:
			op.Value = m.data[op.Key]
		}
	}
	return nil
}
func (m *mapClient) Close(context.Context) error {
	m.closed = true
	return nil
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	client := &mapClient{data: map[string][]byte{}}
	s := NewStore(client)

	_, ok, err := s.Load(ctx, "abc")
	require.NoError(t, err)
	assert.False(t, ok)

	want := Cursor{Stdout: Position{Time: 1_700_000_000_123_456_789, Count: 2}, Stderr: Position{Time: 1_700_000_000_000_000_002, Count: 1},
		Floor: 1_700_000_000_000_000_001}
	require.NoError(t, s.Save(ctx, "abc", want))
	assert.JSONEq(t, `{"v":2,"stdout":{"time":1700000000123456789,"count":2},"stderr":{"time":1700000000000000002,"count":1},"floor":1700000000000000001}`,
		string(client.data["cursor/abc"]))
	got, ok, err := s.Load(ctx, "abc")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, want, got)

	require.NoError(t, s.Delete(ctx, "abc"))
	_, ok, err = s.Load(ctx, "abc")
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, s.Close(ctx))
	assert.True(t, client.closed)
}

func TestStoreErrorsNameTheContainer(t *testing.T) {
	ctx := context.Background()
	client := &mapClient{data: map[string][]byte{"cursor/bad": []byte("{"), "cursor/v9": []byte(`{"v":9}`)}}
	s := NewStore(client)

	_, _, err := s.Load(ctx, "bad")
	assert.ErrorContains(t, err, "decode position of container bad: unexpected end of JSON input")
	_, _, err = s.Load(ctx, "v9")
	assert.EqualError(t, err, "decode position of container v9: unknown encoding version 9")

	client.err = errors.New("disk full")
	assert.EqualError(t, s.Save(ctx, "x", AtEnd(1)), "save position of container x: disk full")
	assert.EqualError(t, s.Delete(ctx, "x"), "delete position of container x: disk full")
	_, _, err = s.Load(ctx, "x")
	assert.EqualError(t, err, "load position of container x: disk full")
}

func TestStoreWithoutClientKeepsNothing(t *testing.T) {
	ctx := context.Background()
	s := NewStore(nil)
	require.NoError(t, s.Save(ctx, "a", AtEnd(5)))
	_, ok, err := s.Load(ctx, "a")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, s.Close(ctx))
}

func TestStoreKeepsAClockStep(t *testing.T) {
	ctx := context.Background()
	client := &mapClient{data: map[string][]byte{}}
	s := NewStore(client)
	want := AfterStep(100, 250)
	require.NoError(t, s.Save(ctx, "c", want))
	assert.JSONEq(t, `{"v":2,"stdout":{"time":100,"count":-1},"stderr":{"time":100,"count":-1},"floor":100,"stepped":250}`,
		string(client.data["cursor/c"]))
	got, ok, err := s.Load(ctx, "c")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, want, got, "a restart goes on skipping the lines stamped before the step")
}

func TestIndexFollowsSavesAndDeletes(t *testing.T) {
	ctx := context.Background()
	client := &mapClient{data: map[string][]byte{}}
	s := NewStore(client)
	require.NoError(t, s.LoadIndex(ctx))
	assert.Empty(t, s.IDs())
	require.NoError(t, s.Save(ctx, "b", AtEnd(1)))
	require.NoError(t, s.Save(ctx, "a", AtEnd(2)))
	require.NoError(t, s.Save(ctx, "a", AtEnd(3)))
	assert.JSONEq(t, `{"v":1,"ids":["a","b"]}`, string(client.data["cursor-index"]))
	require.NoError(t, s.Delete(ctx, "b"))
	require.NoError(t, s.Delete(ctx, "never-saved"))
	assert.JSONEq(t, `{"v":1,"ids":["a"]}`, string(client.data["cursor-index"]))
	assert.NotContains(t, client.data, "cursor/b")

	again := NewStore(client)
	require.NoError(t, again.LoadIndex(ctx))
	assert.Equal(t, []string{"a"}, again.IDs(), "a restarted receiver knows which positions exist")
	assert.Equal(t, 1, again.Len())
}

// TestIndexNeverMissesASavedPosition stops each batch halfway, as a crash would: what is left is at worst an
// index entry without a position, never a position the index does not name.
func TestIndexNeverMissesASavedPosition(t *testing.T) {
	ctx := context.Background()
	client := &mapClient{data: map[string][]byte{}, failAfter: 1}
	s := NewStore(client)
	require.Error(t, s.Save(ctx, "a", AtEnd(1)))
	assert.JSONEq(t, `{"v":1,"ids":["a"]}`, string(client.data["cursor-index"]))
	assert.NotContains(t, client.data, "cursor/a")

	client.failAfter = 0
	require.NoError(t, s.Save(ctx, "a", AtEnd(1)))
	client.failAfter = 1
	require.Error(t, s.Delete(ctx, "a"))
	assert.NotContains(t, client.data, "cursor/a")
	assert.JSONEq(t, `{"v":1,"ids":["a"]}`, string(client.data["cursor-index"]))
	assert.Equal(t, []string{"a"}, s.IDs(), "still named: a later prune deletes it again")
}

func TestLoadIndexesAPositionSavedBeforeTheIndex(t *testing.T) {
	ctx := context.Background()
	client := &mapClient{data: map[string][]byte{"cursor/old": []byte(`{"v":2,"stdout":{"time":5,"count":1},"stderr":{"time":0,"count":0}}`)}}
	s := NewStore(client)
	require.NoError(t, s.LoadIndex(ctx))
	_, ok, err := s.Load(ctx, "old")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []string{"old"}, s.IDs())
	assert.JSONEq(t, `{"v":1,"ids":["old"]}`, string(client.data["cursor-index"]))
}

func TestLoadIndexErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		stored, want string
	}{
		{"{", "decode the index of saved positions: unexpected end of JSON input"},
		{`{"v":7}`, "decode the index of saved positions: unknown encoding version 7"},
	} {
		s := NewStore(&mapClient{data: map[string][]byte{"cursor-index": []byte(tc.stored)}})
		assert.EqualError(t, s.LoadIndex(ctx), tc.want)
	}
	s := NewStore(&mapClient{data: map[string][]byte{}, err: errors.New("disk gone")})
	assert.EqualError(t, s.LoadIndex(ctx), "load the index of saved positions: disk gone")
}

func TestStoreWithoutClientIndexesNothing(t *testing.T) {
	ctx := context.Background()
	s := NewStore(nil)
	require.NoError(t, s.LoadIndex(ctx))
	require.NoError(t, s.Save(ctx, "a", AtEnd(5)))
	assert.Zero(t, s.Len(), "nothing is saved without a storage extension")
	require.NoError(t, s.Delete(ctx, "a"))
}

func TestStoreRefusesToMoveAPositionBack(t *testing.T) {
	ctx := context.Background()
	client := &mapClient{data: map[string][]byte{}}
	s := NewStore(client)
	older := Cursor{Stdout: Position{Time: 100, Count: 1}, Stderr: Position{Time: 90, Count: 1}}
	newer := Cursor{Stdout: Position{Time: 100, Count: 2}, Stderr: Position{Time: 90, Count: 1}, Ended: true}
	require.NoError(t, s.Save(ctx, "c", older))
	require.NoError(t, s.Save(ctx, "c", newer))
	require.ErrorIs(t, s.Save(ctx, "c", older), ErrBehind)
	got, _, err := s.Load(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, newer, got, "the newer position stays")

	same := newer
	same.Ended = false
	require.NoError(t, s.Save(ctx, "c", same), "the same positions with other flags (a start after the end) are saved")

	// A reset (a step back of the daemon's clock) replaces the cursor, though its positions are older.
	reset := AfterStep(50, 100).Replacing(same)
	require.NoError(t, s.Save(ctx, "c", reset))
	require.ErrorIs(t, s.Save(ctx, "c", same), ErrBehind, "the cursor before the reset is behind it")

	// What a new store loads counts as saved; a deleted position leaves nothing to be behind.
	s = NewStore(client)
	_, _, err = s.Load(ctx, "c")
	require.NoError(t, err)
	require.ErrorIs(t, s.Save(ctx, "c", newer), ErrBehind)
	require.NoError(t, s.Delete(ctx, "c"))
	require.NoError(t, s.Save(ctx, "c", older))
}
