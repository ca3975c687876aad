package decode

import (
	"io"
	"time"
)

// defaultMaxLineBytes is the MaxLineBytes used when Options leaves it at 0.
const defaultMaxLineBytes = 1 << 20

// Line is one whole log line as the daemon captured it.
type Line struct {
	Stream    Stream
	Timestamp int64  // daemon capture time in ns since the Unix epoch (of the line's first piece)
	Body      []byte // the line without its trailing "\n" (and, for TTY streams, without the "\r" before it); valid until the next call to Next
	// Entries is how many daemon log entries (16 KiB pieces) the line was made of. A line longer
	// than MaxLineBytes comes in several Lines: all but the last have Entries 0, and the last
	// carries the count for the whole line. So Entries >= 1 marks the end of a line, and the
	// Entries of all Lines add up to the entries read.
	Entries int
}

// Options configure a Reader.
type Options struct {
	TTY          bool // the container has a TTY: the body is one raw stream with no frame headers (all lines are Stdout)
	MaxLineBytes int  // a line longer than this is returned in consecutive Lines of at most this many bytes, all with the same Timestamp and Stream (0 or less = 1 MiB default)
	// Driver is the container's logging driver (HostConfig.LogConfig.Type): with "local" on a TTY the last piece
	// of a long line may end without a newline, at the next entry's timestamp (see ttyEntry).
	Driver string
	// DaemonAPI is the newest Engine API version the daemon speaks ("1.41"): the local driver of Docker before 23.0
	// (API 1.41 and older) gives the last piece of a long line back without its newline; empty means not known.
	DaemonAPI string
	// Now is the time bytes are read, which bounds a timestamp that can end such a piece; nil means time.Now.
	Now func() time.Time
	// Stored, when set, tells a piece of a long line that the daemon sent again from one that is content (keepPiece).
	Stored StoredFunc
	// LongPieces reads a json-file TTY entry longer than the driver stores one as content, instead of ending with
	// ErrResent: for a log that holds one (written by another program), found when a stream read again ends there too.
	LongPieces bool
}

// Reader reads whole lines from a Docker logs response requested with timestamps=1.
//
// Lines come in the order they complete: a long line whose pieces are interleaved with lines of
// the other stream comes after those lines, although its timestamp is earlier. The leading
// fragments of a line longer than MaxLineBytes are returned as soon as they fill up, so memory
// stays bounded by MaxLineBytes per stream.
//
// On the multiplexed stream each frame is one entry; a "\n" inside a frame's content (which the
// daemon never writes) stays in the Body.
type Reader struct {
	// The splitter of the stream's framing (frames or terminal) cuts entries out of the input buffer and hands their
	// pieces to each output's assembly, past the repeat check; lines holds what both splitters share.
	lines
	tty      bool
	frames   muxSplitter // multiplexed stream: the frames
	terminal ttySplitter // TTY stream: the entries
	err      error       // permanent error: the stream cannot be read further
}

// NewReader returns a Reader of the logs response body r.
func NewReader(r io.Reader, opts Options) *Reader {
	return newReaderSize(r, opts, readBufferSize)
}

// newReaderSize lets tests shrink the input buffer to reach its edge cases with small inputs.
func newReaderSize(r io.Reader, opts Options, size int) *Reader {
	limit := opts.MaxLineBytes
	if limit <= 0 {
		limit = defaultMaxLineBytes
	}
	minSize := minMuxBuffer
	local := opts.TTY && opts.Driver == "local" && bareLastPiece(opts.DaemonAPI)
	bounded := opts.TTY && opts.Driver == "json-file" && !opts.LongPieces
	switch {
	case bounded:
		minSize = minJSONTTYBuffer
	case local:
		minSize = minLocalTTYBuffer
	case opts.TTY:
		minSize = minTTYBuffer
	}
	size = max(size, minSize)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	rd := &Reader{tty: opts.TTY, terminal: ttySplitter{local: local, bounded: bounded, now: now}}
	rd.lines = lines{in: inbuf{src: r, buf: make([]byte, size)}, max: limit, repeats: repeatCheck{stored: opts.Stored}}
	rd.asm[0].stream = Stdout
	rd.asm[1].stream = Stderr
	rd.frames.lines = &rd.lines
	rd.terminal.lines = &rd.lines
	return rd
}

// Next returns the next whole line. It returns io.EOF at a clean end of the stream.
//
// Errors about the stream's content (ErrMalformed, ErrTruncated) are permanent: Next keeps
// returning them. A *DaemonError is not: the daemon goes on writing after it, and so may Next.
// Errors of the underlying reader are returned as they are, and the Reader keeps its place, so
// Next may be called again if the reader can go on (after a timeout, say).
func (r *Reader) Next() (Line, error) {
	if r.err != nil {
		return Line{}, r.err
	}
	var line Line
	var err error
	if r.tty {
		line, err = r.terminal.next()
	} else {
		line, err = r.frames.next()
	}
	if isPermanent(err) {
		r.err = err
	}
	return line, err
}

// Pending reports whether a line has been started but not finished: after io.EOF, it tells that
// the stream was cut in the middle of a long line, which was dropped (fragments of it already
// returned have Entries 0). Reading again from the line's timestamp gets it whole.
func (r *Reader) Pending() bool {
	return r.asm[0].open || r.asm[1].open
}

// PendingSince returns the timestamp of the earliest line begun but not finished, and whether there is one.
//
// Lines are returned as they complete, so a long line of one stream comes after the other stream's lines
// that completed while it was being assembled; a caller that must keep timestamp order holds those back.
func (r *Reader) PendingSince() (int64, bool) {
	if a := r.earliestOpen(); a != nil {
		return a.ts, true
	}
	return 0, false
}

// Finish ends the lines left unfinished when Next returned io.EOF where the stream ended, and returns them one
// by one, earliest first; it returns false when none is left.
//
// Call it only when the stream ended with the log (a follow stream of a container that stopped): a line without
// a newline is then the container's last write, a program that ended with printf "done" or died mid-line, and
// will never be finished. A line longer than MaxLineBytes comes in several Lines, as from Next.
func (r *Reader) Finish() (Line, bool) {
	for {
		if r.emit != nil {
			if line, ok := r.fragment(); ok {
				return line, true
			}
		}
		if r.tty && (r.terminal.draining || r.terminal.inSpan()) {
			if line, ok := r.finishTTY(); ok {
				return line, true
			}
			continue
		}
		first := r.earliestOpen()
		if first == nil {
			return Line{}, false
		}
		first.finish(false)
		r.emit = first
	}
}

// isPermanent tells the errors that leave the Reader out of step with the stream.
func isPermanent(err error) bool {
	_, ok := err.(*streamError)
	return ok
}
