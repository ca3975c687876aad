package decode

import (
	"errors"
	"io"
	"slices"
	"time"
)

// StoredFunc reads the checksums (as StoredPieces returns them) of the pieces the daemon keeps of the line of one output stamped ts, in
// order, from a read of the log that does not follow it; false when they cannot be read.
type StoredFunc func(stream Stream, ts int64) ([]uint32, bool)

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
// equal piece sent keeps every piece of the line once, in order. A piece past what was stored when asked makes
// the Reader ask again, since the follower sends only what the file holds.
//
// Whole-second stamps (Podman) are not checked: there many lines share a stamp, and that daemon has no such repeat.
func (r *Reader) keepPiece(a *assembly, sum uint32) bool {
	if r.stored == nil || a.ts%int64(time.Second) == 0 {
		return true
	}
	if a.stored == nil {
		if !slices.Contains(a.pieces, sum) {
			return true
		}
		if !r.readStored(a) {
			// Not known: kept, since dropping could lose content.
			return true
		}
	}
	k := len(a.pieces)
	if k >= len(a.stored) && !r.readStored(a) {
		return true
	}
	return k < len(a.stored) && a.stored[k] == sum
}

// readStored asks the daemon what it stored of the line a is assembling.
func (r *Reader) readStored(a *assembly) bool {
	sums, ok := r.stored(a.stream, a.ts)
	if !ok {
		return false
	}
	a.stored = append(make([]uint32, 0, len(sums)), sums...)
	return true
}

// pieceLog collects the checksums of the pieces of one line as they are read (StoredPieces).
type pieceLog struct {
	stream Stream
	ts     int64
	sums   []uint32
}

// note records a piece read, when it belongs to the line collected.
func (r *Reader) note(stream Stream, ts int64, sum uint32) {
	if c := r.collect; c != nil && c.stream == stream && c.ts == ts {
		c.sums = append(c.sums, sum)
	}
}

// StoredPieces reads a log that does not follow (a request since ts) and returns the checksums of the pieces of
// the line of output stream stamped ts, in the order they are stored; it stops reading once the line is whole or
// a later line of that output is read.
func StoredPieces(body io.Reader, opts Options, stream Stream, ts int64) ([]uint32, error) {
	opts.Stored = nil
	r := NewReader(body, opts)
	r.collect = &pieceLog{stream: stream, ts: ts, sums: []uint32{}}
	for {
		l, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.collect.sums, nil
		}
		if err != nil {
			return nil, err
		}
		if l.Stream == stream && (l.Timestamp > ts || l.Timestamp == ts && l.Entries > 0) {
			return r.collect.sums, nil
		}
	}
}
