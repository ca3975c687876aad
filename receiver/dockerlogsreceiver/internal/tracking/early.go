package tracking

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/docker/docker/api/types/events"
	"io"
	"sync"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// A container that writes and exits at once can be removed (docker run --rm) a few milliseconds after its start
// event; once removal begins the daemon answers 409 or 404 for its log. A follow stream opened before that keeps
// reading the log to its end, removed or not. So the stream of a container first seen through its start event is
// opened the moment the event arrives, before the container is inspected or waits for a slot in the pool, and is
// parked until the container's first turn takes it.

// sniffWait bounds how long the first bytes of a parked stream of a removed container are waited for.
const sniffWait = 10 * time.Second

// earlyStream is the log stream of one new container, opened at its start event.
type earlyStream struct {
	req   docker.LogsRequest
	ready chan struct{} // closed once the open returned
	body  io.ReadCloser
	err   error
}

// earlyStreams are the streams opened at start events and not yet taken by a turn.
type earlyStreams struct {
	mu      sync.Mutex
	byID    map[string]*earlyStream
	created map[string]bool // containers whose create event was seen: their whole log is their own
	// deferred are the start events of containers that could not be tracked when they came (inspect or the
	// storage failed): one that ran briefly is in no list of running containers later, so it is tried again from
	// its event, and read from its parked stream once it is removed.
	deferred map[string]events.Message
	wg       sync.WaitGroup
}

// maxCreated bounds the containers remembered as created and not yet started or destroyed.
const maxCreated = 10000

func newEarlyStreams() *earlyStreams {
	return &earlyStreams{byID: map[string]*earlyStream{}, created: map[string]bool{}, deferred: map[string]events.Message{}}
}

// deferStart keeps the start event of a container that could not be tracked, to be tried again.
func (e *earlyStreams) deferStart(msg events.Message) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.deferred[msg.Actor.ID]; ok || len(e.deferred) < maxCreated {
		e.deferred[msg.Actor.ID] = msg
	}
}

// deferredStart returns the kept start event of the container, if any.
func (e *earlyStreams) deferredStart(id string) (events.Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	msg, ok := e.deferred[id]
	return msg, ok
}

// deferredStarts returns every kept start event.
func (e *earlyStreams) deferredStarts() []events.Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	msgs := make([]events.Message, 0, len(e.deferred))
	for _, msg := range e.deferred {
		msgs = append(msgs, msg)
	}
	return msgs
}

// settle forgets the kept start event of a container that is tracked now.
func (e *earlyStreams) settle(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.deferred, id)
}

// sawCreate remembers that the container was created while the receiver ran.
func (e *earlyStreams) sawCreate(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.created) < maxCreated {
		e.created[id] = true
	}
}

// wasCreated reports whether the container was created while the receiver ran.
func (e *earlyStreams) wasCreated(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.created[id]
}

// open starts opening the container's stream with req, unless one is parked already or limit are; it does not wait.
func (e *earlyStreams) open(ctx context.Context, id string, req docker.LogsRequest, limit int, logs func(context.Context, string, docker.LogsRequest) (io.ReadCloser, error)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.byID[id]; ok || len(e.byID) >= limit {
		return
	}
	s := &earlyStream{req: req, ready: make(chan struct{})}
	e.byID[id] = s
	e.wg.Go(func() {
		s.body, s.err = logs(ctx, id, req)
		close(s.ready)
	})
}

// serves reports whether the stream answers req: a follow stream without a tail from the same or an earlier
// time, whose earlier lines the turn's filter drops (checkpoint.Filter: a line before a cursor's Start is history).
func (s *earlyStream) serves(req docker.LogsRequest) bool {
	return s.req == req || req.Follow && req.Tail == 0 && s.req.Follow && s.req.Tail == 0 && s.req.Since <= req.Since
}

// parked reports whether a stream of the container was opened, or is being opened, and not yet taken.
func (e *earlyStreams) parked(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.byID[id] != nil
}

// take hands over the parked stream, or the error its open met, when it was opened for req; otherwise (false) the
// caller opens its own. A failed open is not tried again at once: a log request to a container being removed can
// make the daemon's removal fail (json-file creates the log file again: "directory not empty"), leaving it dead.
func (e *earlyStreams) take(ctx context.Context, id string, req docker.LogsRequest) (body io.ReadCloser, parked bool, err error) {
	e.mu.Lock()
	s := e.byID[id]
	if s == nil || !s.serves(req) {
		e.mu.Unlock()
		return nil, false, nil
	}
	delete(e.byID, id)
	e.mu.Unlock()
	select {
	case <-s.ready:
	case <-ctx.Done():
		go s.close()
		return nil, true, ctx.Err()
	}
	return s.body, true, s.err
}

// tty waits for the parked stream of a removed container and tells from its first bytes whether it is a TTY's.
func (e *earlyStreams) tty(ctx context.Context, id string) (bool, error) {
	e.mu.Lock()
	s := e.byID[id]
	e.mu.Unlock()
	if s == nil {
		return false, errors.New("no stream was opened at its start")
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if s.err != nil {
		return false, s.err
	}
	// Only the discovery goroutine, which tracks the container, uses the stream until a turn takes it.
	br := bufio.NewReader(s.body)
	first := make(chan error, 1)
	go func() {
		_, err := br.Peek(1)
		first <- err
	}()
	timer := time.NewTimer(sniffWait)
	defer timer.Stop()
	var err error
	select {
	case err = <-first:
	case <-timer.C:
		// The container is gone, so its stream ends with its log; one that does not is given up.
		s.body.Close()
		<-first
		return false, fmt.Errorf("its stream sent nothing and did not end within %v", sniffWait)
	}
	s.body = readCloser{Reader: br, Closer: s.body}
	if err != nil {
		// Empty: nothing to decode either way.
		return false, nil
	}
	b, _ := br.Peek(1)
	return streamIsTTY(b[0])
}

// streamIsTTY tells a TTY's log stream from a multiplexed one by its first byte. With timestamps, each entry of a
// TTY's stream starts with its RFC 3339 time, a digit; a multiplexed stream starts with a frame header, whose
// first byte is the stream: 1 (stdout), 2 (stderr) or 3 (an in-band error).
func streamIsTTY(first byte) (bool, error) {
	switch {
	case first >= '0' && first <= '9':
		return true, nil
	case first >= 1 && first <= 3:
		return false, nil
	}
	return false, fmt.Errorf("log stream starts with byte %#x, neither a frame header nor a timestamp", first)
}

// readCloser reads through a buffer that holds the bytes already peeked at and closes the stream under it.
type readCloser struct {
	io.Reader
	io.Closer
}

// discard closes and forgets the container's parked stream and kept start event, if any.
func (e *earlyStreams) discard(id string) {
	e.mu.Lock()
	s := e.byID[id]
	delete(e.byID, id)
	delete(e.created, id)
	delete(e.deferred, id)
	e.mu.Unlock()
	if s != nil {
		go s.close()
	}
}

// close closes the stream once its open returned.
func (s *earlyStream) close() {
	<-s.ready
	if s.body != nil {
		s.body.Close()
	}
}

// stop closes every parked stream and waits for the opens under way; the context they were opened with has ended.
func (e *earlyStreams) stop() {
	e.mu.Lock()
	parked := e.byID
	e.byID = map[string]*earlyStream{}
	e.mu.Unlock()
	e.wg.Wait()
	for _, s := range parked {
		s.close()
	}
}
