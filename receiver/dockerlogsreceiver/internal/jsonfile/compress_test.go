package jsonfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// twins returns two drivers given the same entries, one compressing its rotated files: whatever is asked of
// them, the stream read from the compressed log must equal the one read from the plain log.
func twins(t *testing.T, maxSize, maxFiles, n int) (plain, compressed *driver) {
	plain, compressed = newDriver(t, maxSize, maxFiles), newDriver(t, maxSize, maxFiles)
	compressed.compress = true
	for i := range n {
		plain.write(line(i))
		compressed.write(line(i))
	}
	return plain, compressed
}

func TestTheFilesJSONFileCompressesAreMobysGzip(t *testing.T) {
	_, d := twins(t, 300, 3, 60)
	b, err := os.ReadFile(d.path + ".1.gz")
	if err != nil {
		t.Fatal(err)
	}
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var extra struct {
		LastTime time.Time `json:"lastTime"`
	}
	if err := json.Unmarshal(z.Extra, &extra); err != nil || extra.LastTime.IsZero() {
		t.Errorf("header Extra %q: %v", z.Extra, err)
	}
	if _, err := os.Stat(d.path + ".1"); !os.IsNotExist(err) {
		t.Errorf("the plain file is deleted once compressed: %v", err)
	}
}

func TestACompressedLogServesWhatThePlainOneDoes(t *testing.T) {
	plain, compressed := twins(t, 300, 4, 100) // about 7 entries per file, the oldest deleted
	if compressed.rotations < 6 {
		t.Fatalf("only %d rotations", compressed.rotations)
	}
	for _, req := range []docker.LogsRequest{
		{},
		{Tail: 1}, {Tail: 5}, {Tail: 9}, {Tail: 15}, {Tail: 19}, {Tail: 1000}, {Tail: -1},
		{Since: line(90).Time}, {Since: line(80).Time}, {Since: line(80).Time + 1}, {Since: line(60).Time, Tail: 25},
	} {
		want := readAll(t, Source{Path: plain.path}, req)
		got := readAll(t, Source{Path: compressed.path}, req)
		if !bytes.Equal(got, want) {
			t.Errorf("%+v:\ngot  %q\nwant %q", req, abbrev(got), abbrev(want))
		}
		if req == (docker.LogsRequest{}) && len(want) == 0 {
			t.Fatal("the plain log holds nothing")
		}
	}
}

func TestAFileBeingCompressedIsReadPlain(t *testing.T) {
	plain, compressed := newDriver(t, 300, 3), newDriver(t, 300, 3)
	compressed.compress, compressed.lazy = true, true
	for i := 0; compressed.rotations < 3; i++ {
		plain.write(line(i))
		compressed.write(line(i))
	}
	// The moment between the rotation and the end of the compression: Path.1 whole, Path.1.gz partly written.
	b, err := os.ReadFile(compressed.path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	z := gzipped(b, 0)
	if err := os.WriteFile(compressed.path+".1.gz", z[:len(z)/2], 0o640); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, Source{Path: plain.path}, docker.LogsRequest{})
	if got := readAll(t, Source{Path: compressed.path}, docker.LogsRequest{}); !bytes.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", abbrev(got), abbrev(want))
	}
}

// followCompressed follows a compressing log from its first entry while rotate runs the driver on; the stream
// must end, once the container stops, with every entry once, and without an error.
func followCompressed(t *testing.T, d *driver, rotate func(n int) int) {
	t.Helper()
	var stopped atomic.Bool
	src := Source{Path: d.path, Poll: time.Millisecond, Running: func(context.Context) (bool, error) { return !stopped.Load(), nil }}
	d.write(line(0))
	rc, err := Open(context.Background(), src, docker.LogsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 1<<20)
	got, err := rc.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	n := rotate(1)
	stopped.Store(true)
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("after %d rotations: %v", d.rotations, err)
	}
	if w := apiStream(lines(0, n), false); !bytes.Equal(append(buf[:got], rest...), w) {
		t.Errorf("after %d rotations:\ngot  %q\nwant %q", d.rotations, abbrev(append(buf[:got], rest...)), abbrev(w))
	}
}

func TestAFollowedFileCompressedAwayIsReadOnWithTheFilesAfterIt(t *testing.T) {
	d := newDriver(t, 300, 4)
	d.compress = true
	// The file being read is renamed and compressed, twice, before the reader looks: the file it reads is now
	// Path.2.gz, which no inode ties to it, and Path.1.gz and Path follow it.
	followCompressed(t, d, func(n int) int {
		for d.rotations < 2 {
			d.write(line(n))
			n++
		}
		for range 3 {
			d.write(line(n))
			n++
		}
		return n
	})
}

