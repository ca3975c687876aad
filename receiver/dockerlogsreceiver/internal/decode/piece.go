package decode

import (
	"bytes"
	"unicode/utf8"
)

// jsonPiece is the most bytes json-file stores in one entry: its copier cuts a longer line into pieces of its
// 16 KiB buffer (moby daemon/logger/copier.go), and json-file sets no buffer size of its own.
const jsonPiece = 16 << 10

// minJSONTTYBuffer holds the longest json-file entry a TTY stream can bring back (pieceBound of a piece of U+FFFD
// only) with the timestamp after it, so that no byte past jsonPiece moves on to a line before its entry's end is found.
const minJSONTTYBuffer = 3*jsonPiece + 2*(maxTimestampLen+1)

// replacement is U+FFFD as the API sends it, what json-file stores for each byte of invalid UTF-8.
var replacement = []byte(string(utf8.RuneError))

// pieceBound is the most bytes a json-file entry whose content (as the API sends it) holds fffd U+FFFD can have: the
// driver stores at most jsonPiece bytes, and each invalid byte among them comes back as U+FFFD, two bytes longer.
func pieceBound(fffd int) int {
	return jsonPiece + 2*fffd
}

// countFFFD counts the U+FFFD in b.
func countFFFD(b []byte) int {
	return bytes.Count(b, replacement)
}

// overlong reports whether a json-file TTY entry whose content so far is moved bytes (with fffd U+FFFD) and then
// rest is longer than the driver can have stored: the daemon's entry boundary after it was read as content, which
// Docker 20.10's follower does when it sends a rotated file again from its start right after a piece without a
// newline (see ttySplitter.resent).
func overlong(moved, fffd int, rest []byte) bool {
	return moved+len(rest) > pieceBound(fffd+countFFFD(rest))
}
