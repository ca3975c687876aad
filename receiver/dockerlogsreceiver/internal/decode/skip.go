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

// frame remembers a frame of size payload bytes, at stream offset off, that holds no entry.
func (b *badEntry) frame(off, size int64, err error) error {
	*b = badEntry{kind: badFrame, off: off, size: size}
	return err
}

// header remembers a frame header at stream offset off that is not one.
func (b *badEntry) header(off int64, format string, args ...any) error {
	*b = badEntry{kind: badHeader, off: off}
	return malformed(format, args...)
}

// ttyEntry remembers a TTY entry at stream offset off that does not start with a timestamp.
func (b *badEntry) ttyEntry(off int64, format string, args ...any) error {
	*b = badEntry{kind: badTTY, off: off}
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
		r.frames.skip = bad.size
		for r.frames.skip > 0 && err == nil {
			err = r.frames.skipPayload()
		}
	case badHeader:
		err = resyncMux(&r.in)
	case badTTY:
		err = skipToNewline(&r.in)
	}
	if err != nil && err != io.EOF {
		return Skipped{}, err
	}
	r.err, r.bad = nil, badEntry{}
	return Skipped{Offset: bad.off, Length: r.in.off - bad.off}, nil
}

// resyncMux discards bytes up to the next frame header followed by a timestamp, or to the end of the stream.
func resyncMux(in *inbuf) error {
	in.discard(1)
	for {
		b := in.bytes()
		// Judged here are the positions with room for a header and a timestamp behind them; the stream's end judges the rest.
		n := len(b) - minMuxBuffer + 1
		for p := 0; p < n; p++ {
			if plausibleFrame(b[p:]) {
				in.discard(p)
				return nil
			}
		}
		if n > 0 {
			in.discard(n)
		}
		if err := in.fill(); err != nil {
			if err == io.EOF {
				return resyncTail(in)
			}
			return err
		}
	}
}

// resyncTail looks for a frame among the last bytes of an ended stream, and discards what precedes it.
func resyncTail(in *inbuf) error {
	b := in.bytes()
	for p := range b {
		if plausibleFrame(b[p:]) {
			in.discard(p)
			return nil
		}
	}
	in.discard(len(b))
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
func skipToNewline(in *inbuf) error {
	for {
		b := in.bytes()
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			in.discard(i + 1)
			return nil
		}
		in.discard(len(b))
		if err := in.fill(); err != nil {
			return err
		}
	}
}
