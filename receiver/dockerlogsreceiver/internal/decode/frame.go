package decode

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// headerLen is the size of a multiplexed frame header: {stream, 0, 0, 0, size uint32 big-endian}.
const headerLen = 8

// minMuxBuffer is the smallest input buffer that holds a frame header and a timestamp.
const minMuxBuffer = headerLen + maxTimestampLen + 1

// bigFrame is the state of a frame too large for the input buffer, read through its stream's
// assembly in chunks. The daemon never writes one (its entries are at most 16 KiB); other
// servers of the API might.
type bigFrame struct {
	a    *assembly
	left int64 // payload bytes not yet read (int64: a frame can announce 4 GiB even on 32-bit)
}

// nextMux returns the next line of a multiplexed stream.
func (r *Reader) nextMux() (Line, error) {
	for {
		if r.emit != nil {
			if line, ok := r.fragment(); ok {
				return line, nil
			}
		}
		if r.big.left > 0 {
			if err := r.readBigFrame(); err != nil {
				return Line{}, err
			}
			continue
		}
		if r.skip > 0 {
			if err := r.skipPayload(); err != nil {
				return Line{}, err
			}
			continue
		}
		if err := r.in.need(headerLen); err != nil {
			if err == io.EOF {
				if n := r.in.buffered(); n > 0 {
					return Line{}, truncated("frame header has %d of %d bytes", n, headerLen)
				}
			}
			return Line{}, err
		}
		hdr := r.in.bytes()[:headerLen]
		stream := hdr[0]
		size := binary.BigEndian.Uint32(hdr[4:])
		switch stream {
		case byte(Stdout), byte(Stderr):
		case streamDaemonError:
			return Line{}, r.daemonError(size)
		case 0:
			return Line{}, r.bad.header(r.in.off, "frame header at offset %d has stream byte 0 (stdin), which the daemon never sends", r.in.off)
		default:
			hint := ""
			if stream >= '0' && stream <= '9' {
				hint = " (a TTY container's stream read as multiplexed?)"
			}
			return Line{}, r.bad.header(r.in.off, "frame header at offset %d has unknown stream byte %d%s", r.in.off, stream, hint)
		}
		a := &r.asm[stream-1]
		if size == 0 {
			// An empty write still makes a header-only frame; it holds no entry.
			r.in.discard(headerLen)
			continue
		}
		if uint64(size) > uint64(len(r.in.buf)-headerLen) {
			if err := r.startBigFrame(a, int64(size)); err != nil {
				return Line{}, err
			}
			continue
		}
		n := int(size)
		if err := r.in.need(headerLen + n); err != nil {
			if err == io.EOF {
				return Line{}, truncated("%s frame payload has %d of %d bytes",
					a.stream, r.in.buffered()-headerLen, size)
			}
			return Line{}, err
		}
		payload := r.in.bytes()[headerLen : headerLen+n]
		ts, content, err := r.splitEntry(payload)
		if err != nil {
			return Line{}, r.bad.frame(r.in.off, int64(size), err)
		}
		if a.interruptedBy(ts) {
			// Sent again from before the open line: handed out on its own (the caller drops it as delivered).
			r.in.discard(headerLen + n)
			body := bytes.TrimSuffix(content, []byte("\n"))
			return Line{Stream: a.stream, Timestamp: ts, Body: body[:len(body):len(body)], Entries: 1}, nil
		}
		if a.sentAgain(ts, content) {
			r.in.discard(headerLen + n)
			continue
		}
		if a.endsUnterminated(ts) {
			// Read again once the line before it is handed out: the frame stays in the buffer until then.
			r.emit = a
			continue
		}
		r.in.discard(headerLen + n)
		sum := crc32.ChecksumIEEE(content)
		r.repeats.note(a.stream, ts, sum)
		if a.open && !a.done && a.ts == ts && !r.repeats.keepPiece(a, sum) {
			// A piece of the open line sent again: the line has it already.
			continue
		}
		if n := len(content); n > 0 && content[n-1] == '\n' {
			body := content[:n-1]
			if !a.open && len(body) <= r.max {
				// The common case: a whole line in one entry, handed out from the input buffer.
				return Line{Stream: a.stream, Timestamp: ts, Body: body[:len(body):len(body)], Entries: 1}, nil
			}
			a.begin(ts)
			a.consumed(sum)
			a.add(body)
			a.finish(false)
		} else {
			a.begin(ts)
			a.consumed(sum)
			a.add(content)
		}
		r.emit = a
	}
}

