package decode

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// finishAll reads the lines Finish ends at the end of a stream.
func finishAll(r *Reader) []got {
	var out []got
	for {
		l, ok := r.Finish()
		if !ok {
			return out
		}
		out = append(out, got{l.Stream, l.Timestamp, string(l.Body), l.Entries})
	}
}

func TestUnterminatedLastWrite(t *testing.T) {
	later := t0 + 500_000_000
	tests := []struct {
		name      string
		input     string
		tty       bool
		want      []got // from Next, up to io.EOF
		finished  []got // then from Finish
		stillOpen bool
	}{
		{
			name:     "multiplexed: the last line has no newline",
			input:    muxLine(Stdout, t0, "one") + frame(1, entry(t0+1, "done")),
			want:     []got{{Stdout, t0, "one", 1}},
			finished: []got{{Stdout, t0 + 1, "done", 1}},
		},
		{
			// json-file keeps the write as it is; the next run's first entry follows it.
			name:  "multiplexed: a restarted container's next entry ends it",
			input: frame(1, entry(t0, "done")) + muxLine(Stdout, later, "again"),
			want:  []got{{Stdout, t0, "done", 1}, {Stdout, later, "again", 1}},
		},
		{
			name:     "multiplexed: both outputs end without a newline",
			input:    frame(2, entry(t0+1, "err")) + frame(1, entry(t0, "out")),
			finished: []got{{Stdout, t0, "out", 1}, {Stderr, t0 + 1, "err", 1}},
		},
		{
			name:     "TTY: the last line has no newline",
			input:    ttyLine(t0, "one") + entry(t0+1, "done"),
			tty:      true,
			want:     []got{{Stdout, t0, "one", 1}},
			finished: []got{{Stdout, t0 + 1, "done", 1}},
		},
		{
			// Nothing but the content's own bytes could tell where the last write ends: the next run's first entry
			// is read with it, stamped with the earlier time.
			name:  "TTY: a restarted container's next entry is read with the last write",
			input: entry(t0, "done") + ttyLine(later, "again") + entry(later+1, "x"),
			tty:   true,
			want:  []got{{Stdout, t0, "done" + stamp(later) + " again", 1}},
			// x is the last write again.
			finished: []got{{Stdout, later + 1, "x", 1}},
		},
		{
			name:  "TTY: times in the content are content, earlier or later",
			input: ttyLine(t0, "at "+stamp(t0-1)+" x") + ttyLine(t0+1, "GET /"+stamp(later)+" y") + ttyLine(t0+2, "next"),
			tty:   true,
			want:  []got{{Stdout, t0, "at " + stamp(t0-1) + " x", 1}, {Stdout, t0 + 1, "GET /" + stamp(later) + " y", 1}, {Stdout, t0 + 2, "next", 1}},
		},
		{
			name:     "TTY: a long line cut at the end of a piece stays one line",
			input:    entry(t0, big(100)) + entry(t0, big(100)[:10]),
			tty:      true,
			finished: []got{{Stdout, t0, big(100) + big(100)[:10], 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range readers {
				r := NewReader(rd.wrap(strings.NewReader(tt.input)), Options{TTY: tt.tty})
				lines, err := readAllRetrying(r)
				if err != io.EOF {
					t.Fatalf("%s reader: got %v, want io.EOF", rd.name, err)
				}
				equalLines(t, lines, tt.want)
				if r.Pending() != (len(tt.finished) > 0) {
					t.Fatalf("%s reader: Pending %v", rd.name, r.Pending())
				}
				equalLines(t, finishAll(r), tt.finished)
				if r.Pending() {
					t.Fatalf("%s reader: Pending after Finish", rd.name)
				}
			}
		})
	}
}

// TestPiecesOfAnySize joins long lines cut into pieces of sizes other drivers and dual logging use.
func TestPiecesOfAnySize(t *testing.T) {
	body := big(300_000)
	for _, size := range []int{1, 100, 1000, 16 * 1024, 64 * 1024, 100_000, 1 << 20} {
		var tty, mux strings.Builder
		for _, p := range piecesOf(body+"\r", size) {
			tty.WriteString(entry(t0, p))
		}
		tty.WriteString(ttyLine(t0+1, "next"))
		for _, p := range piecesOf(body, size) {
			mux.WriteString(frame(byte(Stderr), entry(t0, p)))
		}
		mux.WriteString(muxLine(Stderr, t0+1, "next"))
		pieces := len(piecesOf(body, size))
		for _, c := range []struct {
			input string
			tty   bool
			want  []got
		}{
			{tty.String(), true, []got{{Stdout, t0, body, len(piecesOf(body+"\r", size))}, {Stdout, t0 + 1, "next", 1}}},
			{mux.String(), false, []got{{Stderr, t0, body, pieces}, {Stderr, t0 + 1, "next", 1}}},
		} {
			for _, rd := range readers[:3] {
				r := NewReader(rd.wrap(strings.NewReader(c.input)), Options{TTY: c.tty, MaxLineBytes: 1 << 20})
				lines, err := readAllRetrying(r)
				if err != io.EOF {
					t.Fatalf("pieces of %d, tty %v, %s reader: %v", size, c.tty, rd.name, err)
				}
				equalLines(t, lines, c.want)
			}
		}
	}
}

func TestSkipEntry(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		tty    bool
		bad    int // offset of the bad entry
		length int
		want   []got
	}{
		{
			name:   "a frame without a timestamp",
			input:  muxLine(Stdout, t0, "a") + frame(1, "secret words\n") + muxLine(Stdout, t0+1, "b"),
			bad:    len(muxLine(Stdout, t0, "a")),
			length: len(frame(1, "secret words\n")),
			want:   []got{{Stdout, t0, "a", 1}, {Stdout, t0 + 1, "b", 1}},
		},
		{
			name:   "bytes that are not a frame header",
			input:  muxLine(Stdout, t0, "a") + "secret words\n" + muxLine(Stderr, t0+1, "b"),
			bad:    len(muxLine(Stdout, t0, "a")),
			length: len("secret words\n"),
			want:   []got{{Stdout, t0, "a", 1}, {Stderr, t0 + 1, "b", 1}},
		},
		{
			name:   "bytes that are not a frame header, to the end",
			input:  muxLine(Stdout, t0, "a") + "secret words\n",
			bad:    len(muxLine(Stdout, t0, "a")),
			length: len("secret words\n"),
			want:   []got{{Stdout, t0, "a", 1}},
		},
		{
			name:   "a TTY entry without a timestamp",
			input:  ttyLine(t0, "a") + "secret words\r\n" + ttyLine(t0+1, "b"),
			tty:    true,
			bad:    len(ttyLine(t0, "a")),
			length: len("secret words\r\n"),
			want:   []got{{Stdout, t0, "a", 1}, {Stdout, t0 + 1, "b", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range readers[:3] {
				r := NewReader(rd.wrap(strings.NewReader(tt.input)), Options{TTY: tt.tty})
				lines, err := readAll(r)
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("%s reader: got %v, want ErrMalformed", rd.name, err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error %q quotes the container's output", err)
				}
				s, err := r.SkipEntry()
				if err != nil || s.Offset != int64(tt.bad) || s.Length != int64(tt.length) {
					t.Fatalf("%s reader: SkipEntry = %+v, %v; want offset %d, length %d", rd.name, s, err, tt.bad, tt.length)
				}
				more, err := readAll(r)
				if err != io.EOF {
					t.Fatalf("%s reader: after the skip got %v", rd.name, err)
				}
				equalLines(t, append(lines, more...), tt.want)
			}
		})
	}
	if _, err := NewReader(strings.NewReader(""), Options{}).SkipEntry(); err == nil {
		t.Fatal("SkipEntry with nothing to skip succeeded")
	}
}
