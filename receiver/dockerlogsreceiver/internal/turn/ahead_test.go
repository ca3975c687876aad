package turn

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAheadReaderReadsOnWhileAsking writes more than aheadLimit to a stream nobody reads while a question is in
// flight: the writer is not kept waiting, and the reader then gets every byte in order.
func TestAheadReaderReadsOnWhileAsking(t *testing.T) {
	pr, pw := io.Pipe()
	a := newAheadReader(pr)
	want := bytes.Repeat([]byte("0123456789abcdef"), 4*aheadLimit/16)
	answered := a.asked()
	written := make(chan error, 1)
	go func() {
		_, err := pw.Write(want)
		written <- err
	}()
	select {
	case err := <-written:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the writer waited for the reader while a question was in flight")
	}
	answered()
	require.NoError(t, pw.Close())
	got, err := io.ReadAll(a)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "every byte once, in order")
	a.stop()
}

// TestAheadReaderStopsPumpingWhenStopped leaves a pump waiting, ahead by aheadLimit, with no question in flight:
// stop ends it (goleak checks).
func TestAheadReaderStopsPumpingWhenStopped(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	a := newAheadReader(pr)
	a.asked()()
	go func() { _, _ = pw.Write(make([]byte, 2*aheadLimit)) }()
	buf := make([]byte, 10)
	n, err := a.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	a.stop()
}
