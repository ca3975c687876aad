package checkpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWatchingSinceIsTheFirstRunsStart(t *testing.T) {
	st := NewStore(&mapClient{data: map[string][]byte{}})
	since, err := st.WatchingSince(t.Context(), 100)
	require.NoError(t, err)
	assert.Equal(t, int64(100), since, "the first run")
	since, err = NewStore(st.client).WatchingSince(t.Context(), 500)
	require.NoError(t, err)
	assert.Equal(t, int64(100), since, "a later run keeps the first one's start")

	since, err = NewStore(nil).WatchingSince(t.Context(), 700)
	require.NoError(t, err)
	assert.Equal(t, int64(700), since, "without storage every start is a first")
}
