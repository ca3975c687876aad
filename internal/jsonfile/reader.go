package jsonfile

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/docker"
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
// room for attributes. A longer line is not the driver's.
const maxLineBytes = 1 << 20

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
}

// errClosed is what a Read after Close returns.
var errClosed = errors.New("read on a closed json-file log stream")

// errNoData says a followed log has nothing more to read now.
var errNoData = errors.New("no data yet")

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
		files: files[first:], newestEnd: ends[len(ends)-1], checkEvery: runningCheckMin}
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
	// pending holds the start of a line not read whole yet.
	pending []byte
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
}

func (fr *fileReader) Read(p []byte) (int, error) {
	if fr.limit >= 0 {
		if fr.pos >= fr.limit {
			return 0, io.EOF
		}
		p = p[:min(int64(len(p)), fr.limit-fr.pos)]
	}
	n, err := fr.f.ReadAt(p, fr.pos)
	fr.pos += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}

// startFile starts reading files[0] at offset.
func (r *reader) startFile(offset int64) {
	r.file = fileReader{f: r.files[0].f, pos: offset, limit: -1}
	if !r.follow && len(r.files) == 1 {
		r.file.limit = r.newestEnd
	}
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
	if r.since != 0 {
		// Most entries dropped before since are dropped on their time alone.
		if ts, err := r.parser.entryTime(line); err == nil && ts < r.since {
			return nil
		}
	}
	e, text, err := r.parser.parse(line, r.text[:0])
	r.text = text
	if err != nil {
		// The daemon ends the stream with the error, in band.
		r.out = r.appendError(r.out, err)
		return io.EOF
	}
	if e.Stream == 0 || e.Time < r.since {
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

// appendError encodes an error as the daemon writes it into a stream it can no longer serve.
func (r *reader) appendError(b []byte, err error) []byte {
	msg := "Error grabbing logs: " + err.Error() + "\n"
	if r.src.TTY {
		return append(b, msg...)
	}
	b = append(b, 3, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	return append(b, msg...)
}

// nextLine returns the next line of the files, without its newline, valid until the next call. At the end of a
// followed log it waits for more when mayWait, and returns errNoData otherwise.
func (r *reader) nextLine(mayWait bool) ([]byte, error) {
	for {
		if r.closed {
			return nil, errClosed
		}
		line, err := r.in.ReadSlice('\n')
		switch {
		case err == nil:
			if r.waited {
				// New entries: the container is asked again only after a quiet second.
				r.waited, r.checkEvery, r.nextCheck = false, runningCheckMin, time.Now().Add(runningCheckMin)
			}
			if len(r.pending) > 0 {
				r.pending = append(r.pending, line...)
				line, r.pending = r.pending, r.pending[:0]
			}
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			r.pending = append(r.pending, line...)
			if len(r.pending) > maxLineBytes {
				return nil, fmt.Errorf("%w: a line of %s is longer than %d bytes", ErrMalformed, r.src.Path, maxLineBytes)
			}
			continue
		case !errors.Is(err, io.EOF):
			return nil, err
		}
		r.pending = append(r.pending, line...)
		if len(r.files) > 1 {
			// A rotated file is complete: go on with the file written after it.
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
	if fi, err := cur.f.Stat(); err == nil && fi.Size() < r.file.pos {
		// Truncated in place: what it held after the position is lost; a reopen at the position tells how much.
		r.ending = true
		return nil
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
