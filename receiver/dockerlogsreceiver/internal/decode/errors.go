package decode

import (
	"errors"
	"fmt"
	"io"
)

var (
	// ErrTruncated reports a stream that ended inside a frame header, a frame payload or a TTY
	// entry; it wraps io.ErrUnexpectedEOF.
	ErrTruncated = fmt.Errorf("docker log stream cut short (%w)", io.ErrUnexpectedEOF)

	// ErrMalformed reports bytes that are not a Docker log stream requested with timestamps=1.
	ErrMalformed = errors.New("malformed docker log stream")

	// ErrResent reports a json-file TTY stream in which an entry ran longer than the driver stores one: the daemon
	// sent part of its log again right after a piece of a line (Docker 20.10's follower after a rotation), and the
	// line cannot be told from what was sent again. A stream read again from before the line reads it whole.
	ErrResent = errors.New("docker sent part of a json-file log again inside a line")
)

// DaemonError is an error message the daemon wrote into the log stream itself (frame stream 3,
// or an "Error grabbing logs: ..." line on a TTY stream) after it had already answered 200 OK.
type DaemonError struct {
	Message string
}

// Error says that the message came from the daemon.
func (e *DaemonError) Error() string {
	return "docker daemon error in log stream: " + e.Message
}

// streamError is an ErrTruncated or ErrMalformed with the detail of what was wrong.
//
// The detail gives lengths and stream offsets, never the bytes: they are the container's output, which the
// collector's own log must not carry (it may hold secrets, and it is retried and logged again and again).
type streamError struct {
	kind   error
	detail string
}

func (e *streamError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *streamError) Unwrap() error { return e.kind }

func truncated(format string, args ...any) error {
	return &streamError{kind: ErrTruncated, detail: fmt.Sprintf(format, args...)}
}

func resent(format string, args ...any) error {
	return &streamError{kind: ErrResent, detail: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) error {
	return &streamError{kind: ErrMalformed, detail: fmt.Sprintf(format, args...)}
}
