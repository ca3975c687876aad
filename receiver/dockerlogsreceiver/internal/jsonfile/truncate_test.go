package jsonfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// With max-file 1 the driver truncates its file in place once it holds max-size, before its next write.
const truncSize = 500

// openTruncating follows a max-file 1 log whose container runs.
func openTruncating(t *testing.T, d *driver) io.ReadCloser {
	t.Helper()
	src := Source{Path: d.path, MaxSize: truncSize, Poll: time.Millisecond,
		Running: func(context.Context) (bool, error) { return true, nil }}
	rc, err := Open(context.Background(), src, docker.LogsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return rc
}

// readReady reads what the stream has ready; something must be.
func readReady(t *testing.T, rc io.Reader) ([]byte, error) {
	t.Helper()
	buf := make([]byte, 1<<20)
	n, err := rc.Read(buf)
	return buf[:n], err
}

// long is the n-th test entry made longer than a whole file, so that a file truncated and written again with it
// holds more than before.
func long(n int) Entry {
	e := line(n)
	e.Log = append(bytes.Repeat([]byte{'.'}, 2*truncSize), e.Log...)
	return e
}

// entries are the test entries from to to, long where isLong says.
func entries(from, to int, isLong func(int) bool) []Entry {
	var es []Entry
	for n := from; n < to; n++ {
		if isLong(n) {
			es = append(es, long(n))
		} else {
			es = append(es, line(n))
		}
	}
	return es
}

// writeUntil writes entries from n on until the file holds at least size bytes, and returns the next n.
func writeUntil(d *driver, n, size int) int {
	for d.size < size || n == 0 {
		d.write(line(n))
		n++
	}
	return n
}

func TestATruncatedFileReadWholeIsReadOnFromItsStart(t *testing.T) {
	for _, past := range []bool{true, false} {
		d := newDriver(t, truncSize, 1)
		n := writeUntil(d, 0, truncSize)
		rc := openTruncating(t, d)
		got, err := readReady(t, rc)
		if w := apiStream(lines(0, n), false); err != nil || !bytes.Equal(got, w) {
			t.Fatalf("first file: %q, %v", abbrev(got), err)
		}
		// Truncated, then written again past the position the reader stands at (it would land inside an entry),
		// or up to less than it.
		isLong := func(m int) bool { return past && m == n }
		if past {
			d.write(long(n))
		} else {
			d.write(line(n))
		}
		if d.rotations != 1 {
			t.Fatalf("%d truncations", d.rotations)
		}
		got, err = readReady(t, rc)
		if w := apiStream(entries(n, n+1, isLong), false); err != nil || !bytes.Equal(got, w) {
			t.Errorf("past=%v: after the truncation: %v\ngot  %q\nwant %q", past, err, abbrev(got), abbrev(w))
		}
	}
}

func TestATruncatedFileNotReadWholeEndsTheStreamAtTheLoss(t *testing.T) {
	for _, past := range []bool{true, false} {
		d := newDriver(t, truncSize, 1)
		n := writeUntil(d, 0, truncSize/2)
		rc := openTruncating(t, d)
		if got, err := readReady(t, rc); err != nil || !bytes.Equal(got, apiStream(lines(0, n), false)) {
			t.Fatalf("first lines: %q, %v", abbrev(got), err)
		}
		// Written while the reader looked away, then truncated with the file: lost.
		lost := writeUntil(d, n, truncSize)
		isLong := func(m int) bool { return past && m == lost }
		if past {
			d.write(long(lost))
		} else {
			d.write(line(lost))
		}
		if d.rotations != 1 {
			t.Fatalf("%d truncations", d.rotations)
		}
		if got, err := readReady(t, rc); !errors.Is(err, io.EOF) || len(got) != 0 {
			t.Errorf("past=%v: got %q, %v; want the end of the stream", past, abbrev(got), err)
		}
		// The reopen starts at the first line left, which shows the loss: lines n to lost-1.
		if got, w := readAll(t, Source{Path: d.path}, docker.LogsRequest{}), apiStream(entries(lost, lost+1, isLong), false); !bytes.Equal(got, w) {
			t.Errorf("past=%v: reopen\ngot  %q\nwant %q", past, abbrev(got), abbrev(w))
		}
	}
}

func TestARunOfTruncationsLosesNothingReadWhole(t *testing.T) {
	// Each file read whole before it is truncated, whatever the reader finds when it looks again: a file written
	// up to before, or past, where it stands.
	d := newDriver(t, truncSize, 1)
	rc := openTruncating(t, d)
	var written []Entry
	write := func(e Entry) {
		d.write(e)
		written = append(written, e)
	}
	n := 0
	next := func() {
		if n%7 == 3 {
			write(long(n))
		} else {
			write(line(n))
		}
		n++
	}
	var got []byte
	for d.rotations < 40 {
		if n > 0 {
			next() // truncates
		}
		for d.size < truncSize {
			next()
		}
		b, err := readReady(t, rc)
		if err != nil {
			t.Fatalf("after %d truncations: %v", d.rotations, err)
		}
		got = append(got, b...)
	}
	if w := apiStream(written, false); !bytes.Equal(got, w) {
		t.Errorf("got  %q\nwant %q", abbrev(got), abbrev(w))
	}
}

// FuzzTruncationsInPlace writes, truncates in place (max-file 1) and reads in any order, as long as the reader
// read some of each file before it was truncated: the stream holds every entry written once, in order, up to where
// it ends, and it ends only where an entry was truncated away unread. (A file written and truncated whole while the
// reader does not look leaves nothing to tell it by.)
func FuzzTruncationsInPlace(f *testing.F) {
	f.Add([]byte{3, 2, 0, 2, 3, 0, 2})
	f.Add([]byte{0, 2, 3, 1, 2, 0, 0, 3, 0, 2})
	f.Add([]byte{3, 2, 1, 2, 3, 2, 0, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		d := newDriver(t, truncSize, 1)
		rc := openTruncating(t, d)
		r := rc.(*reader)
		var written []Entry
		var got []byte
		ended := false
		// The truncations up to the reader's last look, and the size of the file then.
		seen, seenSize := d.rotations, 0
		look := func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.nextCheck = time.Now().Add(time.Hour)
			for !ended {
				err := r.fill(false)
				if errors.Is(err, errNoData) {
					// At the end of the file: what the reader does before it waits for more.
					if err = r.wait(); err == nil {
						if err = r.fill(false); errors.Is(err, errNoData) {
							break
						}
					}
				}
				if errors.Is(err, io.EOF) {
					ended = true
				} else if err != nil {
					t.Fatal(err)
				}
			}
			got, r.out = append(got, r.out...), r.out[:0]
			seen, seenSize = d.rotations, d.size
		}
		write := func(e Entry) {
			if d.size >= truncSize && (d.rotations > seen || seenSize == 0) {
				look() // this file would be truncated before the reader read any of it
			}
			d.write(e)
			written = append(written, e)
		}
		for i, op := range ops {
			switch op % 4 {
			case 0:
				write(line(i))
			case 1:
				write(long(i))
			case 2:
				look()
			case 3:
				for d.size < truncSize {
					write(line(i))
				}
			}
		}
		look()
		out := decodeFrames(t, got)
		if len(out) > len(written) {
			t.Fatalf("%d entries out of %d written", len(out), len(written))
		}
		for i, o := range out {
			if w := written[i]; o.Time != w.Time || !bytes.Equal(o.Log, w.Log) {
				t.Fatalf("entry %d: got %d %q, want %d %q", i, o.Time, o.Log, w.Time, w.Log)
			}
		}
		if !ended && len(out) != len(written) {
			t.Fatalf("the stream goes on but holds %d of %d entries", len(out), len(written))
		}
		if ended {
			// The next entry is no longer in the file: it was truncated away unread.
			left := readAll(t, Source{Path: d.path}, docker.LogsRequest{})
			if len(out) == len(written) || bytes.Contains(left, apiStream(written[len(out):len(out)+1], false)) {
				t.Fatalf("the stream ended after %d of %d entries, and nothing was lost", len(out), len(written))
			}
		}
	})
}
