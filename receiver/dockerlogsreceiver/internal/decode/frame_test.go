package decode

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// big returns n bytes of text with no newline, varied so that misplaced bytes show.
func big(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 "
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[i%len(alphabet)]
	}
	return string(b)
}

func TestMuxLines(t *testing.T) {
	line100k := big(100 << 10)
	line40k := big(40000)
	tests := []struct {
		name  string
		input string
		opts  Options
		want  []got
	}{
		{
			name:  "one line on each stream",
			input: muxLine(Stdout, t0, "hello") + muxLine(Stderr, t0+1, "oops"),
			want:  []got{{Stdout, t0, "hello", 1}, {Stderr, t0 + 1, "oops", 1}},
		},
		{
			name:  "empty line",
			input: frame(1, entry(t0, "\n")),
			want:  []got{{Stdout, t0, "", 1}},
		},
		{
			name:  "spaces and carriage return stay in the body",
			input: frame(2, entry(t0, " a b \r\n")),
			want:  []got{{Stderr, t0, " a b \r", 1}},
		},
		{
			name: "interleaved streams keep their order",
			input: muxLine(Stdout, t0, "o1") + muxLine(Stderr, t0+1, "e1") +
				muxLine(Stderr, t0+2, "e2") + muxLine(Stdout, t0+3, "o2"),
			want: []got{{Stdout, t0, "o1", 1}, {Stderr, t0 + 1, "e1", 1}, {Stderr, t0 + 2, "e2", 1}, {Stdout, t0 + 3, "o2", 1}},
		},
		{
			name: "40,000-byte line in three pieces",
			input: frame(1, entry(t0, line40k[:16384])) + frame(1, entry(t0, line40k[16384:32768])) +
				frame(1, entry(t0, line40k[32768:]+"\n")),
			want: []got{{Stdout, t0, line40k, 3}},
		},
		{
			name: "100 KiB stdout line in 7 pieces interleaved with stderr lines",
			input: func() string {
				var b strings.Builder
				for i, p := range pieces(line100k) {
					b.WriteString(frame(1, entry(t0, p)))
					if i < 6 {
						b.WriteString(muxLine(Stderr, t0+int64(i+1), "err "+strconvItoa(i)))
					}
				}
				return b.String()
			}(),
			want: []got{
				{Stderr, t0 + 1, "err 0", 1}, {Stderr, t0 + 2, "err 1", 1}, {Stderr, t0 + 3, "err 2", 1},
				{Stderr, t0 + 4, "err 3", 1}, {Stderr, t0 + 5, "err 4", 1}, {Stderr, t0 + 6, "err 5", 1},
				{Stdout, t0, line100k, 7},
			},
		},
		{
			name:  "long lines on both streams at once",
			input: frame(1, entry(t0, "o-a")) + frame(2, entry(t0+1, "e-a")) + frame(1, entry(t0, "o-b\n")) + frame(2, entry(t0+1, "e-b\n")),
			want:  []got{{Stdout, t0, "o-ao-b", 2}, {Stderr, t0 + 1, "e-ae-b", 2}},
		},
		{
			name:  "line of exactly one piece and an empty last piece",
			input: muxLine(Stdout, t0, big(16384)),
			want:  []got{{Stdout, t0, big(16384), 2}},
		},
		{
			name:  "empty frames hold no entry",
			input: frame(1, "") + muxLine(Stdout, t0, "x") + frame(2, ""),
			want:  []got{{Stdout, t0, "x", 1}},
		},
		{
			name:  "timestamps in other RFC 3339 forms",
			input: frame(1, "2024-05-06T07:08:09Z a\n") + frame(1, "2024-05-06T09:08:09.5+02:00 b\n") + frame(1, "2024-05-06T09:08:09.123456789+02:00 c\n"),
			want:  []got{{Stdout, t0 - 123456789, "a", 1}, {Stdout, t0 - 123456789 + 5e8, "b", 1}, {Stdout, t0, "c", 1}},
		},
		{
			name:  "line longer than MaxLineBytes in one entry",
			input: muxLine(Stdout, t0, "hello world"),
			opts:  Options{MaxLineBytes: 4},
			want:  []got{{Stdout, t0, "hell", 0}, {Stdout, t0, "o wo", 0}, {Stdout, t0, "rld", 1}},
		},
		{
			name:  "MaxLineBytes splits a 40,000-byte line as its pieces arrive",
			input: muxLine(Stdout, t0, line40k) + muxLine(Stderr, t0+1, "after"),
			opts:  Options{MaxLineBytes: 10000},
			want: []got{
				{Stdout, t0, line40k[:10000], 0}, {Stdout, t0, line40k[10000:20000], 0},
				{Stdout, t0, line40k[20000:30000], 0}, {Stdout, t0, line40k[30000:], 3},
				{Stderr, t0 + 1, "after", 1},
			},
		},
		{
			name:  "MaxLineBytes fragments interleave with the other stream",
			input: frame(1, entry(t0, "aaaaaa")) + muxLine(Stderr, t0+1, "e") + frame(1, entry(t0, "bb\n")),
			opts:  Options{MaxLineBytes: 3},
			want:  []got{{Stdout, t0, "aaa", 0}, {Stderr, t0 + 1, "e", 1}, {Stdout, t0, "aaa", 0}, {Stdout, t0, "bb", 2}},
		},
		{
			name:  "MaxLineBytes does not split UTF-8 sequences",
			input: muxLine(Stdout, t0, "ééé"),
			opts:  Options{MaxLineBytes: 3},
			want:  []got{{Stdout, t0, "é", 0}, {Stdout, t0, "é", 0}, {Stdout, t0, "é", 1}},
		},
		{
			// The cut must not depend on whether the rest of the rune has been read yet; a rune
			// longer than MaxLineBytes is split.
			name:  "MaxLineBytes with a 4-byte rune across the cut",
			input: frame(1, entry(t0, "0\U00020EA2")) + frame(1, entry(t0, "x\n")),
			opts:  Options{MaxLineBytes: 2},
			want: []got{{Stdout, t0, "0", 0}, {Stdout, t0, "\U00020EA2"[:2], 0}, {Stdout, t0, "\U00020EA2"[2:], 0},
				{Stdout, t0, "x", 2}},
		},
		{
			name:  "line of exactly MaxLineBytes",
			input: muxLine(Stdout, t0, "abcd"),
			opts:  Options{MaxLineBytes: 4},
			want:  []got{{Stdout, t0, "abcd", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range readers {
				for _, size := range []int{readBufferSize, minMuxBuffer, 1000} {
					r := newReaderSize(rd.wrap(strings.NewReader(tt.input)), tt.opts, size)
					lines, err := readAllRetrying(r)
					if err != io.EOF {
						t.Fatalf("%s reader, buffer %d: got error %v, want io.EOF", rd.name, size, err)
					}
					equalLines(t, lines, tt.want)
					if r.Pending() {
						t.Fatalf("%s reader, buffer %d: Pending after a clean end", rd.name, size)
					}
				}
			}
		})
	}
}

func strconvItoa(i int) string { return string(rune('0' + i)) }

func TestMuxErrors(t *testing.T) {
	ok := muxLine(Stdout, t0, "before")
	tests := []struct {
		name     string
		input    string
		is       error  // errors.Is target
		contains string // in the message
	}{
		{"stdin stream byte", ok + frame(0, entry(t0, "x\n")), ErrMalformed, "stream byte 0 (stdin)"},
		{"unknown stream byte", ok + frame(7, entry(t0, "x\n")), ErrMalformed, "unknown stream byte 7"},
		{"TTY stream read as multiplexed", ok + ttyLine(t0, "x"), ErrMalformed, "TTY container's stream read as multiplexed"},
		{"truncated header", ok + frame(1, entry(t0, "x\n"))[:3], ErrTruncated, "frame header has 3 of 8 bytes"},
		{"truncated payload", ok + frame(1, entry(t0, "hello\n"))[:20], ErrTruncated, "stdout frame payload has 12 of 37 bytes"},
		{"truncated daemon error", ok + frame(3, "Error grabbing logs: x\n")[:12], ErrTruncated, "daemon error frame payload has 4 of 23 bytes"},
		{"no timestamp", ok + frame(2, "hello\n"), ErrMalformed, "log entry of 6 bytes at offset 54 does not start with a timestamp and a space"},
		{"no space in a long entry", ok + frame(2, big(100)[:36]+strings.Repeat("x", 64)+"\n"), ErrMalformed, "does not start with a timestamp"},
		{"words instead of a timestamp", ok + frame(1, "hello world\n"), ErrMalformed, "log entry of 12 bytes at offset 54 has a bad timestamp of 5 bytes"},
		{"month 13", ok + frame(1, "2024-13-06T07:08:09.123456789Z x\n"), ErrMalformed, "bad timestamp of 30 bytes"},
		{"February 30", ok + frame(1, "2024-02-30T07:08:09.123456789Z x\n"), ErrMalformed, "bad timestamp of 30 bytes"},
		{"out of int64 range", ok + frame(1, "2300-01-01T00:00:00.000000000Z x\n"), ErrMalformed, "bad timestamp of 30 bytes"},
		{"long input", ok + frame(1, big(200)+"\n"), ErrMalformed, "log entry of 201 bytes at offset 54 has a bad timestamp of 36 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range readers {
				r := NewReader(rd.wrap(strings.NewReader(tt.input)), Options{})
				lines, err := readAllRetrying(r)
				equalLines(t, lines, []got{{Stdout, t0, "before", 1}})
				if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.contains) {
					t.Fatalf("%s reader: got error %v, want %v containing %q", rd.name, err, tt.is, tt.contains)
				}
				noContent(t, err, tt.input[len(ok):])
				if errors.Is(tt.is, ErrTruncated) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%s reader: %v does not wrap io.ErrUnexpectedEOF", rd.name, err)
				}
				if _, again := r.Next(); again != err {
					t.Fatalf("%s reader: error is not permanent: then got %v", rd.name, again)
				}
			}
		})
	}
}

