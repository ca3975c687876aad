package jsonfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
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
		if err == nil && (werr != nil || !json.Valid(b)) {
			// Taking bytes the daemon refuses for an entry would give them a time, and a position.
			t.Fatalf("%q: parsed as %d %d %q; encoding/json: %v", b, got.Stream, got.Time, got.Log, werr)
		}
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
// rotations, read back with any since and tail, are the API's stream of the entries the files still hold; with
// maxFiles' high bit set the rotated files are compressed (compress), and the stream is the same.
func FuzzRotatedLogServesWhatTheAPIWould(f *testing.F) {
	f.Add([]byte("hello\nworld\x00partial\n"), uint16(200), uint8(5), uint8(0), uint16(0), false)
	f.Add([]byte("a\nb\nc\nd\ne\nf\ng\nh\n"), uint16(90), uint8(3), uint8(4), uint16(3), true)
	f.Add(bytes.Repeat([]byte("x"), 3000), uint16(100), uint8(1), uint8(2), uint16(1), false)
	f.Add([]byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"), uint16(60), uint8(0x80|3), uint8(5), uint16(4), false)
	f.Add(bytes.Repeat([]byte("yz\n"), 300), uint16(200), uint8(0x80|5), uint8(0), uint16(0), true)
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
		d.compress = maxFiles&0x80 != 0
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
		if f.gz {
			n, _, err := gzLines(f, 0)
			if err != nil {
				t.Fatal(err)
			}
			lines += n
			continue
		}
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

// FuzzGarbageBetweenEntries: whatever bytes lie between the driver's entries (a crash's NULs, torn writes, other
// entries' fragments), every entry comes out once and in order, only the bytes between them are reported corrupt,
// and no output carries a time the file does not hold in an entry: a position never moves past the newest stamp
// written.
func FuzzGarbageBetweenEntries(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), []byte("\x00\x00\x00"), uint8(1))
	f.Add([]byte("a\nb\nc\nd\n"), []byte(`{"log":"torn`), uint8(2))
	f.Add([]byte("a\nb\n"), []byte(`{"log":"x","stream":"stdout","time":"2099-01-01T00:00:00Z"`), uint8(1))
	f.Add([]byte("a\nb\nc\n"), []byte("}\n{\"log\":\"x\",\"stream\":\"stderr\",\"time\":\"2026-12-01T21:47:38Z\"}\n\x00"), uint8(1))
	f.Add([]byte("x\n"), bytes.Repeat([]byte("\x00"), 5000), uint8(1))
	f.Fuzz(func(t *testing.T, text, garbage []byte, every uint8) {
		var entries []Entry
		for len(text) > 0 && len(entries) < 100 {
			n := bytes.IndexByte(text, '\n') + 1
			if n == 0 || n > 300 {
				n = min(len(text), 300)
			}
			s := Stdout
			if len(entries)%3 == 2 {
				s = Stderr
			}
			entries = append(entries, Entry{Stream: s, Time: t0 + int64(len(entries))*1000, Log: text[:n]})
			text = text[n:]
		}
		d := newDriver(t, 0, 0)
		var ranges [][2]int64 // where garbage went
		var file []byte
		put := func(b []byte) {
			d.f.Write(b)
			file = append(file, b...)
		}
		for i, e := range entries {
			if every > 0 && i%int(every) == 0 {
				ranges = append(ranges, [2]int64{int64(len(file)), int64(len(file) + len(garbage))})
				put(garbage)
			}
			put(marshal(e))
		}
		c := newCorruptions()
		rc, err := Open(context.Background(), Source{Path: d.path, Corrupt: c.sink}, docker.LogsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		rc.(*reader).maxLine = 2048 // above any entry here, below the longest garbage
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		out := decodeFrames(t, got)
		// Every entry comes out, once, in order; anything else comes from an entry the garbage holds.
		held := entriesIn(file)
		i := 0
		for _, o := range out {
			if i < len(entries) && o.Time == entries[i].Time && o.Stream == entries[i].Stream && bytes.Equal(o.Log, decoded(t, entries[i]).Log) {
				i++
				continue
			}
			if !held[o.Time] {
				t.Fatalf("an entry stamped %d that the file does not hold: %q", o.Time, o.Log)
			}
		}
		if i != len(entries) {
			t.Fatalf("%d of %d entries came out:\n%q", i, len(entries), abbrev(got))
		}
		if !bytes.Contains(garbage, []byte("}")) && len(out) != len(entries) {
			t.Fatalf("%d entries out of %d written, and the garbage holds no entry", len(out), len(entries))
		}
		for _, r := range c.reported() {
			inside := false
			for _, g := range ranges {
				inside = inside || (r.Offset >= g[0] && r.Offset+r.Length <= g[1])
			}
			if !inside {
				t.Fatalf("reported %+v, outside the garbage %v", r, ranges)
			}
		}
	})
}

// entriesIn returns the times of the entries encoding/json finds in the file: each line, from each entry head on.
func entriesIn(file []byte) map[int64]bool {
	held := map[int64]bool{}
	var p parser
	for _, l := range bytes.Split(file, []byte("\n")) {
		for i := 0; i < len(l); i++ {
			j := bytes.Index(l[i:], entryHead)
			if j < 0 {
				break
			}
			i += j
			if e, err := p.slow(l[i:], nil); err == nil {
				held[e.Time] = true
			}
		}
		if e, err := p.slow(l, nil); err == nil {
			held[e.Time] = true
		}
	}
	return held
}

// decodeFrames splits the API's multiplexed stream into entries.
func decodeFrames(t *testing.T, b []byte) []Entry {
	var out []Entry
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("a cut frame header: %q", b)
		}
		n := int(binary.BigEndian.Uint32(b[4:8]))
		payload := b[8 : 8+n]
		ts, err := time.Parse(time.RFC3339Nano, string(payload[:stampLen]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Entry{Stream: b[0], Time: ts.UnixNano(), Log: payload[stampLen+1:]})
		b = b[8+n:]
	}
	return out
}
