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
// last entries, as many as the lines hold and one more, without following, which costs the daemon little.
//
// On a TTY stream only those stamped from the first line's time on are read: an entry before it without a newline
// (the previous run's last write) would be read with them as one line.
func logEndsWith(ctx context.Context, t *Spec, ends []endLine) bool {
	tail := 1
	for _, e := range ends {
		tail += e.entries
	}
	req := docker.LogsRequest{Tail: tail}
	if t.TTY && len(ends) > 0 {
		req.Since = ends[0].ts
	}
	body, err := t.Open(ctx, req)
	if err != nil {
		return false
	}
	defer body.Close()
	r := decode.NewReader(body, decode.Options{TTY: t.TTY, Driver: t.Driver, DaemonAPI: t.DaemonAPI, MaxLineBytes: t.MaxLineBytes})
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false
		}
	}
	var found []endLine
	for {
		l, ok := r.Finish()
		if !ok {
			break
		}
		found = appendEnd(found, l)
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
