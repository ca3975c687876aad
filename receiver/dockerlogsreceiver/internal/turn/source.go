package turn

import (
	"io"
	"sync/atomic"
)

// source is a stream's body that tells whether its reader has handed out all it read and waits for more.
type source struct {
	io.Reader
	waiting atomic.Bool
}

// Read reads from the body, noting the wait.
func (s *source) Read(p []byte) (int, error) {
	s.waiting.Store(true)
	n, err := s.Reader.Read(p)
	s.waiting.Store(false)
	return n, err
}

// caughtUp reports whether the reader waits for the daemon's next bytes: every line it read was sent on.
func (s *source) caughtUp() bool { return s.waiting.Load() }
