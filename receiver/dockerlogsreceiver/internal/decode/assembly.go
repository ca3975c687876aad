package decode

import (
	"hash/crc32"
	"unicode/utf8"
)

// keepBytes is how many bytes of an unfinished line are held back from fragments: a TTY line's
// "\r" can end one piece while its "\n" starts the next, and must still be there to be stripped.
const keepBytes = 1

// shrinkAbove is the capacity above which a buffer is dropped once its line is done, so that one
// huge line does not pin its memory for the life of the stream.
const shrinkAbove = 256 << 10

// assembly joins the pieces of one stream's current line.
type assembly struct {
	stream  Stream
	open    bool  // a line has started and not yet been returned whole
	done    bool  // the line is complete; what is left of buf is its end
	ts      int64 // timestamp of the line's first piece
	entries int   // pieces consumed so far
	buf     []byte
	sent    int // buf[:sent] was already returned in fragments
	// pieces sums up the content of each entry consumed, so that the daemon sending them again can be told.
	pieces []uint32
	// again is how many of pieces the daemon sent again since an older entry interrupted the line; -1: none did.
	again int
	// stored is what the daemon keeps of the line, once a piece equal to an earlier one made the Reader ask
	// (keepPiece); nil before.
	stored *StoredLine
	// unknown: the daemon's answer showed it no longer keeps the line whole, so its pieces are all kept.
	unknown bool
}

// begin starts a line at ts unless one is already being assembled.
func (a *assembly) begin(ts int64) {
	if a.open {
		return
	}
	a.open, a.done, a.ts, a.entries = true, false, ts, 0
	a.buf, a.sent = a.buf[:0], 0
	a.pieces, a.again, a.stored, a.unknown = a.pieces[:0], -1, nil, false
}

// consumed notes one more entry of the line, with the checksum of its content as the daemon sent it.
func (a *assembly) consumed(sum uint32) {
	a.entries++
	a.pieces = append(a.pieces, sum)
}

// interruptedBy reports whether an entry stamped ts is one the daemon sends again from before the line being
// assembled: an output's entries never go back in time, except when Docker 20.10 sends a follower, after a json-file
// rotation, the new file again from its start (at its first end of file there, it takes the new file, smaller than
// the old one, for a truncated one). The line stays open, and its pieces sent again are skipped (sentAgain). When
// the line itself starts the new file nothing older comes first, and its pieces sent again cannot be told from
// equal next pieces (a run of one byte): they stay in the line.
func (a *assembly) interruptedBy(ts int64) bool {
	if !a.open || a.done || ts >= a.ts {
		return false
	}
	a.again = 0
	return true
}

// sentAgain reports whether an entry stamped ts with this content is the line's next piece sent again after an
// interruption, and skips it; any other entry ends the skipping.
func (a *assembly) sentAgain(ts int64, content []byte) bool {
	if a.again < 0 || !a.open || a.done || ts != a.ts {
		return false
	}
	if a.again < len(a.pieces) && a.pieces[a.again] == crc32.ChecksumIEEE(content) {
		a.again++
		return true
	}
	a.again = -1
	return false
}

// add appends content to the line.
func (a *assembly) add(content []byte) {
	if a.sent > 0 {
		// The fragments returned from buf[:sent] are no longer in use once Next is called again.
		a.buf = a.buf[:copy(a.buf, a.buf[a.sent:])]
		a.sent = 0
	}
	a.buf = append(a.buf, content...)
}

// finish marks the line complete, dropping a "\r" before the newline when stripCR is set.
func (a *assembly) finish(stripCR bool) {
	a.done = true
	if stripCR && len(a.buf) > a.sent && a.buf[len(a.buf)-1] == '\r' {
		a.buf = a.buf[:len(a.buf)-1]
	}
}

// next returns the next Line to hand out from the assembly, if there is one: the whole rest of a
// complete line, or a fragment of at most max bytes when more than max bytes are waiting.
// Fragments carry Entries 0; the final Line of the line carries all of its entries.
func (a *assembly) next(max int) (Line, bool) {
	rest := a.buf[a.sent:]
	if a.done && len(rest) <= max {
		line := Line{Stream: a.stream, Timestamp: a.ts, Body: rest[:len(rest):len(rest)], Entries: a.entries}
		a.open, a.done = false, false
		a.buf, a.sent = a.buf[:0], 0
		if cap(a.buf) > shrinkAbove {
			a.buf = nil // line.Body keeps the old array alive for as long as it is used
		}
		return line, true
	}
	if !a.done && len(rest) <= max+keepBytes {
		return Line{}, false
	}
	n := cutPoint(rest, max)
	a.sent += n
	return Line{Stream: a.stream, Timestamp: a.ts, Body: rest[:n:n]}, true
}

// cutPoint returns where to end a fragment of at most max bytes taken from the front of b. It
// backs up to the start of a UTF-8 sequence that the cut would split, so that each fragment of
// valid UTF-8 text is valid UTF-8 too. It looks at b[:max+1] only, which is always there when a
// fragment is cut, so that the cut does not depend on how much of the stream has been read.
func cutPoint(b []byte, max int) int {
	if max >= len(b) || utf8.RuneStart(b[max]) {
		return max
	}
	// b[max] continues a sequence: find its first byte, at most 3 bytes back.
	for i := max - 1; i > 0 && i >= max-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(b[i]) {
			if i+sequenceLen(b[i]) > max {
				return i
			}
			break
		}
	}
	return max
}

// sequenceLen returns the length of the UTF-8 sequence that a byte starts, as its high bits
// announce it (1 for ASCII and for bytes that cannot start a sequence).
func sequenceLen(c byte) int {
	switch {
	case c >= 0xc2 && c <= 0xdf:
		return 2
	case c >= 0xe0 && c <= 0xef:
		return 3
	case c >= 0xf0 && c <= 0xf4:
		return 4
	}
	return 1
}

// endsUnterminated ends the open line when an entry stamped ts cannot be one of its pieces, and says so.
//
// Every piece of a line carries the first piece's timestamp. An entry stamped otherwise after a piece without a
// newline shows that piece was a write that never got its newline: the last write of a run (a program that ended
// with printf "done", or died mid-line), which json-file keeps as it is, followed by the next run's first entry.
func (a *assembly) endsUnterminated(ts int64) bool {
	if !a.open || a.done || ts == a.ts {
		return false
	}
	a.finish(false)
	return true
}
