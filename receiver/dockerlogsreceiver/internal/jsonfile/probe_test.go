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
		want  []slot
	}{
		{"none", nil, nil},
		{"two", []string{".1", ".2"}, []slot{{n: 1}, {n: 2}}},
		{"a hole under way", []string{".1", ".3", ".4"}, []slot{{n: 1}, {n: 3}, {n: 4}}},
		{"two missing end it", []string{".1", ".4"}, []slot{{n: 1}}},
		{"rotation renamed .1 away", []string{".2", ".3"}, []slot{{n: 2}, {n: 3}}},
		{"compressed", []string{".1", ".2.gz", ".3.gz"}, []slot{{n: 1}, {n: 2, gz: true}, {n: 3, gz: true}}},
		{"being compressed: the plain file", []string{".1", ".1.gz", ".2.gz"}, []slot{{n: 1}, {n: 2, gz: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c-json.log")
			require.NoError(t, os.WriteFile(path, nil, 0o640))
			for _, f := range tc.files {
				require.NoError(t, os.WriteFile(path+f, nil, 0o640))
			}
			got, err := probeRotated(path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			if listed, err := rotated(path); err == nil && !slices.Contains(tc.files, ".4") {
				assert.Equal(t, listed, got, "the same as the listing when no file lies past two missing numbers")
			}
		})
	}
}
