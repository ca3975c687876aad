package jsonfile

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// DefaultPoll is how often a followed log that has nothing new is looked at again.
const DefaultPoll = 100 * time.Millisecond

// While a followed log has nothing new, whether its container still runs is asked at once, then after a second,
// the interval doubling up to runningCheckMax, and back to a second after each new entry.
const (
	runningCheckMin = time.Second
	runningCheckMax = 8 * time.Second
)

// maxLineBytes bounds one line of a file: the driver's 16 KiB pieces, each byte escaped in 6 at worst, with
// room for attributes. A longer line is not the driver's: its front is corrupt.
const maxLineBytes = 1 << 20

// verifyLen is how many of the last bytes read are compared with the file to find it truncated in place: they
// hold the end of the last entry read, with its time to the nanosecond, which the driver never writes twice.
const verifyLen = 64

// readBufferSize is the size of the reads from a file.
const readBufferSize = 64 << 10

// Source is one container's json-file log.
type Source struct {
	// Path is the log's current file, <id>-json.log; rotated files are Path.1, Path.2, ...
	Path string
	// TTY says the container has a terminal: the stream then has no frame headers, as the API's.
	TTY bool
	// Running reports whether the container still runs; a followed log ends once it does not (every entry is in
	// the files by then: the daemon closes the log before it records the container as stopped). nil: never.
	Running func(ctx context.Context) (bool, error)
	// Poll is how often a followed log with nothing new is looked at again; 0 means DefaultPoll.
	Poll time.Duration
	// MaxSize is the log's max-size option in bytes (0: none). With max-file 1 the driver truncates the file in
	// place once it holds at least this much, before its next write; knowing it tells whether a truncated file
	// held anything after what was read.
	MaxSize int64
	// Corrupt, if set, hears of each stretch of the files that holds no entry; the stream passes over it.
	Corrupt *Corruptions
}

// errClosed is what a Read after Close returns.
var errClosed = errors.New("read on a closed json-file log stream")

// errNoData says a followed log has nothing more to read now.
var errNoData = errors.New("no data yet")

// errTruncated says the file being read was truncated in place before or while it was read.
var errTruncated = errors.New("the log file was truncated")

// Open serves req from the container's log files with the bytes the API would send: see the package comment.
// The caller closes the stream; Close also ends a Read waiting for new entries.
func Open(ctx context.Context, src Source, req docker.LogsRequest) (io.ReadCloser, error) {
	files, err := openAll(src.Path)
	if err != nil {
		return nil, fmt.Errorf("open log files of %s: %w", src.Path, err)
	}
	ends := make([]int64, len(files))
	for i, f := range files {
		fi, err := f.f.Stat()
		if err != nil {
			closeFiles(files)
			return nil, fmt.Errorf("open log files of %s: %w", src.Path, err)
		}
		ends[i] = fi.Size()
	}
	first, offset := 0, int64(0)
	if req.Tail != 0 {
		// Tail < 0 asks for no history: the stream starts after the last whole line.
		if first, offset, err = tailStart(files, ends, max(req.Tail, 0)); err != nil {
			closeFiles(files)
			return nil, fmt.Errorf("read the end of %s: %w", src.Path, err)
		}
	}
	closeFiles(files[:first])
	r := &reader{ctx: ctx, src: src, since: req.Since, follow: req.Follow, done: make(chan struct{}),
		files: files[first:], newestEnd: ends[len(ends)-1], checkEvery: runningCheckMin, maxLine: maxLineBytes}
	if r.src.Poll <= 0 {
		r.src.Poll = DefaultPoll
	}
	r.in = bufio.NewReaderSize(&r.file, readBufferSize)
	r.startFile(offset)
	return r, nil
}

// reader is the stream Open returns.
type reader struct {
	ctx    context.Context
	src    Source
	since  int64
	follow bool
	done   chan struct{}
	once   sync.Once

	mu sync.Mutex
	// files are the files still to read, oldest first: files[0] is being read, the last is the newest known.
	files []logFile
	// newestEnd is the size of the newest file when the stream opened: without follow, the end of the stream.
	newestEnd int64
	file      fileReader
	in        *bufio.Reader
	// pending holds the start of a line not read whole yet; cut bytes before it were dropped as corrupt.
	pending []byte
	cut     int64
	// consumed is the offset in files[0] up to which lines were taken from in; lineAt and lineCut place the line
	// returned last: its first byte kept, and the bytes before it dropped.
	consumed, lineAt, lineCut int64
	maxLine                   int
	// ending: the files read are the last ones (the container stopped, or the followed file was lost).
	ending bool
	closed bool
	err    error
	// out holds encoded entries from off on.
	out []byte
	off int
	// text is the decoded text of the entry being encoded.
	text   []byte
	parser parser
	stamps stamps
	// Whether the container runs is asked next at nextCheck; checkEvery is the interval after that.
	nextCheck  time.Time
	checkEvery time.Duration
	waited     bool
}

