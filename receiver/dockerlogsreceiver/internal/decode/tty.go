package decode

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"time"
)

// minTTYBuffer is the smallest input buffer for a TTY stream: a timestamp, and room to keep one back while
// the content before it moves on to the line being assembled.
const minTTYBuffer = 4 * (maxTimestampLen + 1)

// localPiece is the size of the pieces the daemon's copier cuts a long line into for the local driver (moby
// daemon/logger/copier.go: the driver sets no buffer size of its own, so the default of 16 KiB applies).
const localPiece = 16 << 10

// localPieceSpan is how far into a later piece of a line the local driver cut the next entry's timestamp and its
// space can end: the piece holds at most localPiece bytes.
const localPieceSpan = localPiece + fixedUTCLen + 1

// minLocalTTYBuffer holds a piece's span whole while less than half the buffer is filled, so that its content is
// still in the buffer when the span is searched for the next entry's timestamp.
const minLocalTTYBuffer = 2 * (localPieceSpan + 1)

// On a TTY stream the daemon writes its in-band errors raw, as "Error grabbing logs: <err>\n"
// with no timestamp (moby api/server/httputils/write_log_stream.go).
const (
	ttyErrorWord   = "Error"
	ttyErrorPrefix = "Error grabbing logs: "
)

// bareLastPiece tells whether a daemon speaking Engine API version api at most gives the last piece of a long line
// back without its newline with the local driver: Docker 20.10 (API 1.41) and older do; 23.0 (API 1.42) added the
// newline (moby daemon/logger/local/read.go).
func bareLastPiece(api string) bool {
	major, minor, ok := strings.Cut(api, ".")
	if !ok {
		return false
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	return err1 == nil && err2 == nil && (ma < 1 || ma == 1 && mi <= 41)
}

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
//
// The local driver of Docker 20.10 (bareLastPiece) also gives the last piece of a long line back without its
// newline, so there the next entry's timestamp follows it directly. What the daemon's structure proves bounds where
// that can be: every piece but the last is exactly localPiece bytes (the copier cuts only when its buffer is full)
// and the last is shorter (its newline, dropped, took a byte of the buffer), so the next entry's timestamp starts
// within localPiece bytes of the last piece's start, before any newline; it is not earlier than the line's own time
// and not later than the time it is read. Of the timestamps in that span the earliest, never later than the
// daemon's own, ends the piece (lastPieceEnd): content can end it early only with a timestamp from the line's time
// to the next entry's, so no position moves past a timestamp the daemon wrote. Where the log ends in the span
// (Reader.Finish), the time read bounds it, and every later entry is stamped after that.
type ttyEntry struct {
	in    bool   // the timestamp was read, the content is being searched for its end
	last  bool   // local driver: a later piece of a cut line, which may end at the next entry's timestamp
	ts    int64  // the entry's timestamp
	stamp []byte // the timestamp as written
	// later: the entry is a later piece of the open line, which may be one the daemon sent again (keepPiece).
	later bool
	// moved: part of the content moved on to the line before its end was found, so the piece cannot be dropped;
	// sum is the checksum of that part, length its bytes and fffd the U+FFFD among them.
	moved  bool
	sum    uint32
	length int
	fffd   int
}

// ttySplitter cuts a TTY stream, which has no framing, into entries at the timestamps the daemon wrote, so that
// where a piece or a line ends is decided in one place (see ttyEntry).
type ttySplitter struct {
	*lines
	local   bool             // the local driver, whose last piece of a long line has no newline
	bounded bool             // json-file, whose entries hold at most jsonPiece bytes as written (resent)
	now     func() time.Time // with local: the time bytes are read
	scan    int              // bytes of the current entry's content already searched for its end
	entry   ttyEntry         // the entry being read
	// draining: Finish reads the entries buffered after a piece the log ended in the span of (finishTTY).
	draining bool
}

// inSpan reports whether the entry being read is a later piece of a line the local driver cut, whose end is searched
// for in its span.
func (t *ttySplitter) inSpan() bool { return t.entry.in && t.entry.last }

// next returns the next line of a TTY stream.
func (t *ttySplitter) next() (Line, error) {
	a := &t.asm[Stdout-1]
	for {
		if t.emit != nil {
			if line, ok := t.fragment(); ok {
				return line, nil
			}
		}
		if !t.entry.in {
			if err := t.stamp(a); err != nil {
				return Line{}, err
			}
			continue
		}
		line, ok, err := t.content(a)
		if ok || err != nil {
			return line, err
		}
	}
}

// stamp reads the timestamp that starts an entry.
func (t *ttySplitter) stamp(a *assembly) error {
	b := t.in.bytes()
	i := bytes.IndexByte(b[:min(len(b), maxTimestampLen+1)], ' ')
	if i < 0 {
		if len(b) > maxTimestampLen {
			return t.bad.ttyEntry(t.in.off, "TTY entry at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", t.in.off)
		}
		if err := t.in.fill(); err != nil {
			if n := t.in.buffered(); err == io.EOF && n > 0 {
				return truncated("TTY stream ends inside a timestamp (%d bytes at offset %d)", n, t.in.off)
			}
			return err
		}
		return nil
	}
	if string(b[:i]) == ttyErrorWord {
		return t.daemonError()
	}
	ts, err := t.stamps.parse(b[:i])
	if err != nil {
		// err is not wrapped: time.Parse's error quotes its input.
		return t.bad.ttyEntry(t.in.off, "TTY entry at offset %d has a bad timestamp of %d bytes", t.in.off, i)
	}
	if a.endsUnterminated(ts) {
		t.emit = a
		return nil
	}
	later := a.open && !a.done && a.ts == ts
	a.begin(ts)
	t.entry = ttyEntry{in: true, last: t.local && later, later: later, ts: ts, stamp: append(t.entry.stamp[:0], b[:i]...)}
	t.in.discard(i + 1)
	t.scan = 0
	return nil
}

// content reads the content of the current entry; ok says that line is a whole line to return.
func (t *ttySplitter) content(a *assembly) (line Line, ok bool, err error) {
	b := t.in.bytes()
	nl := bytes.IndexByte(b[t.scan:], '\n')
	end := len(b)
	if nl >= 0 {
		nl += t.scan
		end = nl
	}
	if at, found := t.nextPiece(b[:end]); found {
		if err := t.resent(b[:at]); err != nil {
			return Line{}, false, err
		}
		t.pieceEnds(a, b[:at])
		return Line{}, false, nil
	}
	// The span the piece can end in is buffered (within half the buffer, so none of it moved on yet).
	if t.entry.last && (nl >= 0 || len(b) >= localPieceSpan) && t.endLastPiece(a, b[:end]) {
		return Line{}, false, nil
	}
	if nl < 0 {
		return Line{}, false, t.readOn(a, b)
	}
	content := b[:nl]
	if err := t.resent(content); err != nil {
		return Line{}, false, err
	}
	t.in.discard(nl + 1)
	t.entry.in = false
	if !t.piece(a, content) {
		return Line{}, false, nil
	}
	if a.entries == 1 && len(a.buf) == 0 {
		if body := trimCR(content); len(body) <= t.max {
			// The common case: a whole line in one entry, handed out from the input buffer.
			a.open = false
			return Line{Stream: Stdout, Timestamp: t.entry.ts, Body: body[:len(body):len(body)], Entries: 1}, true, nil
		}
	}
	a.add(content)
	a.finish(true)
	t.emit = a
	return Line{}, false, nil
}

// pieceEnds takes the entry's content, which ends where the line's next piece starts, stamped alike: with local, a
// piece before it is exactly localPiece bytes, and after a shorter one the line ended and the next entry has its
// nanosecond.
func (t *ttySplitter) pieceEnds(a *assembly, content []byte) {
	if t.piece(a, content) {
		a.add(content)
		if t.entry.last && len(content) != localPiece {
			a.finish(false)
		}
		t.emit = a
	}
	t.in.discard(len(content))
	t.entry.in = false
}

// readOn reads more of an entry that goes on past what is buffered, b: past half the buffer its content moves on to
// the line, but for the bytes a timestamp split by the buffer's end could start in.
func (t *ttySplitter) readOn(a *assembly, b []byte) error {
	t.scan = len(b)
	keep := len(t.entry.stamp) + 1
	if len(b) > keep {
		// Neither the entry's end nor its next piece's stamp is in b: its content holds all but the last bytes.
		if err := t.resent(b[:len(b)-keep]); err != nil {
			return err
		}
	}
	if len(b) >= len(t.in.buf)/2 && len(b) > keep {
		n := len(b) - keep
		if t.bounded {
			// Bytes past jsonPiece may be the daemon's next entry, until the entry's end shows where it is.
			n = min(n, jsonPiece-t.entry.length)
			if n > 0 {
				n = cutPoint(b, n)
			}
		}
		if n > 0 {
			t.entry.moved = true
			t.entry.sum = crc32.Update(t.entry.sum, crc32.IEEETable, b[:n])
			t.entry.length += n
			t.entry.fffd += countFFFD(b[:n])
			a.add(b[:n])
			t.in.discard(n)
			t.scan = len(b) - n
			t.emit = a
		}
	}
	err := t.in.fill()
	if err != io.EOF {
		return err
	}
	if t.entry.last {
		// The stream ended in the piece's span: the next entry may be yet to come, unless the log ends here
		// (Finish). The bytes stay buffered, to be read again or ended by Finish.
		return io.EOF
	}
	// The stream ended inside the entry: the line stays pending (see Finish). In a log read to its end without
	// following, that is the entry's whole content (StoredPieces).
	t.repeats.note(Stdout, t.entry.ts, crc32.Update(t.entry.sum, crc32.IEEETable, t.in.bytes()))
	a.add(t.in.bytes())
	a.entries++
	t.in.discard(t.in.buffered())
	t.entry.in, t.scan = false, 0
	return io.EOF
}

// resent ends a json-file TTY stream whose current entry, with rest, runs longer than the driver stores an entry.
//
// A TTY stream marks an entry's end only by the next entry's timestamp, which content can hold too, so the reader
// ends a piece without a newline only at its own timestamp (see ttyEntry). Docker 20.10's follower, at its first end
// of a json-file file after a rotation, sends the file again from its start (keepPiece): when that end came after a
// piece without a newline, the file's first entries follow the piece directly, with older timestamps, and are read
// as its content. The driver stores at most jsonPiece bytes in an entry (pieceBound), which content cannot change,
// so an entry that runs longer holds the daemon's next entry: the stream ends there (ErrResent), and a stream opened
// again before the line reads it whole. Missed: a resend shorter than twice the U+FFFD the piece holds as content.
func (t *ttySplitter) resent(rest []byte) error {
	if !t.bounded || !overlong(t.entry.length, t.entry.fffd, rest) {
		return nil
	}
	return resent("TTY entry at offset %d runs past %d bytes, more than json-file stores in one", t.in.off, t.entry.length+len(rest))
}

// piece notes the piece of the current entry whose content ends with rest, and reports whether the line keeps
// it: a later piece may be one the daemon sent again (keepPiece), unless part of it moved on to the line already.
// A piece kept is counted in the line's entries.
func (t *ttySplitter) piece(a *assembly, rest []byte) bool {
	sum := crc32.Update(t.entry.sum, crc32.IEEETable, rest)
	t.repeats.note(Stdout, t.entry.ts, sum)
	if t.entry.later && !t.entry.moved && !t.repeats.keepPiece(a, sum) {
		return false
	}
	a.consumed(sum)
	return true
}

// nextPiece finds, in the content b of the current entry, where the line's next piece starts: the entry's own
// timestamp followed by a space.
func (t *ttySplitter) nextPiece(b []byte) (int, bool) {
	stamp := t.entry.stamp
	// A match may start in the last len(stamp) bytes searched before and end in the bytes added since.
	from := max(0, t.scan-len(stamp))
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

// endLastPiece decides where the later piece whose content starts b ends, b holding all of the piece's span there
// is: at the next entry's timestamp, ending the line, or, with none in the span, as json-file's (it reports false).
func (t *ttySplitter) endLastPiece(a *assembly, b []byte) bool {
	t.entry.last = false
	at, found := t.lastPieceEnd(b[:min(len(b), localPieceSpan)])
	if !found {
		return false
	}
	a.add(b[:at])
	a.entries++
	a.finish(false)
	t.in.discard(at)
	t.entry.in = false
	t.emit = a
	return true
}

// lastPieceEnd finds, in the span b of a later piece of a line the local driver cut, where the next entry starts:
// the earliest of the daemon-form timestamps followed by a space that start within localPiece bytes, are not
// earlier than the line's time and not later than now (see ttyEntry). The next entry's own timestamp is among them,
// so the one chosen is never later than it; of equal ones the last is taken, as content before the next entry
// could hold its timestamp only by foretelling the nanosecond the daemon captures it at.
func (t *ttySplitter) lastPieceEnd(b []byte) (int, bool) {
	now := t.now().UnixNano()
	at, best, found := 0, int64(0), false
	for from := 0; ; {
		m := bytes.Index(b[from:], []byte("Z "))
		if m < 0 {
			return at, found
		}
		m += from
		from = m + 1
		i := m + 1 - fixedUTCLen
		if i < 0 || i > localPiece {
			continue
		}
		sec, nsec, ok := parseFixed(b[i : m+1])
		if !ok {
			continue
		}
		ts, err := unixNano(sec, nsec)
		if err != nil || ts < t.entry.ts || ts > now || (found && ts > best) {
			continue
		}
		at, best, found = i, ts, true
	}
}

// trimCR drops the "\r" that the terminal puts before each "\n".
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// daemonError reads an "Error grabbing logs: " line.
func (t *ttySplitter) daemonError() error {
	for {
		b := t.in.bytes()
		end := bytes.IndexByte(b, '\n') + 1
		if end == 0 {
			if len(b) < len(t.in.buf) {
				err := t.in.fill()
				if err == nil {
					continue
				}
				if err != io.EOF {
					return err
				}
				b = t.in.bytes() // fill may have moved the bytes
			}
			end = len(b) // the message is all there will be
		}
		line := b[:end]
		if !bytes.HasPrefix(line, []byte(ttyErrorPrefix)) {
			return t.bad.ttyEntry(t.in.off, "TTY entry of %d bytes at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", len(line), t.in.off)
		}
		t.in.discard(end)
		return &DaemonError{Message: string(bytes.TrimRight(line, "\r\n"))}
	}
}

// finishTTY reads on, when the log ended in the span of a later piece of a line the local driver cut, the entries
// buffered after it: it reports a Line, or false when nothing is left to read but pending lines.
func (r *Reader) finishTTY() (Line, bool) {
	r.terminal.draining = true
	for r.err == nil {
		if r.terminal.inSpan() {
			// What the span holds is all there is. With no entry starting in it, Next moves the bytes to the line,
			// as json-file's.
			r.terminal.endLastPiece(&r.asm[Stdout-1], r.in.bytes())
		}
		line, err := r.Next()
		if err == nil {
			return line, true
		}
		if !errors.Is(err, io.EOF) || !r.terminal.inSpan() {
			break
		}
	}
	r.terminal.draining, r.terminal.entry.last = false, false
	return Line{}, false
}