func TestMuxDaemonError(t *testing.T) {
	input := muxLine(Stdout, t0, "one") + frame(3, "Error grabbing logs: log file is corrupt\n") + muxLine(Stderr, t0+1, "two")
	for _, rd := range readers {
		r := NewReader(rd.wrap(strings.NewReader(input)), Options{})
		lines, err := readAllRetrying(r)
		equalLines(t, lines, []got{{Stdout, t0, "one", 1}})
		var de *DaemonError
		if !errors.As(err, &de) || de.Message != "Error grabbing logs: log file is corrupt" {
			t.Fatalf("%s reader: got %v, want a *DaemonError", rd.name, err)
		}
		if want := "docker daemon error in log stream: Error grabbing logs: log file is corrupt"; err.Error() != want {
			t.Fatalf("got message %q, want %q", err.Error(), want)
		}
		// The daemon writes on after the error, and so does the Reader read on.
		lines, err = readAllRetrying(r)
		equalLines(t, lines, []got{{Stderr, t0 + 1, "two", 1}})
		if err != io.EOF {
			t.Fatalf("%s reader: got %v after the daemon error, want io.EOF", rd.name, err)
		}
	}
}

func TestMuxDaemonErrorLargerThanBuffer(t *testing.T) {
	msg := "Error grabbing logs: " + big(500)
	input := frame(3, msg) + muxLine(Stdout, t0, "after")
	r := newReaderSize(strings.NewReader(input), Options{}, minMuxBuffer)
	_, err := r.Next()
	var de *DaemonError
	if !errors.As(err, &de) || !strings.HasPrefix(msg, de.Message) || len(de.Message) != minMuxBuffer-headerLen {
		t.Fatalf("got %v, want the first %d bytes of the message", err, minMuxBuffer-headerLen)
	}
	lines, err := readAll(r)
	equalLines(t, lines, []got{{Stdout, t0, "after", 1}})
	if err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
}