// fileReader reads files[0] from pos, up to limit when limit >= 0.
type fileReader struct {
	f     *os.File
	pos   int64
	limit int64
	// verify: the file may be truncated in place (the newest one), so every read is checked to precede that.
	verify bool
	// last holds the lastN bytes read last, ending at pos.
	last  [verifyLen]byte
	lastN int
	// z reads a compressed file (pos then counts decompressed bytes); broken says it could not be read to its end.
	z      *gzip.Reader
	broken bool
}

// errBrokenGzip says a compressed file could not be decompressed past a point.
var errBrokenGzip = errors.New("the compressed log file is damaged")

func (fr *fileReader) Read(p []byte) (int, error) {
	if fr.z != nil || fr.broken {
		return fr.readGzip(p)
	}
	if fr.limit >= 0 {
		if fr.pos >= fr.limit {
			return 0, io.EOF
		}
		p = p[:min(int64(len(p)), fr.limit-fr.pos)]
	}
	n, err := fr.f.ReadAt(p, fr.pos)
	if n > 0 && fr.verify {
		// Checked after the read: bytes still in place then were in place before it, so what was read is the file's.
		if ok, verr := fr.intact(); verr != nil || !ok {
			return 0, cmp.Or(verr, errTruncated)
		}
	}
	fr.remember(p[:n])
	fr.pos += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}

// readGzip reads a compressed file, which is complete: nothing is appended to it, and it is never truncated.
func (fr *fileReader) readGzip(p []byte) (int, error) {
	if fr.broken {
		return 0, errBrokenGzip
	}
	n, err := fr.z.Read(p)
	fr.pos += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		if n > 0 {
			return n, nil
		}
		return 0, io.EOF
	case err != nil:
		fr.broken = true
		if n > 0 {
			return n, nil
		}
		return 0, errBrokenGzip
	}
	return n, nil
}

// remember keeps the last bytes read.
func (fr *fileReader) remember(b []byte) {
	if len(b) >= verifyLen {
		fr.lastN = copy(fr.last[:], b[len(b)-verifyLen:])
		return
	}
	keep := min(fr.lastN, verifyLen-len(b))
	copy(fr.last[:], fr.last[fr.lastN-keep:fr.lastN])
	fr.lastN = keep + copy(fr.last[keep:], b)
}

// intact reports whether the file still holds the bytes read last where they were read: a file truncated in
// place holds none there, or others written since.
func (fr *fileReader) intact() (bool, error) {
	if fr.lastN == 0 {
		return true, nil
	}
	var b [verifyLen]byte
	n, err := fr.f.ReadAt(b[:fr.lastN], fr.pos-int64(fr.lastN))
	if err != nil && err != io.EOF {
		return false, err
	}
	return n == fr.lastN && bytes.Equal(b[:n], fr.last[:fr.lastN]), nil
}

// startFile starts reading files[0] at offset.
func (r *reader) startFile(offset int64) {
	if r.files[0].gz {
		r.startGzip(offset)
		return
	}
	r.file = fileReader{f: r.files[0].f, pos: offset, limit: -1, verify: len(r.files) == 1}
	if !r.follow && len(r.files) == 1 {
		r.file.limit = r.newestEnd
	}
	if offset > 0 {
		// What precedes the start is what a truncation would change first.
		n, _ := r.file.f.ReadAt(r.file.last[:min(offset, verifyLen)], offset-min(offset, verifyLen))
		r.file.lastN = n
		if int64(n) < min(offset, verifyLen) {
			r.file.lastN = 0
		}
	}
	r.consumed = offset
	r.in.Reset(&r.file)
}

// startGzip starts reading the compressed files[0] at offset, an offset in its decompressed bytes.
func (r *reader) startGzip(offset int64) {
	r.file = fileReader{f: r.files[0].f, limit: -1}
	z, err := gzOpen(r.files[0])
	if err == nil {
		r.file.z = z
		var n int64
		n, err = io.CopyN(io.Discard, z, offset)
		r.file.pos = n
	}
	if err != nil {
		r.file.z, r.file.broken = nil, true
	}
	r.consumed = r.file.pos
	r.in.Reset(&r.file)
}

