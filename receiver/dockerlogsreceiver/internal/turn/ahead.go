package turn

import (
	"io"
	"sync"
)

// aheadLimit is how far a pumping aheadReader reads ahead of its Reader when no question is in flight.
const aheadLimit = 256 << 10

// aheadReader is a follow stream that is read on while the turn asks the daemon about the log (storedPieces).
//
// Docker 20.10's json-file writer tells each follower of a rotation and waits until it was told, holding the log's
// lock; a follower that waits for its reader to take a line is not told, and a read of the log without following
// needs that lock. A reader that stopped reading its follow stream to wait for such a read would wait for ever,
// and the container's writes with it. So while a question is in flight, the stream is read into memory.
//
// It reads through until the first question; from then on a goroutine reads the stream, up to aheadLimit ahead
// while no question is in flight and without a bound while one is.
type aheadReader struct {
	body io.Reader

	mu      sync.Mutex
	cond    *sync.Cond
	pumping bool
	asking  int
	stopped bool
	buf     []byte
	err     error
}

func newAheadReader(body io.Reader) *aheadReader {
	a := &aheadReader{body: body}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// Read reads the stream, or what was read ahead of it.
func (a *aheadReader) Read(p []byte) (int, error) {
	a.mu.Lock()
	if !a.pumping {
		a.mu.Unlock()
		return a.body.Read(p)
	}
	defer a.mu.Unlock()
	for len(a.buf) == 0 && a.err == nil {
		a.cond.Wait()
	}
	if len(a.buf) > 0 {
		n := copy(p, a.buf)
		a.buf = a.buf[n:]
		a.cond.Broadcast()
		return n, nil
	}
	return 0, a.err
}

// asked marks a question in flight, and returns the function that marks it answered.
func (a *aheadReader) asked() (answered func()) {
	a.mu.Lock()
	a.asking++
	if !a.pumping {
		a.pumping = true
		go a.pump()
	}
	a.cond.Broadcast()
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		a.asking--
		a.mu.Unlock()
	}
}

// stop ends the pump once the stream's reader is gone; the stream itself is closed by its owner.
func (a *aheadReader) stop() {
	a.mu.Lock()
	a.stopped = true
	a.cond.Broadcast()
	a.mu.Unlock()
}

// pump reads the stream into buf until it fails or the reader stops.
func (a *aheadReader) pump() {
	chunk := make([]byte, 32<<10)
	for {
		a.mu.Lock()
		for len(a.buf) >= aheadLimit && a.asking == 0 && !a.stopped {
			a.cond.Wait()
		}
		stopped := a.stopped
		a.mu.Unlock()
		if stopped {
			return
		}
		n, err := a.body.Read(chunk)
		a.mu.Lock()
		a.buf = append(a.buf, chunk[:n]...)
		if err != nil {
			a.err = err
		}
		a.cond.Broadcast()
		a.mu.Unlock()
		if err != nil {
			return
		}
	}
}
