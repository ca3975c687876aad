package decode

import (
	"errors"
	"io"
)

// readBufferSize is the input buffer: it holds a whole daemon frame (at most 16 KiB plus the
// timestamp) several times over, so a read usually brings many entries at once.
const readBufferSize = 64 << 10

// minReadSpace is the free space below which the unread bytes are moved to the front of the
// buffer before reading, so that reads do not shrink to a few bytes at the end of the buffer.
const minReadSpace = 4 << 10

// maxEmptyReads is how many (0, nil) reads in a row are taken as a broken source, as bufio does.
const maxEmptyReads = 100

var errInvalidRead = errors.New("decode: source returned an invalid byte count")

// inbuf is a read buffer whose bytes can be sliced in place. Data in buf[r:w] stays where it is
// until the next fill, which is what lets a Line's Body point into it.
type inbuf struct {
	src  io.Reader
	buf  []byte
	r, w int
	err  error // error that came with the last bytes read, returned by the next fill
	// off is how many bytes of the stream were consumed: the offset of buf[r], which errors name instead of the bytes.
	off int64
}

func (b *inbuf) bytes() []byte { return b.buf[b.r:b.w] }

func (b *inbuf) buffered() int { return b.w - b.r }

func (b *inbuf) discard(n int) { b.r += n; b.off += int64(n) }

// fill reads at least one more byte into the buffer, or returns why it could not.
// The caller must have left room: fewer than len(buf) bytes buffered.
func (b *inbuf) fill() error {
	if b.err != nil {
		err := b.err
		b.err = nil
		return err
	}
	switch {
	case b.r == b.w:
		b.r, b.w = 0, 0
	case b.r > 0 && len(b.buf)-b.w < minReadSpace:
		b.compact()
	}
	for range maxEmptyReads {
		n, err := b.src.Read(b.buf[b.w:])
		if n < 0 || n > len(b.buf)-b.w {
			return errInvalidRead
		}
		b.w += n
		if err != nil {
			if n > 0 {
				// Hand out the bytes first; the error comes with the next fill.
				b.err = err
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// need fills until n bytes (n <= len(buf)) are buffered.
func (b *inbuf) need(n int) error {
	for b.w-b.r < n {
		if b.r+n > len(b.buf) {
			b.compact()
		}
		if err := b.fill(); err != nil {
			return err
		}
	}
	return nil
}

// compact moves the unread bytes to the front of the buffer.
func (b *inbuf) compact() {
	n := copy(b.buf, b.buf[b.r:b.w])
	b.r, b.w = 0, n
}