// Read fills p with as many whole entries as are ready, waiting only when none is.
func (r *reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off == len(r.out) {
		r.out, r.off = r.out[:0], 0
		for r.err == nil && len(r.out) < len(p) {
			if err := r.fill(len(r.out) == 0); err != nil {
				if !errors.Is(err, errNoData) {
					r.err = err
				}
				break
			}
		}
	}
	if r.off == len(r.out) {
		return 0, r.err
	}
	n := copy(p, r.out[r.off:])
	r.off += n
	return n, nil
}

// Close ends the stream and any Read waiting for new entries.
func (r *reader) Close() error {
	r.once.Do(func() { close(r.done) })
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		closeFiles(r.files)
		r.files, r.closed = nil, true
	}
	return nil
}

// fill encodes the next entry kept, if any, into out.
func (r *reader) fill(mayWait bool) error {
	line, err := r.nextLine(mayWait)
	if err != nil {
		return err
	}
	if r.since != 0 && r.lineCut == 0 {
		// Most entries dropped before since are dropped on their time alone.
		if ts, err := r.parser.entryTime(line); err == nil && ts < r.since {
			return nil
		}
	}
	e, text, err := r.parser.parse(line, r.text[:0])
	bad := 0
	if err != nil {
		// Not an entry: the driver's next entry may be glued to its end (a crash leaves no newline).
		e, text, bad, _ = r.parser.resync(line, r.text[:0])
	}
	r.text = text
	if r.lineCut > 0 || bad > 0 {
		r.corrupt(r.lineAt-r.lineCut, r.lineCut+int64(bad))
	}
	if bad == len(line) || e.Time < r.since {
		return nil
	}
	r.out = r.appendEntry(r.out, e)
	return nil
}

// appendEntry encodes e as the API does: a frame (none for a TTY) with the fixed-width time, a space and the text.
func (r *reader) appendEntry(b []byte, e Entry) []byte {
	if r.src.TTY {
		b = r.stamps.appendStamp(b, e.Time)
		b = append(b, ' ')
		return append(b, e.Log...)
	}
	b = append(b, e.Stream, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(stampLen+1+len(e.Log)))
	b = r.stamps.appendStamp(b, e.Time)
	b = append(b, ' ')
	return append(b, e.Log...)
}

// corrupt passes over length bytes of the file being read at offset, which hold no entry.
func (r *reader) corrupt(offset, length int64) {
	r.src.Corrupt.pass(r.files[0], offset, length)
}

// nextLine returns the next line of the files, without its newline, valid until the next call. At the end of a
// followed log it waits for more when mayWait, and returns errNoData otherwise.
func (r *reader) nextLine(mayWait bool) ([]byte, error) {
	for {
		if r.closed {
			return nil, errClosed
		}
		line, err := r.in.ReadSlice('\n')
		r.consumed += int64(len(line))
		switch {
		case err == nil:
			if r.waited {
				// New entries: the container is asked again only after a quiet second.
				r.waited, r.checkEvery, r.nextCheck = false, runningCheckMin, time.Now().Add(runningCheckMin)
			}
			if len(r.pending) > 0 || r.cut > 0 {
				r.pending = append(r.pending, line...)
				r.bound()
				line, r.pending = r.pending, r.pending[:0]
			}
			r.lineAt, r.lineCut, r.cut = r.consumed-int64(len(line)), r.cut, 0
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			r.pending = append(r.pending, line...)
			r.bound()
			continue
		case errors.Is(err, errBrokenGzip):
			// The rest of a damaged compressed file cannot be had: passed over as corrupt, one byte past what was
			// read (how much it held is unknown), and reading goes on with the next file.
			r.pending = append(r.pending, line...)
			n := int64(len(r.pending)) + r.cut
			r.corrupt(r.consumed-n, n+1)
			r.pending, r.cut = r.pending[:0], 0
			if len(r.files) == 1 {
				return nil, io.EOF
			}
			r.files[0].f.Close()
			r.files = r.files[1:]
			r.startFile(0)
			continue
		case errors.Is(err, errTruncated):
			// What in still held was read before the truncation: the start of a line that was lost.
			r.pending = append(r.pending, line...)
			if r.truncated() {
				continue
			}
			return nil, io.EOF
		case !errors.Is(err, io.EOF):
			return nil, err
		}
		r.pending = append(r.pending, line...)
		if len(r.files) > 1 {
			// A rotated file is complete: go on with the file written after it. The driver writes whole lines, so
			// one it left unfinished is corrupt, and is not glued to the next file's first line.
			if n := int64(len(r.pending)) + r.cut; n > 0 {
				r.corrupt(r.consumed-n, n)
				r.pending, r.cut = r.pending[:0], 0
			}
			r.files[0].f.Close()
			r.files = r.files[1:]
			r.startFile(0)
			continue
		}
		if !r.follow || r.ending {
			// What is left is a line still being written, which the stream ends before.
			return nil, io.EOF
		}
		if !mayWait {
			return nil, errNoData
		}
		if err := r.wait(); err != nil {
			return nil, err
		}
	}
}

