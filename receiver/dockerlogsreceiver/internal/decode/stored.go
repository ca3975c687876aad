package decode

import (
	"errors"
	"io"
	"slices"
	"time"
)

// StoredLine is what the daemon keeps of one line: the checksums of its pieces (as StoredPieces sums them up), in
// order; whether the line ends there (its newline, or a later entry of its output, was read after them); and
// whether its start is kept (an older entry of its output was read before them).
type StoredLine struct {
	Sums  []uint32
	Whole bool
	Start bool
}

// StoredFunc reads what the daemon keeps of the line of one output stamped ts, from a read of the log since the
// entry of that output before the line (0: the whole log) that does not follow it; false when it cannot be read.
type StoredFunc func(stream Stream, since, ts int64) (StoredLine, bool)

// repeatCheck tells a piece of a long line that the daemon sent again (a repeat) from one that is content, by
// asking the daemon what it stored of the line when the bytes cannot tell.
type repeatCheck struct {
	stored  StoredFunc // Options.Stored
	collect *pieceLog  // StoredPieces: the line whose pieces are collected
	// newest is each output's newest timestamp read, and before the one before it (note).
	newest, before PerStream[int64]
}

// keepPiece decides whether a later piece of the open line a, with checksum sum, is the line's next piece or one
// the daemon sent again.
//
// Docker 20.10's json-file follower, at its first end of file after a rotation, takes the new file for a truncated
// one (moby daemon/logger/loggerutils/logfile.go: oldSize is not reset when it opens the new file) and sends it
// again from its start: the pieces of a line it read there come a second time, stamped alike, with nothing older
// before them when the line starts the file or began in the old one. A piece equal to an earlier piece of its line
// is such a repeat, or content (a run of one byte cuts into equal pieces): the bytes cannot tell, so the daemon is
// asked what it stored of the line, and from then on a piece is kept when it is the stored line's next one. The
// stream is the stored line with a copy of some of its pieces put in, so matching each stored piece to the first
// equal piece sent keeps every piece of the line once, in order; a piece equal to none before it is no copy, and is
// kept without asking. A piece past what was stored when asked makes the check ask again, since the follower sends
// only what the file holds, unless the stored line had ended.
//
// Whole-second stamps (Podman) are not checked: there many lines share a stamp, and that daemon has no such repeat.
func (r *repeatCheck) keepPiece(a *assembly, sum uint32) bool {
	if r.stored == nil || a.ts%int64(time.Second) == 0 || !slices.Contains(a.pieces, sum) {
		// A piece equal to none before it is no copy of one: the line's next piece.
		return true
	}
	k := len(a.pieces)
	if a.unknown || (a.stored == nil || k >= len(a.stored.Sums) && !a.stored.Whole) && !r.readStored(a) {
		// Not known: kept, since dropping could lose content.
		return true
	}
	return k < len(a.stored.Sums) && a.stored.Sums[k] == sum
}

// readStored asks the daemon what it stored of the line a is assembling. An answer that does not start with the
// pieces the line holds cannot show the line whole (a rotation deleted its start), nor can one whose start nothing
// proves: it cannot tell a repeat, and the line is not asked about again.
//
// The line's start is proven by the daemon's answer holding an older entry of its output before the line, or by
// this stream having read one just before the line's first piece: the stream then saw the line begin. The second
// is what a line that starts a new json-file file has once the file before it is gone (max-file 1 keeps no
// rotated file): Docker 20.10's follower sends its first pieces again at the file's first end, and only the
// answer tells them from content. Its cost: a line cut by a rotation whose deleted start was made of the same
// pieces as what the daemon kept of it (a run of one byte) comes out as the daemon kept it, without that start.
func (r *repeatCheck) readStored(a *assembly) bool {
	since := int64(0)
	if *r.newest.At(a.stream) == a.ts {
		since = *r.before.At(a.stream)
	}
	seen := since != 0 && since < a.ts
	line, ok := r.stored(a.stream, since, a.ts)
	if !ok {
		return false
	}
	if !(line.Start || seen) || len(line.Sums) < len(a.pieces) || !slices.Equal(line.Sums[:len(a.pieces)], a.pieces) {
		a.unknown = true
		return false
	}
	a.stored = &line
	return true
}

// pieceLog collects the checksums of the pieces of one line as they are read (StoredPieces).
type pieceLog struct {
	stream Stream
	ts     int64
	sums   []uint32
}

// note records a piece read: the output's newest timestamp, and the piece's checksum when it belongs to the line
// collected.
func (r *repeatCheck) note(stream Stream, ts int64, sum uint32) {
	if newest := r.newest.At(stream); ts != *newest {
		*r.before.At(stream), *newest = *newest, ts
	}
	if c := r.collect; c != nil && c.stream == stream && c.ts == ts {
		c.sums = append(c.sums, sum)
	}
}

// StoredPieces reads a log that does not follow (a request since an entry before ts) and returns what it holds of
// the line of output stream stamped ts; it stops reading once the line ended or a later line of that output was
// read.
func StoredPieces(body io.Reader, opts Options, stream Stream, ts int64) (StoredLine, error) {
	opts.Stored = nil
	r := NewReader(body, opts)
	c := &pieceLog{stream: stream, ts: ts, sums: []uint32{}}
	r.repeats.collect = c
	start := false
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return StoredLine{Sums: c.sums, Start: start}, nil
		}
		if err != nil {
			return StoredLine{}, err
		}
		if l.Stream == stream && l.Timestamp < ts && len(c.sums) == 0 {
			start = true
		}
		if l.Stream == stream && (l.Timestamp > ts || l.Timestamp == ts && l.Entries > 0) {
			return StoredLine{Sums: c.sums, Whole: true, Start: start}, nil
		}
	}
}
