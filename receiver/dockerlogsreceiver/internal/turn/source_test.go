package turn

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunks is a body that hands out n bytes per read after wait, as a daemon's stream does.
type chunks struct {
	n    int
	wait time.Duration
}

func (c chunks) Read(p []byte) (int, error) {
	time.Sleep(c.wait)
	return copy(p, make([]byte, min(c.n, len(p)))), nil
}

// TestASourceLetsABusyStreamGatherBeforeItReadsAgain reads a body whose entries are already waiting a few KiB at a
// time: the next read pauses for more to gather; a body that fills the buffer, makes the reader wait, or hands out
// a line at a time does not pause.
func TestASourceLetsABusyStreamGatherBeforeItReadsAgain(t *testing.T) {
	buf := make([]byte, 64<<10)
	busy := &source{Reader: chunks{n: 4 << 10}}
	// A read served from waiting bytes returns within quickRead, unless the machine preempts it: try until one does.
	for i := 0; i < 1000 && !busy.busy; i++ {
		_, err := busy.Read(buf)
		require.NoError(t, err)
	}
	require.True(t, busy.busy, "a quick read of a few bytes marks the stream busy")
	start := time.Now()
	_, err := busy.Read(buf)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), gather, "the next read waits for more to gather")

	full := &source{Reader: chunks{n: len(buf)}}
	_, err = full.Read(buf)
	require.NoError(t, err)
	assert.False(t, full.busy, "a read that filled the buffer does not pause the next")

	waiting := &source{Reader: chunks{n: 4 << 10, wait: 5 * time.Millisecond}}
	_, err = waiting.Read(buf)
	require.NoError(t, err)
	assert.False(t, waiting.busy, "a read that waited for the daemon does not pause the next")

	quiet := &source{Reader: chunks{n: 100}}
	for range 100 {
		_, err = quiet.Read(buf)
		require.NoError(t, err)
		require.False(t, quiet.busy, "a line or two at a time is a quiet stream's pace, not a busy one's")
	}
}
