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

// muxSplitter cuts a multiplexed stream into frames and hands each frame's entry to its output's assembly, so that
// the frame headers, the frames too large for the buffer and the daemon's error frames are handled in one place.
type muxSplitter struct {
	*lines
	big  bigFrame // multiplexed frame too large for the input buffer, being read in chunks
	skip int64    // bytes of a daemon error frame still to discard
}

// next returns the next line of a multiplexed stream.
//
// The frame that fits the buffer is read here, not in a step of its own: a Line is 48 bytes, which the compiler
// copies through memory at each call it is returned from, and this is the path of every line.
func (m *muxSplitter) next() (Line, error) {
	for {
		if m.emit != nil {
			if line, ok := m.fragment(); ok {
				return line, nil
			}
		}
		a, n, err := m.advance()
		if err != nil {
			return Line{}, err
		}
		if a == nil {
			continue
		}
		ts, content, err := m.splitEntry(m.in.bytes()[headerLen : headerLen+n])
		if err != nil {
			return Line{}, m.bad.frame(m.in.off, int64(n), err)
		}
		if a.interruptedBy(ts) {
			// Sent again from before the open line: handed out on its own (the caller drops it as delivered).
			m.in.discard(headerLen + n)
			body := bytes.TrimSuffix(content, []byte("\n"))
			return Line{Stream: a.stream, Timestamp: ts, Body: body[:len(body):len(body)], Entries: 1}, nil
		}
		if a.sentAgain(ts, content) {
			m.in.discard(headerLen + n)
			continue
		}
		if a.endsUnterminated(ts) {
			// Read again once the line before it is handed out: the frame stays in the buffer until then.
			m.emit = a
			continue
		}
		m.in.discard(headerLen + n)
		sum := crc32.ChecksumIEEE(content)
		m.repeats.note(a.stream, ts, sum)
		if a.open && !a.done && a.ts == ts && !m.repeats.keepPiece(a, sum) {
			// A piece of the open line sent again: the line has it already.
			continue
		}
		if k := len(content) - 1; !a.open && k >= 0 && content[k] == '\n' && k <= m.max {
			// The common case: a whole line in one entry, handed out from the input buffer.
			return Line{Stream: a.stream, Timestamp: ts, Body: content[:k:k], Entries: 1}, nil
		}
		m.assemble(a, ts, content, sum)
	}
}

// advance reads on to the next frame that fits the buffer and returns its output's assembly and payload size, all
// buffered; a nil assembly says that it read part of the stream that holds no such frame (a big frame's chunk, a
// daemon error frame's rest, an empty frame, a big frame's start), and that next should look again.
func (m *muxSplitter) advance() (*assembly, int, error) {
	switch {
	case m.big.left > 0:
		return nil, 0, m.readBigFrame()
	case m.skip > 0:
		return nil, 0, m.skipPayload()
	}
	a, size, err := m.header()
	switch {
	case err != nil:
		return nil, 0, err
	case size == 0:
		// An empty write still makes a header-only frame; it holds no entry.
		m.in.discard(headerLen)
		return nil, 0, nil
	case uint64(size) > uint64(len(m.in.buf)-headerLen):
		return nil, 0, m.startBigFrame(a, int64(size))
	}
	n := int(size)
	if err := m.in.need(headerLen + n); err != nil {
		if err == io.EOF {
			return nil, 0, truncated("%s frame payload has %d of %d bytes", a.stream, m.in.buffered()-headerLen, size)
		}
		return nil, 0, err
	}
	return a, n, nil
}

// header reads the next frame header and returns the assembly of its output and its payload's size; a daemon error
// frame is read whole and returned as the error.
func (m *muxSplitter) header() (*assembly, uint32, error) {
	if err := m.in.need(headerLen); err != nil {
		if err == io.EOF {
			if n := m.in.buffered(); n > 0 {
				return nil, 0, truncated("frame header has %d of %d bytes", n, headerLen)
			}
		}
		return nil, 0, err
	}
	hdr := m.in.bytes()[:headerLen]
	stream := hdr[0]
	size := binary.BigEndian.Uint32(hdr[4:])
	switch stream {
	case byte(Stdout), byte(Stderr):
		return m.asm.At(Stream(stream)), size, nil
	case streamDaemonError:
		return nil, 0, m.daemonError(size)
	case 0:
		return nil, 0, m.bad.header(m.in.off, "frame header at offset %d has stream byte 0 (stdin), which the daemon never sends", m.in.off)
	}
	hint := ""
	if stream >= '0' && stream <= '9' {
		hint = " (a TTY container's stream read as multiplexed?)"
	}
	return nil, 0, m.bad.header(m.in.off, "frame header at offset %d has unknown stream byte %d%s", m.in.off, stream, hint)
}

