package tracking

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestARemovalIsCountedOnceWhicheverPathSeesItFirst(t *testing.T) {
	var c countedRemovals
	assert.True(t, c.first("a"))
	assert.False(t, c.first("a"), "the second path to see the removal")
	assert.True(t, c.first("b"))
	for i := range maxCountedRemovals {
		c.first(fmt.Sprint(i))
	}
	assert.Len(t, c.order, maxCountedRemovals, "bounded")
	assert.Len(t, c.seen, maxCountedRemovals)
	assert.True(t, c.first("a"), "forgotten once it is the oldest of the bound")
}
