package hostileline

import "unicode/utf8"

// Mode is how the daemon keeps a container's output, which decides what it does to the bytes of a line.
type Mode struct {
	// JSONFile is the json-file logging driver, which stores each piece of a line as a JSON string.
	JSONFile bool
	// TTY is a container with a terminal: stdout and stderr merge, and the terminal ends lines with "\r\n".
	TTY bool
}

// replacement is U+FFFD in UTF-8.
const replacement = "\uFFFD"

// Body returns the body the receiver should deliver for a line written with or without its newline: the
// records of the line joined, in order.
//
// What the daemon does to the bytes, and the receiver undoes:
//   - On a TTY the terminal turns the line's "\n" into "\r\n" (ONLCR), and the daemon's copier splits at "\n",
//     so the line it keeps ends with "\r"; the receiver drops one "\r" before the newline, giving the line back.
//   - The copier cuts a line into pieces of 16 KiB (moby daemon/logger/copier.go), counted from the line's start
//     on what the daemon reads, so on a TTY the "\r" is part of the last piece.
//   - json-file writes each piece as a JSON string (moby jsonlog): a byte that does not start a valid UTF-8
//     sequence within its piece is written as \ufffd, so a character cut by a piece's edge is replaced too, one
//     U+FFFD per byte. The local driver keeps the bytes.
//   - The local driver gives a line that the copier cut into pieces back without its newline: its last piece,
//     even an empty one, has none (seen on Docker 20.10 with `docker logs -t`: "TS e\r" and the next entry, where
//     json-file gives "TS e\r\n"). On a TTY that leaves the terminal's "\r" as the line's last byte with no
//     newline after it, so it stays in the body. (Without a TTY the next entry still ends the line.)
func (m Mode) Body(line []byte, terminated bool) []byte {
	data := line
	if m.TTY && terminated {
		data = append(append([]byte(nil), line...), '\r')
		if !m.JSONFile && len(data) >= DockerPiece {
			return data
		}
	}
	if m.JSONFile {
		var out []byte
		for start := 0; start < len(data); start += DockerPiece {
			out = appendValid(out, data[start:min(start+DockerPiece, len(data))])
		}
		data = out
	}
	if m.TTY && terminated {
		data = data[:len(data)-1]
	}
	if data == nil {
		data = []byte{}
	}
	return data
}

// appendValid appends piece with each byte that starts no valid UTF-8 sequence replaced by U+FFFD, as
// utf8.DecodeRune sees it: the rule of the daemon's JSON encoder.
func appendValid(dst, piece []byte) []byte {
	for i := 0; i < len(piece); {
		if piece[i] < utf8.RuneSelf {
			j := i + 1
			for j < len(piece) && piece[j] < utf8.RuneSelf {
				j++
			}
			dst = append(dst, piece[i:j]...)
			i = j
			continue
		}
		r, n := utf8.DecodeRune(piece[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, replacement...)
		} else {
			dst = append(dst, piece[i:i+n]...)
		}
		i += n
	}
	return dst
}

// Stream returns the output a line written to stream arrives on: a TTY has one.
func (m Mode) Stream(stream string) string {
	if m.TTY {
		return Stdout
	}
	return stream
}

// LogBytesBound is at most the bytes a line takes in a json-file or local log: each byte escaped to at most six
// (\u00XX, \ufffd), plus an entry's fields for each 16 KiB piece. A writer paced by it never makes the daemon
// rotate its log in the middle of what it was allowed to write.
func LogBytesBound(line []byte) int {
	n := 0
	for _, c := range line {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			n += 6
		} else {
			n++
		}
	}
	return n + 128*(len(line)/DockerPiece+1)
}
