package turn

import (
	"context"
	"errors"
	"io"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// endLine is a line that a stream left without a newline when it ended, in the parts Finish returned it in.
type endLine struct {
	stream  decode.Stream
	ts      int64
	entries int
	parts   []endPart
}

// endPart is one Line of an endLine: a line longer than MaxLineBytes comes in several.
type endPart struct {
	body    string
	entries int
}

// appendEnd adds a Line from Finish to the lines it belongs to.
func appendEnd(ends []endLine, l decode.Line) []endLine {
	part := endPart{body: string(l.Body), entries: l.Entries}
	if n := len(ends); n > 0 && ends[n-1].stream == l.Stream && ends[n-1].ts == l.Timestamp && ends[n-1].entries == 0 {
		e := &ends[n-1]
		e.parts = append(e.parts, part)
		e.entries = l.Entries
		return ends
	}
	return append(ends, endLine{stream: l.Stream, ts: l.Timestamp, entries: l.Entries, parts: []endPart{part}})
}

// sameAs reports whether two lines are the same line, whatever the parts they came in.
func (e endLine) sameAs(o endLine) bool {
	if e.stream != o.stream || e.ts != o.ts || e.entries != o.entries {
		return false
	}
	var a, b []byte
	for _, p := range e.parts {
		a = append(a, p.body...)
	}
	for _, p := range o.parts {
		b = append(b, p.body...)
	}
	return string(a) == string(b)
}

// logEndsWith reports whether the container's log ends with exactly these unfinished lines: it reads the log's
// entries stamped from the first line's time on (since is inclusive, and every piece of a line carries its first
// piece's time), the last of them only, which costs the daemon little.
//
// The other output's entries can come between a line's pieces (the daemon logs each output in its own goroutine),
// so the lines' own entries are not enough of a tail: a tail that returned as many entries as it asked for may
// have cut the first line, and is grown until it returns fewer, which shows that it reached back past the since.
//
// On a TTY stream the since also keeps out an entry before the first line without a newline (the previous run's
// last write), which would be read with them as one line.
func logEndsWith(ctx context.Context, t *Spec, ends []endLine) bool {
	if len(ends) == 0 {
		return true
	}
	tail := 1
	for _, e := range ends {
		tail += e.entries
	}
	for {
		found, read, err := lastLines(ctx, t, docker.LogsRequest{Since: ends[0].ts, Tail: tail})
		if err != nil {
			return false
		}
		if tail > 0 && read >= tail {
			// Maybe cut: a longer tail, and past MaxTail every entry since.
			if tail == MaxTail {
				tail = 0
			} else {
				tail = min(tail*tailGrowth, MaxTail)
			}
			continue
		}
		if len(found) != len(ends) {
			return false
		}
		for i := range ends {
			if !ends[i].sameAs(found[i]) {
				return false
			}
		}
		return true
	}
}

// lastLines reads a log that does not follow and returns the lines it leaves without a newline, and how many
// entries it read.
func lastLines(ctx context.Context, t *Spec, req docker.LogsRequest) ([]endLine, int, error) {
	body, err := t.Open(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	defer body.Close()
	r := decode.NewReader(body, decode.Options{TTY: t.TTY, Driver: t.Driver, DaemonAPI: t.DaemonAPI, MaxLineBytes: t.MaxLineBytes})
	read := 0
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		read += l.Entries
	}
	var found []endLine
	for {
		l, ok := r.Finish()
		if !ok {
			break
		}
		read += l.Entries
		found = appendEnd(found, l)
	}
	return found, read, nil
}
