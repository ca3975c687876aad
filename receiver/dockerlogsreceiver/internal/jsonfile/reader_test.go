package jsonfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// readAll reads a stream that is not followed.
func readAll(t *testing.T, src Source, req docker.LogsRequest) []byte {
	t.Helper()
	rc, err := Open(context.Background(), src, req)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHistoryMatchesTheAPI(t *testing.T) {
	d := newDriver(t, 300, 100) // about 10 entries per file
	all := lines(0, 95)
	for _, e := range all {
		d.write(e)
	}
	if d.rotations < 5 {
		t.Fatalf("only %d rotations", d.rotations)
	}
	since := func(n int) int64 { return line(n).Time }
	tests := []struct {
		name string
		req  docker.LogsRequest
		want []Entry
	}{
		{"all", docker.LogsRequest{}, all},
		{"since", docker.LogsRequest{Since: since(37)}, all[37:]},
		{"since between entries", docker.LogsRequest{Since: since(37) - 1}, all[37:]},
		{"since after the end", docker.LogsRequest{Since: since(95)}, nil},
		{"tail within the newest file", docker.LogsRequest{Tail: 3}, all[92:]},
		{"tail across files", docker.LogsRequest{Tail: 41}, all[54:]},
		{"tail longer than the log", docker.LogsRequest{Tail: 1000}, all},
		{"tail then since", docker.LogsRequest{Tail: 41, Since: since(60)}, all[60:]},
		{"tail then an older since", docker.LogsRequest{Tail: 41, Since: since(10)}, all[54:]},
		{"no history", docker.LogsRequest{Tail: -1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, tty := range []bool{false, true} {
				got := readAll(t, Source{Path: d.path, TTY: tty}, tt.req)
				if want := apiStream(tt.want, tty); !bytes.Equal(got, want) {
					t.Errorf("tty=%v:\ngot  %q\nwant %q", tty, abbrev(got), abbrev(want))
				}
			}
		})
	}
}

func TestPartialEntriesAndEscapes(t *testing.T) {
	d := newDriver(t, 0, 0)
	long := strings.Repeat("x", 16<<10)
	entries := []Entry{
		{Stream: Stdout, Time: t0, Log: []byte(long)},
		{Stream: Stderr, Time: t0 + 5, Log: []byte("between\n")},
		{Stream: Stdout, Time: t0, Log: []byte(long)},
		{Stream: Stdout, Time: t0, Log: []byte("end of the long line\n")},
		{Stream: Stdout, Time: t0 + 10, Log: []byte("tab\t \"quoted\" <b>&amp; back\\slash \x1b[31m red é 日本 \U0001F600\r\n")},
		{Stream: Stderr, Time: t0 + 11, Log: []byte("not utf-8: \xff\xfe end\n")},
		{Stream: Stdout, Time: t0 + 12, Log: []byte("no newline at the end")},
	}
	for _, e := range entries {
		d.write(e)
	}
	want := entries
	want[5].Log = []byte("not utf-8: \uFFFD\uFFFD end\n") // the daemon's decoder replaces bytes that are not UTF-8
	got := readAll(t, Source{Path: d.path}, docker.LogsRequest{})
	if w := apiStream(want, false); !bytes.Equal(got, w) {
		t.Errorf("got  %q\nwant %q", abbrev(got), abbrev(w))
	}
	// A tail counts entries: the 16 KiB pieces are entries of their own.
	got = readAll(t, Source{Path: d.path}, docker.LogsRequest{Tail: 5})
	if w := apiStream(want[2:], false); !bytes.Equal(got, w) {
		t.Errorf("tail: got %q\nwant %q", abbrev(got), abbrev(w))
	}
}

func TestTheDriversOwnFormIsRead(t *testing.T) {
	d := newDriver(t, 0, 0)
	// As the driver writes: control characters as \u00XX, attributes before the time, trailing zeros trimmed.
	raw := `{"log":"a\u0009b\u001b[0m\n","stream":"stderr","time":"2026-12-02T02:59:34.78481591Z"}` + "\n" +
		`{"log":"with attrs\n","stream":"stdout","attrs":{"time":"x\"}","tag":"a"},"time":"2026-12-02T02:59:35Z"}` + "\n"
	if _, err := d.f.WriteString(raw); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 12, 2, 2, 59, 34, 784815910, time.UTC).UnixNano()
	want := []Entry{
		{Stream: Stderr, Time: ts, Log: []byte("a\tb\x1b[0m\n")},
		{Stream: Stdout, Time: time.Date(2026, 12, 2, 2, 59, 35, 0, time.UTC).UnixNano(), Log: []byte("with attrs\n")},
	}
	if got, w := readAll(t, Source{Path: d.path}, docker.LogsRequest{}), apiStream(want, false); !bytes.Equal(got, w) {
		t.Errorf("got  %q\nwant %q", got, w)
	}
}

