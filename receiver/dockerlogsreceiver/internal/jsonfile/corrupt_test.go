package jsonfile

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// corruptions collects what a Corruptions reports.
type corruptions struct {
	mu   sync.Mutex
	got  []Corrupt
	sink *Corruptions
}

func newCorruptions() *corruptions {
	c := &corruptions{}
	c.sink = NewCorruptions(func(x Corrupt) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.got = append(c.got, x)
	})
	return c
}

func (c *corruptions) reported() []Corrupt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Corrupt(nil), c.got...)
}

// raw appends bytes that are not the driver's and returns where they went.
func (d *driver) raw(b string) Corrupt {
	c := Corrupt{File: d.path, Offset: int64(d.size), Length: int64(len(strings.TrimSuffix(b, "\n")))}
	if _, err := d.f.WriteString(b); err != nil {
		d.t.Fatal(err)
	}
	d.size += len(b)
	return c
}

func TestCorruptEntriesArePassedOverAndReportedOnce(t *testing.T) {
	d := newDriver(t, 0, 0)
	var want []Corrupt
	d.write(line(0))
	want = append(want, d.raw(strings.Repeat("\x00", 700)+"\n")) // a crash's NULs, then a newline
	d.write(line(1))
	// A torn entry and NULs, the next entry glued to them: only the stretch before the entry is corrupt.
	torn := `{"log":"half a li` + strings.Repeat("\x00", 300)
	want = append(want, Corrupt{File: d.path, Offset: int64(d.size), Length: int64(len(torn))})
	d.raw(torn)
	d.write(line(2))
	want = append(want, d.raw("{not json}\n"))
	d.write(line(3))
	// A NUL inside an entry's text: encoding/json, as the daemon, refuses the line.
	nul := strings.Replace(string(marshal(line(100))), "seq", "s\x00q", 1)
	want = append(want, d.raw(nul))
	d.write(line(4))
	// A stretch longer than any line the driver writes, glued to an entry.
	long := strings.Repeat("\x00", 3<<20)
	want = append(want, Corrupt{File: d.path, Offset: int64(d.size), Length: int64(len(long))})
	d.raw(long)
	d.write(line(5))
	// An entry that lends its time to nothing before it: a fragment carrying a later time.
	frag := `{"log":"x","stream":"stdout","time":"2099-01-01T00:00:00Z"`
	want = append(want, Corrupt{File: d.path, Offset: int64(d.size), Length: int64(len(frag))})
	d.raw(frag)
	d.write(line(6))

	c := newCorruptions()
	src := Source{Path: d.path, Corrupt: c.sink}
	for _, tty := range []bool{false, true} {
		src.TTY = tty
		// Read twice: the second read meets the same stretches and reports none of them again.
		for range 2 {
			if got, w := readAll(t, src, docker.LogsRequest{}), apiStream(lines(0, 7), tty); !bytes.Equal(got, w) {
				t.Fatalf("tty=%v:\ngot  %q\nwant %q", tty, abbrev(got), abbrev(w))
			}
		}
	}
	if got := c.reported(); !equalCorrupt(got, want) {
		t.Errorf("reported %+v\nwant     %+v", got, want)
	}
	// since judges the entries after a corrupt stretch as usual.
	if got, w := readAll(t, Source{Path: d.path}, docker.LogsRequest{Since: line(4).Time}), apiStream(lines(4, 7), false); !bytes.Equal(got, w) {
		t.Errorf("since:\ngot  %q\nwant %q", abbrev(got), abbrev(w))
	}
}

func TestACorruptEntryInAFollowedFileIsPassedOver(t *testing.T) {
	d := newDriver(t, 0, 0)
	c := newCorruptions()
	var running sync.Mutex
	stopped := false
	src := Source{Path: d.path, Poll: time.Millisecond, Corrupt: c.sink, Running: func(context.Context) (bool, error) {
		running.Lock()
		defer running.Unlock()
		return !stopped, nil
	}}
	d.write(line(0))
	f := follow(t, context.Background(), src, docker.LogsRequest{})
	want := d.raw(strings.Repeat("\x00", 100) + "\n")
	d.write(line(1))
	d.raw(strings.Repeat("\x00", 10))
	d.write(line(2))
	running.Lock()
	stopped = true
	running.Unlock()
	got, err := f.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if w := apiStream(lines(0, 3), false); !bytes.Equal(got, w) {
		t.Errorf("got  %q\nwant %q", abbrev(got), abbrev(w))
	}
	if r := c.reported(); len(r) != 2 || r[0] != want || r[1].Length != 10 {
		t.Errorf("reported %+v", r)
	}
}

// equalCorrupt compares reports in any order.
func equalCorrupt(got, want []Corrupt) bool {
	if len(got) != len(want) {
		return false
	}
	left := map[Corrupt]int{}
	for _, c := range want {
		left[c]++
	}
	for _, c := range got {
		if left[c] == 0 {
			return false
		}
		left[c]--
	}
	return true
}