// assemble adds a piece of output a, stamped ts, with checksum sum, to its line, which is then handed out from the
// assembly: the piece ends the line when it ends with a newline.
func (m *muxSplitter) assemble(a *assembly, ts int64, content []byte, sum uint32) {
	a.begin(ts)
	a.consumed(sum)
	if n := len(content); n > 0 && content[n-1] == '\n' {
		a.add(content[:n-1])
		a.finish(false)
	} else {
		a.add(content)
	}
	m.emit = a
}

// splitEntry splits a daemon entry "<timestamp> <content>" and parses the timestamp.
func (m *muxSplitter) splitEntry(entry []byte) (int64, []byte, error) {
	i := bytes.IndexByte(entry[:min(len(entry), maxTimestampLen+1)], ' ')
	if i < 0 {
		return 0, nil, malformed("log entry of %d bytes at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", len(entry), m.in.off+headerLen)
	}
	ts, err := m.stamps.parse(entry[:i])
	if err != nil {
		// err is not wrapped: time.Parse's error quotes its input.
		return 0, nil, malformed("log entry of %d bytes at offset %d has a bad timestamp of %d bytes", len(entry), m.in.off+headerLen, i)
	}
	return ts, entry[i+1:], nil
}

// startBigFrame reads the header and timestamp of a frame too large for the input buffer.
func (m *muxSplitter) startBigFrame(a *assembly, size int64) error {
	if err := m.in.need(headerLen + maxTimestampLen + 1); err != nil {
		if err == io.EOF {
			return truncated("%s frame payload has %d of %d bytes", a.stream, m.in.buffered()-headerLen, size)
		}
		return err
	}
	head := m.in.bytes()[headerLen : headerLen+maxTimestampLen+1]
	i := bytes.IndexByte(head, ' ')
	if i < 0 {
		return m.bad.frame(m.in.off, size, malformed("log entry of %d bytes at offset %d does not start with a timestamp and a space (timestamps=1 not requested?)", size, m.in.off+headerLen))
	}
	ts, err := m.stamps.parse(head[:i])
	if err != nil {
		return m.bad.frame(m.in.off, size, malformed("log entry of %d bytes at offset %d has a bad timestamp of %d bytes", size, m.in.off+headerLen, i))
	}
	if a.endsUnterminated(ts) {
		m.emit = a
		return nil
	}
	m.in.discard(headerLen + i + 1)
	a.begin(ts)
	m.big = bigFrame{a: a, left: size - int64(i+1)}
	return nil
}

// readBigFrame moves the next chunk of a big frame into its assembly.
func (m *muxSplitter) readBigFrame() error {
	if m.in.buffered() == 0 {
		if err := m.in.fill(); err != nil {
			if err == io.EOF {
				return truncated("%s frame payload is %d bytes short", m.big.a.stream, m.big.left)
			}
			return err
		}
	}
	a := m.big.a
	chunk := m.in.bytes()
	if int64(len(chunk)) >= m.big.left {
		chunk = chunk[:m.big.left]
		m.big = bigFrame{}
		m.in.discard(len(chunk))
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
		m.big.left -= int64(len(chunk))
		m.in.discard(len(chunk))
		a.add(chunk)
	}
	m.emit = a
	return nil
}

// daemonError reads the in-band error frame the daemon writes when it fails while streaming.
func (m *muxSplitter) daemonError(size uint32) error {
	// A message longer than the buffer is cut; the rest of the frame is skipped.
	n := int(min(uint64(size), uint64(len(m.in.buf)-headerLen)))
	if err := m.in.need(headerLen + n); err != nil {
		if err == io.EOF {
			return truncated("daemon error frame payload has %d of %d bytes", m.in.buffered()-headerLen, size)
		}
		return err
	}
	msg := bytes.TrimRight(m.in.bytes()[headerLen:headerLen+n], "\r\n")
	m.in.discard(headerLen + n)
	m.skip = int64(size) - int64(n)
	return &DaemonError{Message: string(msg)}
}

// skipPayload discards the rest of a daemon error frame that did not fit the buffer.
func (m *muxSplitter) skipPayload() error {
	if m.in.buffered() == 0 {
		if err := m.in.fill(); err != nil {
			if err == io.EOF {
				return truncated("daemon error frame payload is %d bytes short", m.skip)
			}
			return err
		}
	}
	n := int(min(m.skip, int64(m.in.buffered())))
	m.in.discard(n)
	m.skip -= int64(n)
	return nil
}
