package decode

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestReaderEndsWhereJSONFileSentItsLogAgainInATTYLine has a TTY stream bring, right after a json-file piece without
// a newline, the file's first entries again (Docker 20.10's follower at its first end of a rotated file): they
// cannot be told from the line's content, so the stream ends there with ErrResent, after the lines before it. A
// piece that holds U+FFFD for invalid bytes may run longer than jsonPiece by two bytes for each, and is read whole;
// with LongPieces the entries sent again are read as content, as before.
func TestReaderEndsWhereJSONFileSentItsLogAgainInATTYLine(t *testing.T) {
	first := strings.Repeat("a", pieceSize)
	resentLog := entry(t0-2, "before\r\n") + entry(t0-1, "first of the file\r\n") + entry(t0, first) +
		entry(t0-1, "first of the file\r\n") + entry(t0, first) + entry(t0, "end\r\n") + entry(t0+1, "next\r\n")
	lines, err := readAll(NewReader(strings.NewReader(resentLog), Options{TTY: true, Driver: "json-file"}))
	if !errors.Is(err, ErrResent) {
		t.Fatalf("got %v, want ErrResent", err)
	}
	equalLines(t, lines, []got{{Stdout, t0 - 2, "before", 1}, {Stdout, t0 - 1, "first of the file", 1}})

	lines, err = readAll(NewReader(strings.NewReader(resentLog), Options{TTY: true, Driver: "json-file", LongPieces: true}))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("with LongPieces: got %v, want EOF", err)
	}
	if len(lines) < 3 || !strings.Contains(lines[2].Body, "first of the file") {
		t.Errorf("with LongPieces the entries sent again are content: got %s", summary(lines))
	}

	// 16,000 valid bytes and 384 invalid ones, each stored as U+FFFD: 17,152 bytes come back for the piece.
	invalid := strings.Repeat("b", pieceSize-384) + strings.Repeat("\uFFFD", 384)
	log := entry(t0, invalid) + entry(t0, "end\r\n") + entry(t0+1, "next\r\n")
	lines, err = readAll(NewReader(strings.NewReader(log), Options{TTY: true, Driver: "json-file"}))
	if !errors.Is(err, io.EOF) {
		t.Fatalf("a piece of U+FFFD: got %v, want EOF", err)
	}
	equalLines(t, lines, []got{{Stdout, t0, invalid + "end", 2}, {Stdout, t0 + 1, "next", 1}})
}
