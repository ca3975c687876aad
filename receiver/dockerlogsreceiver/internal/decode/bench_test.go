package decode

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

const benchLines = 100_000

// benchInput is benchLines entries of about 100 bytes, as the daemon writes them, with one
// stderr line in ten on the multiplexed stream.
func benchInput(tty bool) []byte {
	var b bytes.Buffer
	msg := strings.Repeat("x", 40)
	for i := range benchLines {
		ts := t0 + int64(i)*int64(time.Microsecond)
		body := "level=info msg=\"request served\" n=" + strings.Repeat("7", i%5) + " " + msg
		switch {
		case tty:
			b.WriteString(ttyLine(ts, body))
		case i%10 == 9:
			b.WriteString(muxLine(Stderr, ts, body))
		default:
			b.WriteString(muxLine(Stdout, ts, body))
		}
	}
	return b.Bytes()
}

func benchmarkReader(b *testing.B, tty bool) {
	input := benchInput(tty)
	src := bytes.NewReader(input)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	var lines int
	for b.Loop() {
		src.Reset(input)
		r := NewReader(src, Options{TTY: tty})
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			lines++
		}
	}
	if lines != b.N*benchLines {
		b.Fatalf("read %d lines in %d runs, want %d a run", lines, b.N, benchLines)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
}

func BenchmarkReaderMultiplexed(b *testing.B) { benchmarkReader(b, false) }

func BenchmarkReaderTTY(b *testing.B) { benchmarkReader(b, true) }

// BenchmarkParseTimestamp compares the cached minute, the fast path and time.Parse.
func BenchmarkParseTimestamp(b *testing.B) {
	for _, s := range []string{"2024-05-06T07:08:09.123456789Z", "2024-05-06T09:08:09.123456789+02:00", "2024-05-06T07:08:09.5Z"} {
		ts := []byte(s)
		b.Run("cached/"+s, func(b *testing.B) {
			var p stampParser
			for b.Loop() {
				if _, err := p.parse(ts); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("cold/"+s, func(b *testing.B) {
			for b.Loop() {
				if _, err := parseTimestamp(ts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
