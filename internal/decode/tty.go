package decode

import (
	"bytes"
	"io"
)

// minTTYBuffer is the smallest input buffer for a TTY stream: a timestamp, and room to keep one back while
// the content before it moves on to the line being assembled.
const minTTYBuffer = 4 * (maxTimestampLen + 1)

// On a TTY stream the daemon writes its in-band errors raw, as "Error grabbing logs: <err>\n"
// with no timestamp (moby api/server/httputils/write_log_stream.go).
const (
	ttyErrorWord   = "Error"
	ttyErrorPrefix = "Error grabbing logs: "
)

// ttyEntry is the TTY entry whose content is being read.
//
// A TTY stream has no framing: an entry's content runs to its newline, after which the daemon writes the next
// entry's timestamp. The daemon leaves the newline out of every piece of a long line but the last (pieces are as
// large as the logging driver's buffer: 16 KiB for json-file's copier, more with dual logging and other drivers),
// each piece stamped with the first piece's time, so a piece ends where the timestamp it was stamped with
// appears again, followed by a space. Content cannot hold that timestamp: it is the nanosecond the daemon
// captured the content, which the program could not know when it wrote it.
//
// Any other timestamp inside the content is text, whatever its time: the content is the container's, and letting
// it end an entry would let the container choose the timestamp, and so the position, of what follows. The one
// entry without a newline that another timestamp follows is the last write of a run (json-file keeps it as it is),
// followed by the next run's first entry: the two are read as one line, stamped with the first (Reader.Finish
// ends such a write when the stream ends with it).
type ttyEntry struct {
	in    bool   // the timestamp was read, the content is being searched for its end
	ts    int64  // the entry's timestamp
	stamp []byte // the timestamp as written
}

// nextTTY returns the next line of a TTY stream.
func (r *Reader) nextTTY() (Line, error) {
	a := &r.asm[Stdout-1]
	for {
		if r.emit != nil {
			if line, ok := r.fragment(); ok {
				return line, nil
			}
		}
		if !r.entry.in {
			if err := r.ttyStamp(a); err != nil {
				return Line{}, err
			}
			continue
		}
		line, ok, err := r.ttyContent(a)
		if ok || err != nil {
			return line, err
		}
	}
}

// ttyStamp reads the timestamp that starts an entry.
func (r *Reader) ttyStamp(a *assembly) error {
	b := r.in.bytes()
	i := bytes.IndexByte(b[:min(len(b), maxTimestampLen+1)], ' ')
	if i < 0 {
		if len(b) > maxTimestampLen {
			return r.badTTYEntry("TTY entry at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", r.in.off)
		}
		if err := r.in.fill(); err != nil {
			if n := r.in.buffered(); err == io.EOF && n > 0 {
				return truncated("TTY stream ends inside a timestamp (%d bytes at offset %d)", n, r.in.off)
			}
			return err
		}
		return nil
	}
	if string(b[:i]) == ttyErrorWord {
		return r.ttyDaemonError()
	}
	ts, err := r.stamps.parse(b[:i])
	if err != nil {
		// err is not wrapped: time.Parse's error quotes its input.
		return r.badTTYEntry("TTY entry at offset %d has a bad timestamp of %d bytes", r.in.off, i)
	}
	if a.endsUnterminated(ts) {
		r.emit = a
		return nil
	}
	a.begin(ts)
	r.entry = ttyEntry{in: true, ts: ts, stamp: append(r.entry.stamp[:0], b[:i]...)}
	r.in.discard(i + 1)
	r.scan = 0
	return nil
}

// ttyContent reads the content of the current entry; ok says that line is a whole line to return.
func (r *Reader) ttyContent(a *assembly) (line Line, ok bool, err error) {
	b := r.in.bytes()
	nl := bytes.IndexByte(b[r.scan:], '\n')
	end := len(b)
	if nl >= 0 {
		nl += r.scan
		end = nl
	}
	if at, found := r.nextPiece(b[:end]); found {
		// The entry is a piece of a longer line: the next piece follows, stamped alike.
		a.add(b[:at])
		a.entries++
		r.in.discard(at)
		r.entry.in = false
		r.emit = a
		return Line{}, false, nil
	}
	if nl >= 0 {
		content := b[:nl]
		r.in.discard(nl + 1)
		r.entry.in = false
		if a.entries == 0 && len(a.buf) == 0 {
			if body := trimCR(content); len(body) <= r.max {
				// The common case: a whole line in one entry, handed out from the input buffer.
				a.open = false
				return Line{Stream: Stdout, Timestamp: r.entry.ts, Body: body[:len(body):len(body)], Entries: 1}, true, nil
			}
		}
		a.add(content)
		a.entries++
		a.finish(true)
		r.emit = a
		return Line{}, false, nil
	}
	// The entry goes on past what is buffered. Past half the buffer its content moves on to the line, but for
	// the bytes a timestamp split by the buffer's end could start in.
	r.scan = len(b)
	if keep := len(r.entry.stamp) + 1; len(b) >= len(r.in.buf)/2 && len(b) > keep {
		n := len(b) - keep
		a.add(b[:n])
		r.in.discard(n)
		r.scan = keep
		r.emit = a
	}
	if err := r.in.fill(); err != nil {
		if err != io.EOF {
			return Line{}, false, err
		}
		// The stream ended inside the entry: the line stays pending (see Finish).
		a.add(r.in.bytes())
		a.entries++
		r.in.discard(r.in.buffered())
		r.entry.in, r.scan = false, 0
		return Line{}, false, io.EOF
	}
	return Line{}, false, nil
}

// nextPiece finds, in the content b of the current entry, where the line's next piece starts: the entry's own
// timestamp followed by a space.
func (r *Reader) nextPiece(b []byte) (int, bool) {
	stamp := r.entry.stamp
	// A match may start in the last len(stamp) bytes searched before and end in the bytes added since.
	from := max(0, r.scan-len(stamp))
	for {
		m := bytes.Index(b[from:], stamp)
		if m < 0 {
			return 0, false
		}
		m += from
		if m+len(stamp) < len(b) && b[m+len(stamp)] == ' ' {
			return m, true
		}
		from = m + 1
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
			return r.badTTYEntry("TTY entry of %d bytes at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", len(line), r.in.off)
		}
		r.in.discard(end)
		return &DaemonError{Message: string(bytes.TrimRight(line, "\r\n"))}
	}
}
