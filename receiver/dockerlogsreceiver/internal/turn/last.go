package turn

import (
	"context"
	"errors"
	"io"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// Entry is the newest entry of a container's log.
type Entry struct {
	Timestamp int64 // 0 when the log is empty
	// Unfinished says the entry is a piece of a line still being written: Timestamp is the line's first piece's.
	Unfinished bool
}

// LastEntry returns the newest entry in a container's log.
//
// It reads one entry from the end, which costs the daemon almost nothing whatever the log's size.
func LastEntry(ctx context.Context, open Opener, tty bool) (Entry, error) {
	body, err := open(ctx, docker.LogsRequest{Tail: 1})
	if err != nil {
		return Entry{}, err
	}
	defer body.Close()
	r := decode.NewReader(body, decode.Options{TTY: tty})
	l, err := r.Next()
	switch {
	case errors.Is(err, io.EOF):
		// The last entry may be a 16 KiB piece of a line not finished yet: its timestamp is the line's.
		ts, pending := r.PendingSince()
		return Entry{Timestamp: ts, Unfinished: pending}, nil
	case err != nil:
		return Entry{}, err
	}
	return Entry{Timestamp: l.Timestamp}, nil
}

// LastTimestamp returns the timestamp of the newest entry in a container's log, or 0 when the log is empty.
func LastTimestamp(ctx context.Context, open Opener, tty bool) (int64, error) {
	e, err := LastEntry(ctx, open, tty)
	return e.Timestamp, err
}

// newestSince returns the newest timestamp of the entries stamped at or after since (0 if none), reading them
// to the end of the log without following it.
func newestSince(ctx context.Context, open Opener, tty bool, since int64) (int64, error) {
	body, err := open(ctx, docker.LogsRequest{Since: since})
	if err != nil {
		return 0, err
	}
	defer body.Close()
	r := decode.NewReader(body, decode.Options{TTY: tty})
	var newest int64
	for {
		l, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return 0, err
			}
			ts, _ := r.PendingSince()
			return max(newest, ts), nil
		}
		newest = max(newest, l.Timestamp)
	}
}
