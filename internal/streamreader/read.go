package streamreader

import (
	"io"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/logstream"
)

// readLines parses the stream, drops lines delivered before, and sends the rest; it closes lines when done.
func readLines(body io.Reader, t *Turn, anchor int64, lines chan<- Line, result chan<- readResult) {
	defer close(lines)
	r := logstream.NewReader(body, logstream.Options{TTY: t.TTY, MaxLineBytes: t.MaxLineBytes})
	filter := checkpoint.NewFilter(t.Cursor)
	var res readResult
	first := true
	for {
		l, err := r.Next()
		if err != nil {
			res.err = err
			break
		}
		res.entries += l.Entries
		pendingSince, pending := r.PendingSince()
		if first && anchor != 0 && earliest(l.Timestamp, pendingSince, pending) != anchor {
			res.missed = true
			break
		}
		first = false
		if !filter.Keep(uint8(l.Stream), l.Timestamp) {
			res.dups++
			continue
		}
		line := Line{Stream: l.Stream, Timestamp: l.Timestamp, Body: string(l.Body)}
		if pending {
			line.unfinished = pendingSince
		}
		lines <- line
	}
	result <- res
}

// earliest is the first entry's timestamp: the line's own, or that of a line begun before it and not yet finished.
func earliest(ts, pendingSince int64, pending bool) int64 {
	if pending && pendingSince < ts {
		return pendingSince
	}
	return ts
}
