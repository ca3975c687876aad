package decode

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// fixedLayout is how the daemon formats timestamps (jsonmessage.RFC3339NanoFixed).
const fixedLayout = "2006-01-02T15:04:05.000000000Z07:00"

// t0 is the timestamp most tests use: 2024-05-06T07:08:09.123456789Z.
var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC).UnixNano()

// stamp formats ns the way the daemon does.
func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(fixedLayout) }

// entry is what the daemon writes for one log entry: timestamp, space, content.
func entry(ns int64, content string) string { return stamp(ns) + " " + content }

// frame encodes one multiplexed frame.
func frame(stream byte, payload string) string {
	var hdr [headerLen]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	return string(hdr[:]) + payload
}

// pieceSize is the size of the pieces json-file's copier cuts long lines into (moby daemon/logger/copier.go).
const pieceSize = 16 * 1024

// pieces splits a message (a line without its "\n") the way the daemon's copier does: pieces of
// pieceSize bytes with no newline, then the rest with the newline (possibly just "\n").
func pieces(msg string) []string { return piecesOf(msg, pieceSize) }

// piecesOf splits a message into pieces of size bytes, as a logging driver with another buffer size does.
func piecesOf(msg string, size int) []string {
	var out []string
	for len(msg) >= size {
		out = append(out, msg[:size])
		msg = msg[size:]
	}
	return append(out, msg+"\n")
}

// muxLine encodes a line on the multiplexed stream as the daemon writes it.
func muxLine(s Stream, ns int64, body string) string {
	var b strings.Builder
	for _, p := range pieces(body) {
		b.WriteString(frame(byte(s), entry(ns, p)))
	}
	return b.String()
}

// ttyLine encodes a line on a TTY stream as the daemon writes it: the terminal turned "\n" into
// "\r\n", and the copier split the output before the "\n".
func ttyLine(ns int64, body string) string {
	var b strings.Builder
	for _, p := range pieces(body + "\r") {
		b.WriteString(entry(ns, p))
	}
	return b.String()
}

// got is a Line with its Body copied out of the Reader's buffers.
type got struct {
	Stream  Stream
	TS      int64
	Body    string
	Entries int
}

// readAll reads lines until Next fails and returns them with the error.
func readAll(r *Reader) ([]got, error) {
	var lines []got
	for {
		l, err := r.Next()
		if err != nil {
			return lines, err
		}
		lines = append(lines, got{l.Stream, l.Timestamp, string(l.Body), l.Entries})
	}
}

// readAllRetrying is readAll that goes on after iotest.ErrTimeout, as a caller would after a
// read deadline.
func readAllRetrying(r *Reader) ([]got, error) {
	var all []got
	for {
		lines, err := readAll(r)
		all = append(all, lines...)
		if !errors.Is(err, iotest.ErrTimeout) {
			return all, err
		}
	}
}

// readers wraps an input in the awkward readers a network connection can look like.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"plain", func(r io.Reader) io.Reader { return r }},
	{"one-byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data-err", iotest.DataErrReader},
	{"timeout", iotest.TimeoutReader},
	{"one-byte-data-err", func(r io.Reader) io.Reader { return iotest.DataErrReader(iotest.OneByteReader(r)) }},
}

func equalLines(t *testing.T, gotLines, want []got) {
	t.Helper()
	if len(gotLines) != len(want) {
		t.Fatalf("got %d lines, want %d:\ngot  %s\nwant %s", len(gotLines), len(want), summary(gotLines), summary(want))
	}
	for i := range want {
		if gotLines[i] != want[i] {
			t.Fatalf("line %d:\ngot  %s\nwant %s", i, summary(gotLines[i:i+1]), summary(want[i:i+1]))
		}
	}
}

// summary prints lines with long bodies shortened.
func summary(lines []got) string {
	var b strings.Builder
	for _, l := range lines {
		body := l.Body
		if len(body) > 60 {
			body = body[:30] + "..." + body[len(body)-20:] + " (" + strconv.Itoa(len(l.Body)) + " bytes)"
		}
		b.WriteString("{" + l.Stream.String() + " " + stamp(l.TS) + " " + strconv.Itoa(l.Entries) + " " + quoteString(body) + "} ")
	}
	return b.String()
}

func quoteString(s string) string { return strconv.Quote(s) }

// noContent fails when err's message holds any run of 4 or more non-digit bytes of the input after the lines read:
// errors name lengths and offsets, never the container's output.
func noContent(t *testing.T, err error, input string) {
	t.Helper()
	msg := err.Error()
	for i := 0; i+4 <= len(input); i++ {
		run := input[i : i+4]
		if strings.ContainsAny(run, "0123456789") {
			continue // digits, as in offsets and lengths, say nothing of the content
		}
		if strings.Contains(msg, run) && !strings.Contains(allowedWords, run) {
			t.Fatalf("error %q quotes input bytes %q", msg, run)
		}
	}
}

// allowedWords are the error messages' own words, which an input may happen to share.
const allowedWords = "docker log stream cut short unexpected EOF malformed entry offset does not start with a timestamp and a space timestamps=1 not requested? has a bad bytes frame header stream byte stdin which the daemon never sends unknown TTY container's read as multiplexed payload inside stdout stderr error"