func TestMuxBigFrames(t *testing.T) {
	// Frames larger than the input buffer are read in chunks; the daemon never sends them, but
	// other servers of the API might.
	body := big(5000)
	tests := []struct {
		name  string
		input string
		opts  Options
		want  []got
		err   error
	}{
		{"whole line", frame(1, entry(t0, body+"\n")), Options{}, []got{{Stdout, t0, body, 1}}, io.EOF},
		{"joined with a small piece", frame(2, entry(t0, body)) + frame(2, entry(t0, "x\n")), Options{}, []got{{Stderr, t0, body + "x", 2}}, io.EOF},
		{"split by MaxLineBytes", frame(1, entry(t0, body+"\n")), Options{MaxLineBytes: 2000},
			[]got{{Stdout, t0, body[:2000], 0}, {Stdout, t0, body[2000:4000], 0}, {Stdout, t0, body[4000:], 1}}, io.EOF},
		{"cut short", frame(1, entry(t0, body+"\n"))[:3000], Options{}, nil, ErrTruncated},
		{"no timestamp", frame(1, body+"\n"), Options{}, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range readers {
				r := newReaderSize(rd.wrap(strings.NewReader(tt.input)), tt.opts, 1000)
				lines, err := readAllRetrying(r)
				equalLines(t, lines, tt.want)
				if !errors.Is(err, tt.err) {
					t.Fatalf("%s reader: got %v, want %v", rd.name, err, tt.err)
				}
			}
		})
	}
}

