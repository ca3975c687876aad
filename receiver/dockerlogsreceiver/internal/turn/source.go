package turn

import (
	"io"
	"sync/atomic"
	"time"
)

// gather is how long a reader that found the daemon's bytes already waiting, fewer than fill its buffer, lets more
// arrive before it reads again: a busy stream comes as one small chunk per entry, and reading each as it lands cost a
// read(2) and a wake-up per few lines (B1). A stream whose reads wait for the daemon never pauses.
const gather = time.Millisecond

// quickRead is the time within which a read that returned was served from bytes already waiting.
const quickRead = 100 * time.Microsecond

// gatherFrom is the least a quick read must have returned for the stream to count as busy: a quiet container's
// line or two come alone, and pausing after them would only cost it a timer.
const gatherFrom = 2 << 10

// source is a stream's body that tells whether its reader has handed out all it read and waits for more.
type source struct {
	io.Reader
	waiting atomic.Bool
	// busy: the last read found several entries waiting and did not fill the buffer, so the next one lets more gather
	// first.
	busy bool
}

// Read reads from the body, noting the wait.
func (s *source) Read(p []byte) (int, error) {
	if s.busy {
		// Not noted as a wait: the daemon's next bytes may already be here, so the reader has not caught up.
		time.Sleep(gather)
	}
	s.waiting.Store(true)
	start := time.Now()
	n, err := s.Reader.Read(p)
	s.waiting.Store(false)
	s.busy = err == nil && n >= gatherFrom && n < len(p)/2 && time.Since(start) < quickRead
	return n, err
}

// caughtUp reports whether the reader waits for the daemon's next bytes: every line it read was sent on.
func (s *source) caughtUp() bool { return s.waiting.Load() }
