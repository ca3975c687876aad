package jsonfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// t0 is a base time for test entries.
var t0 = time.Date(2026, 12, 1, 21, 47, 37, 0, time.UTC).UnixNano()

// driver writes a json-file log the way Docker's driver does: one JSON object per line, and with maxSize a
// rotation that renames Path to Path.1 (the older files one number up, the oldest beyond maxFiles deleted)
// before it creates a new file.
type driver struct {
	t                 testing.TB
	path              string
	maxSize, maxFiles int
	f                 *os.File
	size              int
	rotations         int
	// compress: each rotated file is compressed into Path.1.gz after the rotation, and Path.1 deleted, as the
	// compress option does; with lazy, that is left for compressNow or the next rotation (which waits for it).
	compress, lazy bool
	uncompressed   bool
	lastTime       int64
}

func newDriver(t testing.TB, maxSize, maxFiles int) *driver {
	t.Helper()
	id := "0123456789abcdef"
	dir := filepath.Join(t.TempDir(), id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, path: filepath.Join(dir, id+"-json.log"), maxSize: maxSize, maxFiles: maxFiles}
	d.open()
	t.Cleanup(func() { d.f.Close() })
	return d
}

func (d *driver) open() {
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o640)
	if err != nil {
		d.t.Fatal(err)
	}
	d.f, d.size = f, 0
}

// write appends an entry, rotating first when the file holds max-size or more (as Docker 20.10 does, before each
// write; the file then ends with the first entry that reached max-size).
func (d *driver) write(e Entry) {
	b := marshal(e)
	if d.maxSize > 0 && d.size >= d.maxSize {
		d.rotate()
	}
	if _, err := d.f.Write(b); err != nil {
		d.t.Fatal(err)
	}
	d.size += len(b)
	d.lastTime = e.Time
}

func (d *driver) rotate() {
	d.f.Close()
	d.rotations++
	if d.maxFiles < 2 {
		d.open()
		return
	}
	ext := ""
	if d.compress {
		// The driver holds the next rotation until the last one's file is compressed.
		d.compressNow()
		ext = ".gz"
	}
	// Only the files that exist are renamed (the driver tries every number up to max-file).
	for i := min(d.maxFiles-1, d.rotations); i > 1; i-- {
		os.Rename(d.path+"."+strconv.Itoa(i-1)+ext, d.path+"."+strconv.Itoa(i)+ext)
	}
	if err := os.Rename(d.path, d.path+".1"); err != nil {
		d.t.Fatal(err)
	}
	d.open()
	if d.compress {
		d.uncompressed = true
		if !d.lazy {
			d.compressNow()
		}
	}
}

// compressNow does what moby's compressFile does to the file rotated last: Path.1 is written into Path.1.gz, with
// the last entry's time in the gzip header's Extra as JSON, and deleted once the copy is complete.
func (d *driver) compressNow() {
	if !d.uncompressed {
		return
	}
	d.uncompressed = false
	b, err := os.ReadFile(d.path + ".1")
	if err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(d.path+".1.gz", gzipped(b, d.lastTime), 0o640); err != nil {
		d.t.Fatal(err)
	}
	if err := os.Remove(d.path + ".1"); err != nil {
		d.t.Fatal(err)
	}
}

// gzipped compresses b as moby does: one gzip member, the header's Extra holding {"lastTime":...}.
func gzipped(b []byte, lastTime int64) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Extra, _ = json.Marshal(struct {
		LastTime time.Time `json:"lastTime,omitempty"`
	}{time.Unix(0, lastTime).UTC()})
	w.Write(b)
	w.Close()
	return z.Bytes()
}

// marshal writes an entry as the driver does (encoding/json's escapes are a superset of what the driver emits).
func marshal(e Entry) []byte {
	stream := map[byte]string{Stdout: "stdout", Stderr: "stderr"}[e.Stream]
	logText, _ := json.Marshal(string(e.Log))
	return fmt.Appendf(nil, `{"log":%s,"stream":%q,"time":%q}`+"\n", logText, stream,
		time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano))
}

// apiStream is what the API sends for these entries: frames with the fixed-width time, or raw lines for a TTY.
func apiStream(entries []Entry, tty bool) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		payload := time.Unix(0, e.Time).UTC().Format("2006-01-02T15:04:05.000000000Z07:00") + " " + string(e.Log)
		if !tty {
			var h [8]byte
			h[0] = e.Stream
			binary.BigEndian.PutUint32(h[4:], uint32(len(payload)))
			b.Write(h[:])
		}
		b.WriteString(payload)
	}
	return b.Bytes()
}

// line returns the n-th test entry: alternating outputs, 10 µs apart.
func line(n int) Entry {
	s := Stdout
	if n%2 == 1 {
		s = Stderr
	}
	return Entry{Stream: s, Time: t0 + int64(n)*10_000, Log: fmt.Appendf(nil, "line seq=%d\n", n)}
}

func lines(from, to int) []Entry {
	var es []Entry
	for n := from; n < to; n++ {
		es = append(es, line(n))
	}
	return es
}

// followFromFirstLine writes the log's first line, opens a follower of it and checks that the follower's first read
// is that line.
func followFromFirstLine(t *testing.T, d *driver, src Source) io.ReadCloser {
	t.Helper()
	d.write(line(0))
	rc, err := Open(context.Background(), src, docker.LogsRequest{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	if n, err := rc.Read(buf); err != nil || !bytes.Equal(buf[:n], apiStream(lines(0, 1), false)) {
		rc.Close()
		t.Fatalf("first read: %q, %v", buf[:n], err)
	}
	return rc
}