func TestMuxPendingAtEOF(t *testing.T) {
	input := muxLine(Stderr, t0, "done") + frame(1, entry(t0+1, big(16384))) + frame(1, entry(t0+1, big(100)))
	r := NewReader(strings.NewReader(input), Options{})
	lines, err := readAll(r)
	equalLines(t, lines, []got{{Stderr, t0, "done", 1}})
	if err != io.EOF {
		t.Fatalf("got %v, want io.EOF: a line cut at a frame boundary is a clean end", err)
	}
	if !r.Pending() {
		t.Fatal("Pending is false with a partial line dropped")
	}
}

func TestBodyValidUntilNext(t *testing.T) {
	// Body points into the Reader's buffers: it must be intact when returned, whatever was
	// read with it.
	input := muxLine(Stdout, t0, "first") + muxLine(Stdout, t0, "second")
	r := NewReader(strings.NewReader(input), Options{})
	l, err := r.Next()
	if err != nil || string(l.Body) != "first" {
		t.Fatalf("got %q, %v", l.Body, err)
	}
	if cap(l.Body) != len(l.Body) {
		t.Fatal("Body has spare capacity: an append by the caller would overwrite the input buffer")
	}
}

func TestStreamString(t *testing.T) {
	for s, want := range map[Stream]string{Stdout: "stdout", Stderr: "stderr", 0: "Stream(0)", 9: "Stream(9)"} {
		if s.String() != want {
			t.Errorf("Stream(%d).String() = %q, want %q", s, s.String(), want)
		}
	}
}

func TestMuxPendingSinceNamesTheEarliestUnfinishedLine(t *testing.T) {
	input := frame(1, entry(t0+5, big(16384))) + muxLine(Stderr, t0+6, "meanwhile") + frame(1, entry(t0+5, "end\n"))
	r := NewReader(strings.NewReader(input), Options{})
	l, err := r.Next()
	if err != nil || l.Stream != Stderr {
		t.Fatalf("first line %v %v, want the stderr line that completed first", l, err)
	}
	if ts, ok := r.PendingSince(); !ok || ts != t0+5 {
		t.Fatalf("PendingSince = %d, %v; want %d, true: the stdout line begun before it", ts, ok, t0+5)
	}
	if l, err = r.Next(); err != nil || l.Stream != Stdout || l.Timestamp != t0+5 {
		t.Fatalf("second line %v %v, want the whole stdout line", l, err)
	}
	if _, ok := r.PendingSince(); ok {
		t.Fatal("PendingSince reports a line after every line finished")
	}
}

// TestMuxLineInterruptedByEntriesSentAgain replays what Docker 20.10 sends a follower at a json-file rotation while
// a long line is being written: the last entry of the old file once more, then the pieces of the line already
// sent. The older entry comes out on its own and the line comes out once, whole.
func TestMuxLineInterruptedByEntriesSentAgain(t *testing.T) {
	msg := "seq=13 " + strings.Repeat("=", 3*pieceSize)
	ps := pieces(msg)
	var in strings.Builder
	in.WriteString(frame(1, entry(t0-5, "before\n")))
	in.WriteString(frame(1, entry(t0, ps[0])))
	in.WriteString(frame(1, entry(t0, ps[1])))
	in.WriteString(frame(1, entry(t0-5, "before\n"))) // sent again
	in.WriteString(frame(1, entry(t0, ps[0])))        // sent again
	in.WriteString(frame(1, entry(t0, ps[1])))        // sent again
	for _, p := range ps[2:] {
		in.WriteString(frame(1, entry(t0, p)))
	}
	in.WriteString(frame(2, entry(t0+1, "after\n")))
	r := NewReader(strings.NewReader(in.String()), Options{MaxLineBytes: 1 << 20})
	var got []string
	var entries []int
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(l.Body))
		entries = append(entries, l.Entries)
	}
	want := []string{"before", "before", msg, "after"}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %d bytes, want %d", i, len(got[i]), len(want[i]))
		}
	}
	if entries[2] != len(ps) {
		t.Errorf("the long line counts %d entries, want %d", entries[2], len(ps))
	}
}

// TestMuxEqualPiecesAreNotSentAgain has a run of one byte cut into equal pieces: with no older entry between
// them, each piece is the line's next.
func TestMuxEqualPiecesAreNotSentAgain(t *testing.T) {
	msg := strings.Repeat("0", 3*pieceSize+10)
	var in strings.Builder
	for _, p := range pieces(msg) {
		in.WriteString(frame(1, entry(t0, p)))
	}
	r := NewReader(strings.NewReader(in.String()), Options{MaxLineBytes: 1 << 20})
	l, err := r.Next()
	if err != nil || string(l.Body) != msg {
		t.Fatalf("got %d bytes, %v; want %d", len(l.Body), err, len(msg))
	}
}
