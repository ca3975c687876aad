package jsonfile

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/docker"
)

// FuzzParseAgreesWithEncodingJSON: every line the driver could have written decodes to what the daemon's decoder
// (encoding/json) makes of it.
func FuzzParseAgreesWithEncodingJSON(f *testing.F) {
	f.Add([]byte(`{"log":"a\u0009b\n","stream":"stdout","time":"2026-12-02T02:59:34.78481591Z"}`))
	f.Add([]byte(`{"log":"\ud83d\ude00 \u00e9 \xff","stream":"stderr","attrs":{"a":"b"},"time":"2026-12-02T02:59:34Z"}`))
	f.Add([]byte(`{"log":"x","stream":"stdout","time":"2026-12-02T02:59:34.1+01:00"}`))
	f.Add(marshal(line(3))[:len(marshal(line(3)))-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		var p parser
		got, _, err := p.parse(b, nil)
		want, werr := p.slow(b, nil)
		if werr != nil || !json.Valid(b) {
			return
		}
		if err != nil {
			t.Fatalf("%q: %v, encoding/json: %+v", b, err, want)
		}
		if got.Stream != want.Stream || got.Time != want.Time || !bytes.Equal(got.Log, want.Log) {
			t.Fatalf("%q:\ngot  %d %d %q\nwant %d %d %q", b, got.Stream, got.Time, got.Log, want.Stream, want.Time, want.Log)
		}
	})
}

// FuzzRotatedLogServesWhatTheAPIWould: entries of any text (16 KiB pieces included), written through any number of
// rotations, read back with any since and tail, are the API's stream of the entries the files still hold.
func FuzzRotatedLogServesWhatTheAPIWould(f *testing.F) {
	f.Add([]byte("hello\nworld\x00partial\n"), uint16(200), uint8(5), uint8(0), uint16(0), false)
	f.Add([]byte("a\nb\nc\nd\ne\nf\ng\nh\n"), uint16(90), uint8(3), uint8(4), uint16(3), true)
	f.Add(bytes.Repeat([]byte("x"), 3000), uint16(100), uint8(1), uint8(2), uint16(1), false)
	f.Fuzz(func(t *testing.T, text []byte, maxSize uint16, maxFiles uint8, sinceAt uint8, tail uint16, tty bool) {
		// Entries: the text cut at each newline and at every 300 bytes (a piece without newline), alternating outputs,
		// each piece of a cut line stamped like its first piece.
		var entries []Entry
		ts := t0
		for len(text) > 0 && len(entries) < 200 {
			n := bytes.IndexByte(text, '\n') + 1
			if n == 0 || n > 300 {
				n = min(len(text), 300)
			}
			s := Stdout
			if len(entries)%3 == 2 {
				s = Stderr
			}
			entries = append(entries, Entry{Stream: s, Time: ts, Log: text[:n]})
			if text[n-1] == '\n' {
				ts += int64(len(entries)%4) * 1000 // some entries share a time
			}
			text = text[n:]
		}
		d := newDriver(t, int(maxSize), int(maxFiles%8))
		held := 0 // the first entry the files still hold
		for i, e := range entries {
			before := d.rotations
			d.write(e)
			if d.rotations > before {
				if d.maxFiles < 2 {
					held = i
				} else if d.rotations >= d.maxFiles {
					// Each rotation past max-file deletes the oldest file: recount from the files.
					held = -1
				}
			}
		}
		kept := entries[max(held, 0):]
		if held < 0 {
			kept = entriesInFiles(t, d, entries)
		}
		var since int64
		if sinceAt > 0 && len(entries) > 0 {
			since = entries[int(sinceAt)%len(entries)].Time
		}
		want := kept
		if tail > 0 && int(tail) < len(want) {
			want = want[len(want)-int(tail):]
		}
		var filtered []Entry
		for _, e := range want {
			// The daemon's decoder makes text that is not UTF-8 valid; compare it the same way.
			if e.Time >= since {
				filtered = append(filtered, decoded(t, e))
			}
		}
		got := readAll(t, Source{Path: d.path, TTY: tty}, docker.LogsRequest{Since: since, Tail: int(tail)})
		if w := apiStream(filtered, tty); !bytes.Equal(got, w) {
			t.Fatalf("rotations %d:\ngot  %q\nwant %q", d.rotations, abbrev(got), abbrev(w))
		}
	})
}

// entriesInFiles returns the entries whose line is still in one of the log's files (after deletions).
func entriesInFiles(t *testing.T, d *driver, entries []Entry) []Entry {
	files, err := openAll(d.path)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles(files)
	var lines int
	for _, f := range files {
		fi, _ := f.f.Stat()
		b := make([]byte, fi.Size())
		f.f.ReadAt(b, 0)
		lines += bytes.Count(b, []byte("\n"))
	}
	return entries[len(entries)-lines:]
}

// decoded is e as the daemon's decoder returns it.
func decoded(t *testing.T, e Entry) Entry {
	var s string
	if err := json.Unmarshal(marshal(e)[len(`{"log":`):bytes.Index(marshal(e), []byte(`,"stream"`))], &s); err != nil {
		t.Fatal(err)
	}
	e.Log = []byte(s)
	return e
}
