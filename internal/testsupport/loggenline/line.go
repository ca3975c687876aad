// Package loggenline formats and parses the lines the loggen test program writes.
package loggenline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Filler is the pattern repeated after the header to pad a line to its size; a fixed pattern lets tests spot a line that was cut or glued wrongly.
const Filler = "abcdefghijklmnopqrstuvwxyz0123456789"

// Stream names used in the line header.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Append appends the line for seq (without a newline) to dst, padded to size bytes when the header is shorter.
func Append(dst []byte, prefix string, seq int, stream string, size int) []byte {
	start := len(dst)
	dst = append(dst, prefix...)
	dst = append(dst, " seq="...)
	dst = strconv.AppendInt(dst, int64(seq), 10)
	dst = append(dst, " stream="...)
	dst = append(dst, stream...)
	if pad := size - (len(dst) - start); pad > 0 {
		dst = append(dst, ' ')
		for pad--; pad > 0; {
			n := min(pad, len(Filler))
			dst = append(dst, Filler[:n]...)
			pad -= n
		}
	}
	return dst
}

// ParseLine parses a loggen line; a trailing "\n" or "\r\n" is ignored because TTY output ends lines with "\r\n".
func ParseLine(body string) (prefix string, seq int, stream string, err error) {
	body = strings.TrimSuffix(body, "\n")
	body = strings.TrimSuffix(body, "\r")
	i := strings.LastIndex(body, " seq=")
	if i < 0 {
		return "", 0, "", fmt.Errorf("loggen line %q: no \" seq=\"", abbrev(body))
	}
	prefix, rest := body[:i], body[i+len(" seq="):]
	digits, rest, _ := strings.Cut(rest, " ")
	seq, err = strconv.Atoi(digits)
	if err != nil || seq < 0 || strconv.Itoa(seq) != digits {
		return "", 0, "", fmt.Errorf("loggen line %q: bad sequence number %q", abbrev(body), digits)
	}
	field, filler, _ := strings.Cut(rest, " ")
	stream, ok := strings.CutPrefix(field, "stream=")
	if !ok || (stream != Stdout && stream != Stderr) {
		return "", 0, "", fmt.Errorf("loggen line %q: bad stream field %q", abbrev(body), field)
	}
	if err := checkFiller(filler); err != nil {
		return "", 0, "", fmt.Errorf("loggen line %q: %w", abbrev(body), err)
	}
	return prefix, seq, stream, nil
}

// checkFiller reports where filler departs from the repeated Filler pattern.
func checkFiller(filler string) error {
	for i := 0; i < len(filler); i += len(Filler) {
		chunk := filler[i:min(i+len(Filler), len(filler))]
		if chunk != Filler[:len(chunk)] {
			return errors.New("filler corrupted at byte " + strconv.Itoa(i+firstDiff(chunk, Filler)))
		}
	}
	return nil
}

func firstDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// abbrev keeps error messages readable when a line is hundreds of KiB long.
func abbrev(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:100] + "..." + strconv.Itoa(len(s)) + " bytes"
}