// splitEntry splits a daemon entry "<timestamp> <content>" and parses the timestamp.
func (r *Reader) splitEntry(entry []byte) (int64, []byte, error) {
	i := bytes.IndexByte(entry[:min(len(entry), maxTimestampLen+1)], ' ')
	if i < 0 {
		return 0, nil, malformed("log entry of %d bytes at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", len(entry), r.in.off+headerLen)
	}
	ts, err := r.stamps.parse(entry[:i])
	if err != nil {
		// err is not wrapped: time.Parse's error quotes its input.
		return 0, nil, malformed("log entry of %d bytes at offset %d has a bad timestamp of %d bytes", len(entry), r.in.off+headerLen, i)
	}
	return ts, entry[i+1:], nil
}

// startBigFrame reads the header and timestamp of a frame too large for the input buffer.
func (r *Reader) startBigFrame(a *assembly, size int64) error {
	if err := r.in.need(headerLen + maxTimestampLen + 1); err != nil {
		if err == io.EOF {
			return truncated("%s frame payload has %d of %d bytes", a.stream, r.in.buffered()-headerLen, size)
		}
		return err
	}
	head := r.in.bytes()[headerLen : headerLen+maxTimestampLen+1]
	i := bytes.IndexByte(head, ' ')
	if i < 0 {
		return r.bad.frame(r.in.off, size, malformed("log entry of %d bytes at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", size, r.in.off+headerLen))
	}
	ts, err := r.stamps.parse(head[:i])
	if err != nil {
		return r.bad.frame(r.in.off, size, malformed("log entry of %d bytes at offset %d has a bad timestamp of %d bytes", size, r.in.off+headerLen, i))
	}
	if a.endsUnterminated(ts) {
		r.emit = a
		return nil
	}
	r.in.discard(headerLen + i + 1)
	a.begin(ts)
	r.big = bigFrame{a: a, left: size - int64(i+1)}
	return nil
}

// readBigFrame moves the next chunk of a big frame into its assembly.
func (r *Reader) readBigFrame() error {
	if r.in.buffered() == 0 {
		if err := r.in.fill(); err != nil {
			if err == io.EOF {
				return truncated("%s frame payload is %d bytes short", r.big.a.stream, r.big.left)
			}
			return err
		}
	}
	a := r.big.a
	chunk := r.in.bytes()
	if int64(len(chunk)) >= r.big.left {
		chunk = chunk[:r.big.left]
		r.big = bigFrame{}
		r.in.discard(len(chunk))
		// The frame's last byte tells whether it ends the line.
		if chunk[len(chunk)-1] == '\n' {
			a.add(chunk[:len(chunk)-1])
			a.entries++
			a.finish(false)
		} else {
			a.add(chunk)
			a.entries++
		}
	} else {
		r.big.left -= int64(len(chunk))
		r.in.discard(len(chunk))
		a.add(chunk)
	}
	r.emit = a
	return nil
}

// daemonError reads the in-band error frame the daemon writes when it fails while streaming.
func (r *Reader) daemonError(size uint32) error {
	// A message longer than the buffer is cut; the rest of the frame is skipped.
	n := int(min(uint64(size), uint64(len(r.in.buf)-headerLen)))
	if err := r.in.need(headerLen + n); err != nil {
		if err == io.EOF {
			return truncated("daemon error frame payload has %d of %d bytes", r.in.buffered()-headerLen, size)
		}
		return err
	}
	msg := bytes.TrimRight(r.in.bytes()[headerLen:headerLen+n], "\r\n")
	r.in.discard(headerLen + n)
	r.skip = int64(size) - int64(n)
	return &DaemonError{Message: string(msg)}
}

// skipPayload discards the rest of a daemon error frame that did not fit the buffer.
func (r *Reader) skipPayload() error {
	if r.in.buffered() == 0 {
		if err := r.in.fill(); err != nil {
			if err == io.EOF {
				return truncated("daemon error frame payload is %d bytes short", r.skip)
			}
			return err
		}
	}
	n := int(min(r.skip, int64(r.in.buffered())))
	r.in.discard(n)
	r.skip -= int64(n)
	return nil
}
