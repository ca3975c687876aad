package streamreader

import (
	"context"
	"errors"
	"io"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/logstream"
)

// LastTimestamp returns the timestamp of the newest entry in a container's log, or 0 when the log is empty.
//
// It reads one entry from the end, which costs the daemon almost nothing whatever the log's size.
func LastTimestamp(ctx context.Context, open Opener, tty bool) (int64, error) {
	body, err := open(ctx, docker.LogsRequest{Tail: 1})
	if err != nil {
		return 0, err
	}
	defer body.Close()
	r := logstream.NewReader(body, logstream.Options{TTY: tty})
	l, err := r.Next()
	switch {
	case errors.Is(err, io.EOF):
		// The last entry may be a 16 KiB piece of a line not finished yet: its timestamp is the line's.
		ts, _ := r.PendingSince()
		return ts, nil
	case err != nil:
		return 0, err
	}
	return l.Timestamp, nil
}
