package loggenline

import (
	"strings"
	"testing"
)

func TestAppendNaturalLength(t *testing.T) {
	got := string(Append(nil, "loggen", 42, Stderr, 0))
	if want := "loggen seq=42 stream=stderr"; got != want {
		t.Fatalf("Append = %q, want %q", got, want)
	}
	// A size below the header's length never truncates the header.
	if got := string(Append(nil, "p", 7, Stdout, 3)); got != "p seq=7 stream=stdout" {
		t.Fatalf("Append with small size = %q", got)
	}
}

func TestAppendPadsToExactSize(t *testing.T) {
	header := "loggen seq=3 stream=stdout"
	for _, size := range []int{len(header) + 1, len(header) + 2, 100, 16 * 1024, 200 * 1024} {
		line := string(Append([]byte("keep"), "loggen", 3, Stdout, size))
		line, ok := strings.CutPrefix(line, "keep")
		if !ok || len(line) != size {
			t.Fatalf("size %d: got %d bytes (kept prefix: %v)", size, len(line), ok)
		}
		if !strings.HasPrefix(line, header+" ") {
			t.Fatalf("size %d: line starts %q", size, line[:40])
		}
		if prefix, seq, stream, err := ParseLine(line); err != nil || prefix != "loggen" || seq != 3 || stream != Stdout {
			t.Fatalf("size %d: ParseLine = %q, %d, %q, %v", size, prefix, seq, stream, err)
		}
	}
	if got := string(Append(nil, "x", 0, Stdout, 30)); got != "x seq=0 stream=stdout abcdefgh" {
		t.Fatalf("filler = %q", got)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		in     string
		prefix string
		seq    int
		stream string
	}{
		{"loggen seq=0 stream=stdout", "loggen", 0, Stdout},
		{"loggen seq=199 stream=stderr\n", "loggen", 199, Stderr},
		{"tty seq=5 stream=stdout\r\n", "tty", 5, Stdout},
		{"two words seq=12 stream=stderr abcdef", "two words", 12, Stderr},
		{" seq=1 stream=stdout", "", 1, Stdout},
		{"p seq=1 stream=stdout " + strings.Repeat(Filler, 3) + "abc", "p", 1, Stdout},
	}
	for _, tt := range tests {
		prefix, seq, stream, err := ParseLine(tt.in)
		if err != nil || prefix != tt.prefix || seq != tt.seq || stream != tt.stream {
			t.Errorf("ParseLine(%q) = %q, %d, %q, %v; want %q, %d, %q", tt.in, prefix, seq, stream, err, tt.prefix, tt.seq, tt.stream)
		}
	}
}

func TestParseLineRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"loggen stream=stdout",
		"loggen seq= stream=stdout",
		"loggen seq=-1 stream=stdout",
		"loggen seq=+1 stream=stdout",
		"loggen seq=01 stream=stdout",
		"loggen seq=1x stream=stdout",
		"loggen seq=1 stream=both",
		"loggen seq=1 streams=stdout",
		"loggen seq=1",
		"loggen seq=1 stream=stdout abcdefgh" + "X",
		"loggen seq=1 stream=stdout " + Filler + "abcdefgh" + Filler,
	} {
		if _, _, _, err := ParseLine(in); err == nil {
			t.Errorf("ParseLine(%q) succeeded, want an error", in)
		}
	}
}

func TestParseLineErrorIsShortForHugeLines(t *testing.T) {
	line := string(Append(nil, "loggen", 1, Stdout, 200*1024)) + "!"
	_, _, _, err := ParseLine(line)
	if err == nil {
		t.Fatal("corrupted huge line parsed")
	}
	if len(err.Error()) > 300 {
		t.Fatalf("error is %d bytes long", len(err.Error()))
	}
	if !strings.Contains(err.Error(), "filler corrupted at byte") {
		t.Fatalf("error %q does not say where", err)
	}
}

func TestTraceRoundTrip(t *testing.T) {
	for n := range 50 {
		var body []byte
		for k := range TraceLines(n) {
			if k > 0 {
				body = append(body, '\n')
			}
			body = AppendTraceLine(body, "p", n, k)
		}
		if got, err := ParseTrace("p", string(body)); err != nil || got != n {
			t.Fatalf("trace %d: got %d, %v", n, got, err)
		}
		if lines := TraceLines(n); lines < MinTraceLines || lines > MaxTraceLines {
			t.Fatalf("trace %d has %d lines", n, lines)
		}
		cut := body[:len(body)-1-len(AppendTraceLine(nil, "p", n, TraceLines(n)-1))]
		if _, err := ParseTrace("p", string(cut)); err == nil {
			t.Fatalf("trace %d without its last line accepted", n)
		}
	}
}