// follower reads a followed stream in the background.
type follower struct {
	rc   io.ReadCloser
	buf  bytes.Buffer
	done chan error
}

func follow(t *testing.T, ctx context.Context, src Source, req docker.LogsRequest) *follower {
	t.Helper()
	req.Follow = true
	rc, err := Open(ctx, src, req)
	if err != nil {
		t.Fatal(err)
	}
	f := &follower{rc: rc, done: make(chan error, 1)}
	go func() {
		_, err := io.Copy(&f.buf, rc)
		f.done <- err
	}()
	t.Cleanup(func() { rc.Close() })
	return f
}

// wait returns the stream's end and what it held.
func (f *follower) wait(t *testing.T) ([]byte, error) {
	t.Helper()
	select {
	case err := <-f.done:
		return f.buf.Bytes(), err
	case <-time.After(20 * time.Second):
		t.Fatal("the followed stream did not end")
		return nil, nil
	}
}

func TestFollowAcrossRotationsUntilTheContainerStops(t *testing.T) {
	d := newDriver(t, 2000, 1000)
	var stopped atomic.Bool
	src := Source{Path: d.path, Poll: time.Millisecond, Running: func(context.Context) (bool, error) { return !stopped.Load(), nil }}
	for _, e := range lines(0, 10) {
		d.write(e)
	}
	f := follow(t, context.Background(), src, docker.LogsRequest{Tail: 4})
	for n := 10; n < 3000; n++ {
		d.write(line(n))
		if n%200 == 0 {
			time.Sleep(5 * time.Millisecond) // the reader catches up and waits, as in life
		}
	}
	stopped.Store(true)
	got, err := f.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := apiStream(lines(6, 3000), false); !bytes.Equal(got, want) {
		t.Fatalf("after %d rotations: got %d bytes, want %d: %q", d.rotations, len(got), len(want), abbrev(got))
	}
	if d.rotations < 100 {
		t.Errorf("only %d rotations", d.rotations)
	}
}

func TestAFollowedFileDeletedUnreadEndsTheStream(t *testing.T) {
	d := newDriver(t, 500, 2)
	src := Source{Path: d.path, Poll: time.Hour, Running: func(context.Context) (bool, error) { return true, nil }}
	rc := followFromFirstLine(t, d, src)
	defer rc.Close()
	// Three files' worth while the reader looks away: the file it read is deleted, and the one after it.
	for n := 1; n < 40; n++ {
		d.write(line(n))
	}
	r := rc.(*reader)
	r.mu.Lock()
	r.nextCheck = time.Now().Add(time.Hour)
	err := r.wait() // what the next Read at the end of the file does
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
	for n := 1; n < 40 && !bytes.Equal(got, want); n++ {
		want = apiStream(lines(1, n), false)
	}
	if !bytes.Equal(got, want) || len(got) == 0 || len(got) >= len(apiStream(lines(1, 40), false)) {
		t.Errorf("got %q", abbrev(got))
	}
}

func TestATruncatedFileEndsTheStream(t *testing.T) {
	d := newDriver(t, 0, 0)
	for _, e := range lines(0, 5) {
		d.write(e)
	}
	src := Source{Path: d.path, Poll: time.Millisecond, Running: func(context.Context) (bool, error) { return true, nil }}
	f := follow(t, context.Background(), src, docker.LogsRequest{})
	time.Sleep(20 * time.Millisecond)
	if err := d.f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	got, err := f.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := apiStream(lines(0, 5), false); !bytes.Equal(got, want) {
		t.Errorf("got %q", abbrev(got))
	}
}

func TestCloseAndCancelEndAWaitingRead(t *testing.T) {
	d := newDriver(t, 0, 0)
	src := Source{Path: d.path, Poll: time.Hour}
	f := follow(t, context.Background(), src, docker.LogsRequest{})
	time.Sleep(10 * time.Millisecond)
	f.rc.Close()
	if _, err := f.wait(t); !errors.Is(err, errClosed) {
		t.Errorf("after Close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f = follow(t, ctx, src, docker.LogsRequest{})
	time.Sleep(10 * time.Millisecond)
	cancel()
	if _, err := f.wait(t); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
}

func TestAMissingLogIsAnError(t *testing.T) {
	if _, err := Open(context.Background(), Source{Path: t.TempDir() + "/x-json.log"}, docker.LogsRequest{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

func abbrev(b []byte) []byte {
	if len(b) > 400 {
		return append(append(append([]byte{}, b[:200]...), "..."...), b[len(b)-200:]...)
	}
	return b
}
