package decode

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// localTTYLine encodes a line on a TTY stream as Docker 20.10's local driver gives it back: a line the copier cut
// into pieces has no newline at all, its last piece (possibly empty) followed directly by the next entry.
func localTTYLine(ns int64, body string) string {
	ps := pieces(body + "\r")
	if len(ps) == 1 {
		return entry(ns, ps[0])
	}
	last := len(ps) - 1
	ps[last] = strings.TrimSuffix(ps[last], "\n")
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(entry(ns, p))
	}
	return b.String()
}

// localOptions reads a TTY stream of the local driver, read at the time of t0 plus a minute.
var localOptions = Options{TTY: true, Driver: "local", DaemonAPI: "1.41", Now: func() time.Time { return time.Unix(0, t0+int64(time.Minute)) }}

func TestLocalTTYLastPieceEndsAtNextEntry(t *testing.T) {
	ms := int64(time.Millisecond)
	tests := []struct {
		name  string
		input string
		want  []got
	}{
		{
			name:  "40,000-byte line, then short lines",
			input: localTTYLine(t0, big(40000)) + localTTYLine(t0+ms, "next") + localTTYLine(t0+2*ms, "after"),
			want:  []got{{Stdout, t0, big(40000) + "\r", 3}, {Stdout, t0 + ms, "next", 1}, {Stdout, t0 + 2*ms, "after", 1}},
		},
		{
			// 16383 bytes and the "\r" fill the buffer: the last piece, the "\n" alone, is empty.
			name:  "empty last piece",
			input: localTTYLine(t0, big(16383)) + localTTYLine(t0+ms, "next"),
			want:  []got{{Stdout, t0, big(16383) + "\r", 2}, {Stdout, t0 + ms, "next", 1}},
		},
		{
			name:  "last piece of one byte",
			input: localTTYLine(t0, big(16384)) + localTTYLine(t0+ms, "next"),
			want:  []got{{Stdout, t0, big(16384) + "\r", 2}, {Stdout, t0 + ms, "next", 1}},
		},
		{
			name:  "empty last piece after two full ones",
			input: localTTYLine(t0, big(32767)) + localTTYLine(t0+ms, "next"),
			want:  []got{{Stdout, t0, big(32767) + "\r", 3}, {Stdout, t0 + ms, "next", 1}},
		},
		{
			name:  "a long line after a long line",
			input: localTTYLine(t0, big(20000)) + localTTYLine(t0+ms, big(17000)) + localTTYLine(t0+2*ms, "next"),
			want:  []got{{Stdout, t0, big(20000) + "\r", 2}, {Stdout, t0 + ms, big(17000) + "\r", 2}, {Stdout, t0 + 2*ms, "next", 1}},
		},
		{
			name:  "the next entry stamped in the line's nanosecond",
			input: localTTYLine(t0, big(20000)) + localTTYLine(t0, "same time"),
			want:  []got{{Stdout, t0, big(20000) + "\r", 2}, {Stdout, t0, "same time", 1}},
		},
		{
			// Stamps earlier than the line, later than the time read, not followed by a space, or in another
			// form: none can be the next entry's, all are text.
			name: "timestamps in the last piece that cannot be the next entry's",
			input: localTTYLine(t0, big(16384)+" "+stamp(t0-1)+" "+stamp(t0+2*int64(time.Minute))+" "+
				stamp(t0+1)+"x "+time.Unix(0, t0+1).UTC().Format(time.RFC3339Nano)+" 2099-01-01T00:00:00.000000000Z ") +
				localTTYLine(t0+ms, "next"),
			want: []got{{Stdout, t0, big(16384) + " " + stamp(t0-1) + " " + stamp(t0+2*int64(time.Minute)) + " " +
				stamp(t0+1) + "x " + time.Unix(0, t0+1).UTC().Format(time.RFC3339Nano) + " 2099-01-01T00:00:00.000000000Z \r", 2},
				{Stdout, t0 + ms, "next", 1}},
		},
		{
			// Later than the line but not earlier than the next entry's: the daemon's, being the earliest, ends it.
			name:  "timestamps in the last piece later than the next entry's",
			input: localTTYLine(t0, big(16384)+" "+stamp(t0+2*ms)+" x") + localTTYLine(t0+ms, "next "+stamp(t0+ms+1)+" y"),
			want:  []got{{Stdout, t0, big(16384) + " " + stamp(t0+2*ms) + " x\r", 2}, {Stdout, t0 + ms, "next " + stamp(t0+ms+1) + " y", 1}},
		},
		{
			name:  "a timestamp past the piece's span is text",
			input: localTTYLine(t0, big(32383)) + localTTYLine(t0+2*ms, big(500)+" "+stamp(t0+ms)+" z"),
			want:  []got{{Stdout, t0, big(32383) + "\r", 2}, {Stdout, t0 + 2*ms, big(500) + " " + stamp(t0+ms) + " z", 1}},
		},
		{
			// A newer daemon gives the last piece its newline, as json-file does.
			name:  "last piece with its newline",
			input: ttyLine(t0, big(40000)) + ttyLine(t0+ms, "next"),
			want:  []got{{Stdout, t0, big(40000), 3}, {Stdout, t0 + ms, "next", 1}},
		},
		{
			// A run's last write, a piece left at EOF, and the next run's first line.
			name:  "a long line's end left without newline at a container's exit",
			input: entry(t0, big(16384)) + entry(t0, "end") + localTTYLine(t0+int64(time.Second), "next run"),
			want:  []got{{Stdout, t0, big(16384) + "end", 2}, {Stdout, t0 + int64(time.Second), "next run", 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{readBufferSize, 0} {
				for _, one := range []bool{false, true} {
					src := strings.NewReader(tc.input)
					r := newReaderSize(src, localOptions, size)
					if one {
						r = newReaderSize(iotest.OneByteReader(strings.NewReader(tc.input)), localOptions, size)
					}
					lines, err := readAll(r)
					if err != io.EOF {
						t.Fatalf("buffer %d, byte reads %v: %v", size, one, err)
					}
					equalLines(t, lines, tc.want)
				}
			}
		})
	}
}

// The daemon's structure leaves one case where content decides: a timestamp in the last piece, between the line's
// time and the next entry's. It ends the piece early, but the Line it starts is never later than the next entry.
func TestLocalTTYResidualStaysBeforeTheNextEntry(t *testing.T) {
	ms := int64(time.Millisecond)
	fake := stamp(t0 + ms/2)
	input := localTTYLine(t0, big(16384)+" "+fake+" x") + localTTYLine(t0+ms, "next")
	lines, err := readAll(newReaderSize(strings.NewReader(input), localOptions, 0))
	if err != io.EOF {
		t.Fatal(err)
	}
	want := []got{{Stdout, t0, big(16384) + " ", 2}, {Stdout, t0 + ms/2, "x\r" + stamp(t0+ms) + " next", 1}}
	equalLines(t, lines, want)
}

// Other drivers, and the local driver of a daemon that gives the last piece its newline or of an unknown one, keep
// the reading of json-file: an entry without a newline runs to the next newline.
func TestLocalRuleOnlyForBareLastPieces(t *testing.T) {
	ms := int64(time.Millisecond)
	input := localTTYLine(t0, big(20000)) + localTTYLine(t0+ms, "next")
	for _, opts := range []Options{{TTY: true, DaemonAPI: "1.41"}, {TTY: true, Driver: "json-file", DaemonAPI: "1.41"},
		{TTY: true, Driver: "local"}, {TTY: true, Driver: "local", DaemonAPI: "1.42"}, {TTY: true, Driver: "local", DaemonAPI: "1.54"}} {
		lines, err := readAll(NewReader(strings.NewReader(input), opts))
		if err != io.EOF {
			t.Fatal(err)
		}
		equalLines(t, lines, []got{{Stdout, t0, big(20000) + "\r" + stamp(t0+ms) + " next", 2}})
	}
}

// On a daemon that gives the last piece its newline, a timestamp in that piece is text.
func TestLocalNewerDaemonLastPieceIsText(t *testing.T) {
	ms := int64(time.Millisecond)
	body := big(16384) + " " + stamp(t0+1) + " x"
	input := ttyLine(t0, body) + ttyLine(t0+ms, "next")
	opts := localOptions
	opts.DaemonAPI = "1.44"
	lines, err := readAll(NewReader(strings.NewReader(input), opts))
	if err != io.EOF {
		t.Fatal(err)
	}
	equalLines(t, lines, []got{{Stdout, t0, body, 2}, {Stdout, t0 + ms, "next", 1}})
}

func TestBareLastPiece(t *testing.T) {
	for api, want := range map[string]bool{"1.41": true, "1.24": true, "1.9": true, "1.42": false, "1.54": false, "2.0": false, "": false, "x": false, "1.x": false} {
		if got := bareLastPiece(api); got != want {
			t.Errorf("bareLastPiece(%q) = %v, want %v", api, got, want)
		}
	}
}

// A log that ends in a later piece's span: Next leaves it pending, Finish ends it where the log ends.
func TestLocalTTYLogEndsInTheSpan(t *testing.T) {
	ms := int64(time.Millisecond)
	tests := []struct {
		name  string
		input string
		want  []got
	}{
		{
			name:  "the last piece ends the log",
			input: localTTYLine(t0, big(20000)),
			want:  []got{{Stdout, t0, big(20000) + "\r", 2}},
		},
		{
			name:  "a last write without newline after the last piece",
			input: localTTYLine(t0, big(20000)) + entry(t0+ms, "done"),
			want:  []got{{Stdout, t0, big(20000) + "\r", 2}, {Stdout, t0 + ms, "done", 1}},
		},
		{
			name:  "lines and a last write after the last piece",
			input: localTTYLine(t0, big(20000)) + entry(t0+ms, "more\r\n") + localTTYLine(t0+2*ms, big(17000)) + entry(t0+3*ms, "done"),
			want:  []got{{Stdout, t0, big(20000) + "\r", 2}, {Stdout, t0 + ms, "more", 1}, {Stdout, t0 + 2*ms, big(17000) + "\r", 2}, {Stdout, t0 + 3*ms, "done", 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, one := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tc.input)
				if one {
					src = iotest.OneByteReader(src)
				}
				r := newReaderSize(src, localOptions, 0)
				lines, err := readAll(r)
				if err != io.EOF || !r.Pending() {
					t.Fatalf("byte reads %v: %v, pending %v: want EOF with a line pending", one, err, r.Pending())
				}
				for {
					l, ok := r.Finish()
					if !ok {
						break
					}
					lines = append(lines, got{l.Stream, l.Timestamp, string(l.Body), l.Entries})
				}
				equalLines(t, lines, tc.want)
			}
		})
	}
}
