package decode

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPerStreamKeepsEachOutputApart: stdout and stderr each have their own value, and Streams lists them in the
// order the array keeps them.
func TestPerStreamKeepsEachOutputApart(t *testing.T) {
	var p PerStream[int]
	*p.At(Stdout) += 1
	*p.At(Stderr) += 2
	assert.Equal(t, PerStream[int]{1, 2}, p)
	for i, s := range Streams {
		assert.Equal(t, p[i], *p.At(s), s.String())
	}
}
