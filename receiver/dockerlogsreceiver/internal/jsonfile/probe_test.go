package jsonfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProbeRotatedFindsTheFilesByName is the listing a collector that may not read the log's directory gets: the
// names json-file writes, looked up one by one, across the one-number hole a rotation under way leaves.
func TestProbeRotatedFindsTheFilesByName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  []int
		err   error
	}{
		{"none", nil, nil, nil},
		{"two", []string{".1", ".2"}, []int{1, 2}, nil},
		{"a hole under way", []string{".1", ".3", ".4"}, []int{1, 3, 4}, nil},
		{"two missing end it", []string{".1", ".4"}, []int{1}, nil},
		{"rotation renamed .1 away", []string{".2", ".3"}, []int{2, 3}, nil},
		{"compressed", []string{".1", ".2.gz"}, nil, ErrCompressed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c-json.log")
			require.NoError(t, os.WriteFile(path, nil, 0o640))
			for _, f := range tc.files {
				require.NoError(t, os.WriteFile(path+f, nil, 0o640))
			}
			got, err := probeRotated(path)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			if listed, err := rotated(path); err == nil && !slices.Contains(tc.files, ".4") {
				assert.Equal(t, listed, got, "the same as the listing when no file lies past two missing numbers")
			}
		})
	}
}
