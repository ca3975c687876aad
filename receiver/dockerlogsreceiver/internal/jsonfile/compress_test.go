package jsonfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// compressRotated does what json-file's compress option does after a rotation: <path>.1 becomes <path>.1.gz.
func compressRotated(t *testing.T, d *driver) {
	t.Helper()
	b, err := os.ReadFile(d.path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	w.Close()
	if err := os.WriteFile(d.path+".1.gz", z.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(d.path + ".1"); err != nil {
		t.Fatal(err)
	}
}

func TestALogWithCompressedFilesIsNotOpened(t *testing.T) {
	d := newDriver(t, 300, 3)
	n := 0
	for d.rotations < 1 {
		d.write(line(n))
		n++
	}
	compressRotated(t, d)
	// Its history is in the compressed file: read without it, the lines there would look lost.
	if _, err := Open(context.Background(), Source{Path: d.path}, docker.LogsRequest{}); !errors.Is(err, ErrCompressed) {
		t.Errorf("got %v, want ErrCompressed", err)
	}
}

func TestAFollowedFileCompressedAwayEndsTheStreamWithAnError(t *testing.T) {
	d := newDriver(t, 300, 3)
	src := Source{Path: d.path, Poll: time.Millisecond, Running: func(context.Context) (bool, error) { return true, nil }}
	n := 0
	for d.size < 200 {
		d.write(line(n))
		n++
	}
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
	// The file being read is renamed and compressed before the reader sees the rotation.
	for d.rotations < 1 {
		d.write(line(n))
		n++
	}
	compressRotated(t, d)
	rest, err := io.ReadAll(rc)
	if !errors.Is(err, ErrCompressed) {
		t.Errorf("got %v, want ErrCompressed: the lines after the file read are not lost", err)
	}
	// The file read is read to its end first.
	if w := apiStream(lines(0, n-1), false); !bytes.Equal(append(buf[:got], rest...), w) {
		t.Errorf("got  %q\nwant %q", abbrev(append(buf[:got], rest...)), abbrev(w))
	}
}