// bound keeps a line that grows past maxLine from holding memory: the driver writes none that long, so its front
// is corrupt, and only what follows the last entry head in it may still be an entry.
func (r *reader) bound() {
	if len(r.pending) <= r.maxLine {
		return
	}
	keep := len(entryHead) - 1 // the start of a head cut by the read
	if i := bytes.LastIndex(r.pending, entryHead); i > 0 && len(r.pending)-i <= r.maxLine {
		keep = len(r.pending) - i
	}
	n := len(r.pending) - keep
	r.cut += int64(n)
	r.pending = append(r.pending[:0], r.pending[n:]...)
}

// truncated handles the newest file found truncated in place, which json-file does instead of a rename with
// max-file 1, and reports whether reading goes on at the file's start.
//
// It does when the file held nothing after what was read: the driver truncates a file only once it holds at least
// max-size, before its next write, so a file read to the end of an entry and to max-size was read whole. Otherwise
// what was not read is gone, and the stream ends: the reopen at the position finds the loss and counts it, from
// the last line read to the first one left.
func (r *reader) truncated() bool {
	whole := r.src.MaxSize > 0 && r.file.pos >= r.src.MaxSize && len(r.pending) == 0 && r.cut == 0
	r.pending, r.cut = r.pending[:0], 0
	if !r.follow || !whole {
		r.ending = true
		return false
	}
	r.file.pos, r.file.lastN, r.consumed = 0, 0, 0
	r.in.Reset(&r.file)
	return true
}

// wait returns when the followed file may have more to read: it was renamed by a rotation, the container
// stopped, or a poll interval passed.
func (r *reader) wait() error {
	r.waited = true
	cur := r.files[0]
	fi, err := os.Stat(r.src.Path)
	switch {
	case err == nil && !cur.sameFile(fi):
		return r.rotated()
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if fi, err := cur.f.Stat(); err == nil && fi.Size() <= r.file.pos {
		// Nothing new, or truncated in place and written again up to the position at most.
		if ok, err := r.file.intact(); err != nil {
			return err
		} else if !ok {
			if r.truncated() {
				return nil
			}
			return io.EOF
		}
	}
	if r.src.Running != nil && !time.Now().Before(r.nextCheck) {
		running, err := r.running()
		if err != nil {
			return err
		}
		if !running {
			// Its last entries were written before it stopped: read them, then end.
			r.ending = true
			return nil
		}
		r.nextCheck = time.Now().Add(r.checkEvery)
		r.checkEvery = min(2*r.checkEvery, runningCheckMax)
	}
	return r.sleep()
}

// rotated finds the files written after the one being read, which the driver renamed. They are opened at once,
// so that no later rotation can delete them before they are read. When the file being read is no longer among
// the log's files, what followed it may be gone too: the stream ends after it.
func (r *reader) rotated() error {
	cur := r.files[0]
	files, err := openSet(r.src.Path, &cur)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errRotating):
		// Between the rename and the creation of the new file, or rotating faster than the files can be opened.
		return r.sleep()
	case err != nil:
		return err
	case files == nil:
		r.ending = true
		return nil
	}
	// files[0] is the file being read, open twice now.
	files[0].f.Close()
	r.files = append(r.files, files[1:]...)
	return nil
}

// running asks Source.Running without holding the stream, so that Close is not held up.
func (r *reader) running() (bool, error) {
	r.mu.Unlock()
	running, err := r.src.Running(r.ctx)
	r.mu.Lock()
	switch {
	case r.closed:
		return false, errClosed
	case r.ctx.Err() != nil:
		return false, r.ctx.Err()
	}
	// Unknown (the daemon did not answer): follow on.
	return running || err != nil, nil
}

// sleep waits one poll interval without holding the stream.
func (r *reader) sleep() error {
	r.mu.Unlock()
	t := time.NewTimer(r.src.Poll)
	defer t.Stop()
	var err error
	select {
	case <-r.ctx.Done():
		err = r.ctx.Err()
	case <-r.done:
		err = errClosed
	case <-t.C:
	}
	r.mu.Lock()
	if err == nil && r.closed {
		err = errClosed
	}
	return err
}
