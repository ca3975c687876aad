package logstream

import (
	"bytes"
	"io"
)

// ttyPieceSize is the content size of every piece of a long line but the last. The daemon's log
// copier (moby daemon/logger/copier.go) reads container output into a 16 KiB buffer and, when the
// buffer fills up with no newline in it, logs the whole buffer as a partial entry; the entry
// after it carries the rest. The multiplexed stream gives each entry its own frame, but a TTY
// stream has no framing at all, so the end of a piece that is not the end of a line can only be
// found by counting: 16384 content bytes with no newline among them.
const ttyPieceSize = 16 * 1024

// minTTYBuffer is the smallest input buffer that holds a whole TTY entry: timestamp, space,
// a full piece and one byte more, so that reading on always has room.
const minTTYBuffer = maxTimestampLen + 1 + ttyPieceSize + 1

// On a TTY stream the daemon writes its in-band errors raw, as "Error grabbing logs: <err>\n"
// with no timestamp (moby api/server/httputils/write_log_stream.go).
const (
	ttyErrorWord   = "Error"
	ttyErrorPrefix = "Error grabbing logs: "
)

// nextTTY returns the next line of a TTY stream.
func (r *Reader) nextTTY() (Line, error) {
	a := &r.asm[Stdout-1]
	for {
		if r.emit != nil {
			if line, ok := r.fragment(); ok {
				return line, nil
			}
		}
		b := r.in.bytes()
		i := bytes.IndexByte(b[:min(len(b), maxTimestampLen+1)], ' ')
		if i < 0 {
			if len(b) > maxTimestampLen {
				return Line{}, malformed("log entry does not start with a timestamp and a space (timestamps=1 not requested?): %s", quote(b))
			}
			if err := r.in.fill(); err != nil {
				if b := r.in.bytes(); err == io.EOF && len(b) > 0 {
					return Line{}, truncated("TTY stream ends inside a timestamp: %s", quote(b))
				}
				return Line{}, err
			}
			continue
		}
		if string(b[:i]) == ttyErrorWord {
			return Line{}, r.ttyDaemonError()
		}
		ts, err := r.stamps.parse(b[:i])
		if err != nil {
			return Line{}, malformed("bad timestamp in log entry %s: %v", quote(b), err)
		}
		start := i + 1
		end := min(len(b), start+ttyPieceSize)
		j := bytes.IndexByte(b[start+r.scan:end], '\n')
		if j < 0 {
			if end-start == ttyPieceSize {
				// A full piece and no newline: the line goes on in the next entry.
				r.scan = 0
				a.begin(ts)
				a.add(b[start:end])
				a.entries++
				r.in.discard(end)
				r.emit = a
				continue
			}
			// Remember how far we looked, so that a slow source is not searched over and over.
			r.scan = end - start
			if err := r.in.fill(); err != nil {
				if err == io.EOF {
					return Line{}, truncated("TTY entry ends after %d content bytes with no newline: %s", r.scan, quote(r.in.bytes()))
				}
				return Line{}, err
			}
			continue
		}
		nl := start + r.scan + j
		r.scan = 0
		content := b[start:nl]
		r.in.discard(nl + 1)
		if !a.open {
			if body := trimCR(content); len(body) <= r.max {
				// The common case: a whole line in one entry, handed out from the input buffer.
				return Line{Stream: Stdout, Timestamp: ts, Body: body[:len(body):len(body)], Entries: 1}, nil
			}
		}
		a.begin(ts)
		a.add(content)
		a.entries++
		a.finish(true)
		r.emit = a
	}
}

// trimCR drops the "\r" that the terminal puts before each "\n".
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// ttyDaemonError reads an "Error grabbing logs: " line.
func (r *Reader) ttyDaemonError() error {
	for {
		b := r.in.bytes()
		end := bytes.IndexByte(b, '\n') + 1
		if end == 0 {
			if len(b) < len(r.in.buf) {
				err := r.in.fill()
				if err == nil {
					continue
				}
				if err != io.EOF {
					return err
				}
				b = r.in.bytes() // fill may have moved the bytes
			}
			end = len(b) // the message is all there will be
		}
		line := b[:end]
		if !bytes.HasPrefix(line, []byte(ttyErrorPrefix)) {
			return malformed("log entry does not start with a timestamp and a space (timestamps=1 not requested?): %s", quote(line))
		}
		r.in.discard(end)
		return &DaemonError{Message: string(bytes.TrimRight(line, "\r\n"))}
	}
}
