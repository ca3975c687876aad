package decode

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestTTYLines(t *testing.T) {
	line40k := big(40000)
	tests := []struct {
		name  string
		input string
		opts  Options
		want  []got
	}{
		{
			name:  "lines end with \\r\\n",
			input: ttyLine(t0, "hello") + ttyLine(t0+1, "world"),
			want:  []got{{Stdout, t0, "hello", 1}, {Stdout, t0 + 1, "world", 1}},
		},
		{
			name:  "a bare \\n ends a line too",
			input: entry(t0, "raw mode\n") + ttyLine(t0+1, "cooked"),
			want:  []got{{Stdout, t0, "raw mode", 1}, {Stdout, t0 + 1, "cooked", 1}},
		},
		{
			name:  "empty lines",
			input: ttyLine(t0, "") + entry(t0+1, "\n"),
			want:  []got{{Stdout, t0, "", 1}, {Stdout, t0 + 1, "", 1}},
		},
		{
			name:  "only the \\r before the \\n is dropped",
			input: ttyLine(t0, "progress\r50%\r"),
			want:  []got{{Stdout, t0, "progress\r50%\r", 1}},
		},
		{
			name:  "40,000-byte line in three pieces",
			input: ttyLine(t0, line40k) + ttyLine(t0+1, "next"),
			want:  []got{{Stdout, t0, line40k, 3}, {Stdout, t0 + 1, "next", 1}},
		},
		{
			// 16383 bytes and the "\r" fill a piece: the "\r" ends one entry, the "\n" is the next.
			name:  "\\r at the end of a piece",
			input: ttyLine(t0, big(16383)) + ttyLine(t0+1, "next"),
			want:  []got{{Stdout, t0, big(16383), 2}, {Stdout, t0 + 1, "next", 1}},
		},
		{
			name:  "line of exactly one piece",
			input: ttyLine(t0, big(16384)),
			want:  []got{{Stdout, t0, big(16384), 2}},
		},
		{
			name:  "newline as the last content byte a piece can hold",
			input: entry(t0, big(16383)+"\n") + ttyLine(t0+1, "next"),
			want:  []got{{Stdout, t0, big(16383), 1}, {Stdout, t0 + 1, "next", 1}},
		},
		{
			name:  "MaxLineBytes splits a long line",
			input: ttyLine(t0, line40k),
			opts:  Options{MaxLineBytes: 16384},
			want:  []got{{Stdout, t0, line40k[:16384], 0}, {Stdout, t0, line40k[16384:32768], 0}, {Stdout, t0, line40k[32768:], 3}},
		},
		{
			// The "\r" of the line is held back from the fragments until the "\n" shows.
			name:  "MaxLineBytes with \\r at the end of a piece",
			input: ttyLine(t0, big(16383)),
			opts:  Options{MaxLineBytes: 16382},
			want:  []got{{Stdout, t0, big(16382), 0}, {Stdout, t0, big(16383)[16382:], 2}},
		},
		{
			name:  "MaxLineBytes of 1",
			input: ttyLine(t0, "abc"),
			opts:  Options{MaxLineBytes: 1},
			want:  []got{{Stdout, t0, "a", 0}, {Stdout, t0, "b", 0}, {Stdout, t0, "c", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.TTY = true
			for _, rd := range readers {
				r := NewReader(rd.wrap(strings.NewReader(tt.input)), tt.opts)
				lines, err := readAllRetrying(r)
				if err != io.EOF {
					t.Fatalf("%s reader: got error %v, want io.EOF", rd.name, err)
				}
				equalLines(t, lines, tt.want)
				if r.Pending() {
					t.Fatalf("%s reader: Pending after a clean end", rd.name)
				}
			}
		})
	}
}

func TestTTYErrors(t *testing.T) {
	ok := ttyLine(t0, "before")
	tests := []struct {
		name     string
		input    string
		is       error
		contains string
	}{
		{"cut inside the timestamp", ok + stamp(t0)[:10], ErrTruncated, "TTY stream ends inside a timestamp (10 bytes at offset 39)"},
		{"no timestamp", ok + strings.Repeat("x", 100), ErrMalformed, "does not start with a timestamp"},
		{"bad timestamp", ok + "hello world\r\n", ErrMalformed, "TTY entry at offset 39 has a bad timestamp of 5 bytes"},
		{"an Error line that is not the daemon's", ok + "Error something\r\n", ErrMalformed, "TTY entry of 17 bytes at offset 39 does not start with a timestamp"},
		{"multiplexed stream read as TTY", ok + frame(1, entry(t0, "x\n")), ErrMalformed, "bad timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range readers {
				r := NewReader(rd.wrap(strings.NewReader(tt.input)), Options{TTY: true})
				lines, err := readAllRetrying(r)
				equalLines(t, lines, []got{{Stdout, t0, "before", 1}})
				if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.contains) {
					t.Fatalf("%s reader: got error %v, want %v containing %q", rd.name, err, tt.is, tt.contains)
				}
				noContent(t, err, tt.input[len(ok):])
				if _, again := r.Next(); again != err {
					t.Fatalf("%s reader: error is not permanent: then got %v", rd.name, again)
				}
			}
		})
	}
}

func TestTTYDaemonError(t *testing.T) {
	// On a TTY stream the daemon writes its error raw, with no timestamp.
	for _, tail := range []string{"\n", ""} {
		input := ttyLine(t0, "one") + "Error grabbing logs: log file is corrupt" + tail
		for _, rd := range readers {
			r := NewReader(rd.wrap(strings.NewReader(input)), Options{TTY: true})
			lines, err := readAllRetrying(r)
			equalLines(t, lines, []got{{Stdout, t0, "one", 1}})
			var de *DaemonError
			if !errors.As(err, &de) || de.Message != "Error grabbing logs: log file is corrupt" {
				t.Fatalf("%s reader: got %v, want a *DaemonError", rd.name, err)
			}
			if lines, err := readAllRetrying(r); err != io.EOF || len(lines) > 0 {
				t.Fatalf("%s reader: got %v after the daemon error, want io.EOF", rd.name, err)
			}
		}
	}
}

func TestTTYPendingAtEOF(t *testing.T) {
	input := ttyLine(t0, "done") + entry(t0+1, big(pieceSize))
	r := NewReader(strings.NewReader(input), Options{TTY: true})
	lines, err := readAll(r)
	equalLines(t, lines, []got{{Stdout, t0, "done", 1}})
	if err != io.EOF || !r.Pending() {
		t.Fatalf("got %v, Pending %v; want io.EOF and a pending line", err, r.Pending())
	}
}
