package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// Skipped is an entry SkipEntry passed over: where it began in the stream and how many bytes it took.
type Skipped struct {
	Offset int64
	Length int64
}

// errNothingToSkip is SkipEntry's answer when Next did not fail on an entry it can pass over.
var errNothingToSkip = errors.New("decode: no malformed entry to skip")

// badKind says how the entry that failed can be passed over.
type badKind uint8

const (
	badNone   badKind = iota
	badFrame          // a whole frame whose content is not an entry: its header gives its size
	badHeader         // a frame header that is not one: the framing is lost until a plausible header
	badTTY            // a TTY entry without a timestamp: it runs to the next newline
)

// badEntry is the entry that made Next fail with ErrMalformed.
type badEntry struct {
	kind badKind
	off  int64 // stream offset of its first byte
	size int64 // badFrame: the payload's size
}

// badFrame remembers a frame of size payload bytes, at the read position, that holds no entry.
func (r *Reader) badFrame(err error, size int64) error {
	r.bad = badEntry{kind: badFrame, off: r.in.off, size: size}
	return err
}

// badHeader remembers a frame header at the read position that is not one.
func (r *Reader) badHeader(format string, args ...any) error {
	r.bad = badEntry{kind: badHeader, off: r.in.off}
	return malformed(format, args...)
}

// badTTYEntry remembers a TTY entry at the read position that does not start with a timestamp.
func (r *Reader) badTTYEntry(format string, args ...any) error {
	r.bad = badEntry{kind: badTTY, off: r.in.off}
	return malformed(format, args...)
}

// SkipEntry passes over the entry that made Next fail with ErrMalformed, so that Next reads on after it.
//
// A frame with a bad entry is skipped whole; a frame header that is not one is skipped up to the next bytes that
// look like a frame with a timestamp; a TTY entry without a timestamp is skipped to its newline. A line begun
// before it stays pending. Errors of the underlying reader leave the Reader failed.
func (r *Reader) SkipEntry() (Skipped, error) {
	bad := r.bad
	if bad.kind == badNone || !errors.Is(r.err, ErrMalformed) {
		return Skipped{}, errNothingToSkip
	}
	var err error
	switch bad.kind {
	case badFrame:
		r.in.discard(headerLen)
		r.skip = bad.size
		for r.skip > 0 && err == nil {
			err = r.skipPayload()
		}
	case badHeader:
		err = r.resyncMux()
	case badTTY:
		err = r.skipToNewline()
	}
	if err != nil && err != io.EOF {
		return Skipped{}, err
	}
	r.err, r.bad = nil, badEntry{}
	return Skipped{Offset: bad.off, Length: r.in.off - bad.off}, nil
}

// resyncMux discards bytes up to the next frame header followed by a timestamp, or to the end of the stream.
func (r *Reader) resyncMux() error {
	r.in.discard(1)
	for {
		b := r.in.bytes()
		// Judged here are the positions with room for a header and a timestamp behind them; the stream's end judges the rest.
		n := len(b) - minMuxBuffer + 1
		for p := 0; p < n; p++ {
			if plausibleFrame(b[p:]) {
				r.in.discard(p)
				return nil
			}
		}
		if n > 0 {
			r.in.discard(n)
		}
		if err := r.in.fill(); err != nil {
			if err == io.EOF {
				return r.resyncTail()
			}
			return err
		}
	}
}

// resyncTail looks for a frame among the last bytes of an ended stream, and discards what precedes it.
func (r *Reader) resyncTail() error {
	b := r.in.bytes()
	for p := range b {
		if plausibleFrame(b[p:]) {
			r.in.discard(p)
			return nil
		}
	}
	r.in.discard(len(b))
	return io.EOF
}

// plausibleFrame reports whether b starts with a stdout or stderr frame header whose payload starts with a timestamp.
func plausibleFrame(b []byte) bool {
	if len(b) < headerLen+2 || (b[0] != byte(Stdout) && b[0] != byte(Stderr)) || b[1] != 0 || b[2] != 0 || b[3] != 0 {
		return false
	}
	size := int(min(binary.BigEndian.Uint32(b[4:]), maxTimestampLen+1))
	head := b[headerLen:min(len(b), headerLen+size)]
	i := bytes.IndexByte(head, ' ')
	if i <= 0 {
		return false
	}
	_, err := parseTimestamp(head[:i])
	return err == nil
}

// skipToNewline discards a TTY stream's bytes through the next newline.
func (r *Reader) skipToNewline() error {
	for {
		b := r.in.bytes()
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			r.in.discard(i + 1)
			return nil
		}
		r.in.discard(len(b))
		if err := r.in.fill(); err != nil {
			return err
		}
	}
}