// TestAFollowerAcrossManyCompressingRotationsReadsEveryLineOnce follows a log whose files are compressed at once
// or a while after each rotation; max-file is large, so that a slow reader loses no file.
func TestAFollowerAcrossManyCompressingRotationsReadsEveryLineOnce(t *testing.T) {
	for _, lazy := range []bool{false, true} {
		d := newDriver(t, 500, 1000)
		d.compress, d.lazy = true, lazy
		var stopped atomic.Bool
		src := Source{Path: d.path, Poll: time.Millisecond, Running: func(context.Context) (bool, error) { return !stopped.Load(), nil }}
		d.write(line(0))
		f := follow(t, context.Background(), src, docker.LogsRequest{})
		for n := 1; n < 3000; n++ {
			d.write(line(n))
			if n%40 == 0 {
				time.Sleep(2 * time.Millisecond) // the reader catches up and waits, as in life
			}
			if lazy && n%7 == 0 {
				d.compressNow() // at any moment after a rotation
			}
		}
		stopped.Store(true)
		got, err := f.wait(t)
		if err != nil {
			t.Fatal(err)
		}
		if want := apiStream(lines(0, 3000), false); !bytes.Equal(got, want) {
			t.Fatalf("lazy %v, after %d rotations: got %d bytes, want %d: %q", lazy, d.rotations, len(got), len(want), abbrev(got))
		}
		if d.rotations < 100 {
			t.Errorf("only %d rotations", d.rotations)
		}
	}
}

func TestAFollowedFileCompressedAndDeletedEndsTheStreamAtTheLoss(t *testing.T) {
	d := newDriver(t, 300, 2)
	d.compress = true
	src := Source{Path: d.path, Poll: time.Hour, Running: func(context.Context) (bool, error) { return true, nil }}
	rc := followFromFirstLine(t, d, src)
	defer rc.Close()
	// Two rotations while the reader looks away: its file's copy and the file after it are deleted.
	n := 1
	for d.rotations < 2 {
		d.write(line(n))
		n++
	}
	r := rc.(*reader)
	r.mu.Lock()
	r.nextCheck = time.Now().Add(time.Hour)
	err := r.wait()
	r.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	// Its own file's rest, then the end: a reopen at the position finds the loss.
	var want []byte
	for m := 1; m < n && !bytes.Equal(got, want); m++ {
		want = apiStream(lines(1, m), false)
	}
	if !bytes.Equal(got, want) || len(got) == 0 || len(got) >= len(apiStream(lines(1, n), false)) {
		t.Errorf("got %q", abbrev(got))
	}
}

func TestADamagedCompressedFileIsPassedOverAndReported(t *testing.T) {
	d := newDriver(t, 300, 4)
	d.compress = true
	n := 0
	for d.rotations < 3 {
		d.write(line(n))
		n++
	}
	// Path.2.gz loses its end: what it still gives is read, the rest reported, and Path.1.gz and Path are read.
	z, err := os.ReadFile(d.path + ".2.gz")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := io.ReadAll(mustGunzip(t, z))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.path+".2.gz", z[:len(z)-12], 0o640); err != nil {
		t.Fatal(err)
	}
	c := newCorruptions()
	got := readAll(t, Source{Path: d.path, Corrupt: c.sink}, docker.LogsRequest{})
	frames := decodeFrames(t, got)
	if len(frames) == 0 || frames[len(frames)-1].Time != line(n-1).Time {
		t.Fatalf("the files after the damaged one are read: %q", abbrev(got))
	}
	reports := c.reported()
	if len(reports) != 1 || reports[0].File != d.path+".2.gz" || reports[0].Offset > int64(len(whole)) {
		t.Errorf("reported %+v, want one stretch of %s", reports, d.path+".2.gz")
	}
	// Every entry before the damage and after the damaged file arrives, in order, once.
	for i := 1; i < len(frames); i++ {
		if frames[i].Time <= frames[i-1].Time {
			t.Fatalf("entry %d out of order: %q", i, abbrev(got))
		}
	}
}

// mustGunzip opens gzip bytes.
func mustGunzip(t *testing.T, b []byte) io.Reader {
	t.Helper()
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return z
}
