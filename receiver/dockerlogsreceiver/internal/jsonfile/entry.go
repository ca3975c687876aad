package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Stream numbers, as in the API's frame headers.
const (
	Stdout byte = 1
	Stderr byte = 2
)

// Entry is one line of a json-file log.
type Entry struct {
	Stream byte
	// Time is the daemon's capture time in ns since the Unix epoch.
	Time int64
	// Log is the captured text: a whole line with its newline, or a piece of a longer one without.
	Log []byte
}

// ErrMalformed is returned for a line that is not a json-file entry.
var ErrMalformed = errors.New("malformed json-file entry")

// timeKey starts the last field of every entry the driver writes.
var timeKey = []byte(`"time":"`)

// entryTime returns the time of a json-file line (without its newline) by looking only at its last field,
// which is enough to drop an entry before since without decoding its text.
func (p *parser) entryTime(line []byte) (int64, error) {
	i := bytes.LastIndex(line, timeKey)
	if i < 0 {
		return p.slowTime(line)
	}
	v := line[i+len(timeKey):]
	j := bytes.IndexByte(v, '"')
	if j < 0 || string(v[j:]) != `"}` {
		return p.slowTime(line)
	}
	return p.stamps.parse(v[:j])
}

// slowTime decodes the whole line for its time.
func (p *parser) slowTime(line []byte) (int64, error) {
	e, err := p.slow(line, nil)
	return e.Time, err
}

// parser decodes json-file lines; it keeps the scratch space and the last minute parsed between calls.
type parser struct {
	stamps stamps
}

// parse decodes one line (without its newline), appending its text to buf; Entry.Log aliases the result.
//
// The driver always writes log, stream, attrs (when the container has log labels or env), time, in that order,
// with the escapes of its encoder; that form is decoded directly, and anything else by encoding/json, which is
// what the daemon reads the files with.
func (p *parser) parse(line, buf []byte) (Entry, []byte, error) {
	const head = `{"log":"`
	if !bytes.HasPrefix(line, []byte(head)) {
		return p.slowEntry(line, buf)
	}
	start := len(buf)
	buf, rest, ok := unquote(buf, line[len(head):])
	if !ok {
		return p.slowEntry(line, buf[:start])
	}
	var e Entry
	switch {
	case bytes.HasPrefix(rest, []byte(`,"stream":"stdout"`)):
		e.Stream, rest = Stdout, rest[len(`,"stream":"stdout"`):]
	case bytes.HasPrefix(rest, []byte(`,"stream":"stderr"`)):
		e.Stream, rest = Stderr, rest[len(`,"stream":"stderr"`):]
	default:
		return p.slowEntry(line, buf[:start])
	}
	// The time must end the line, so that bytes glued before an entry (a torn write, a crash's NULs) can never
	// lend their text to its time; attributes, and anything else, are left to encoding/json.
	v, ok := bytes.CutPrefix(rest, timeKeyFirst)
	if !ok {
		return p.slowEntry(line, buf[:start])
	}
	j := bytes.IndexByte(v, '"')
	if j < 0 || string(v[j:]) != `"}` {
		return p.slowEntry(line, buf[:start])
	}
	ts, err := p.stamps.parse(v[:j])
	if err != nil {
		return p.slowEntry(line, buf[:start])
	}
	e.Time, e.Log = ts, buf[start:]
	return e, buf, nil
}

// timeKeyFirst is the time field right after the stream, as the driver writes it without attributes.
var timeKeyFirst = []byte(`,"time":"`)

// slowEntry decodes a line with encoding/json.
func (p *parser) slowEntry(line, buf []byte) (Entry, []byte, error) {
	e, err := p.slow(line, buf)
	if err != nil {
		return e, buf, err
	}
	start := len(buf)
	buf = append(buf, e.Log...)
	e.Log = buf[start:]
	return e, buf, nil
}

// slow decodes a line as the daemon does.
func (p *parser) slow(line, _ []byte) (Entry, error) {
	var v struct {
		Log    string    `json:"log"`
		Stream string    `json:"stream"`
		Time   time.Time `json:"time"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	e := Entry{Log: []byte(v.Log), Time: v.Time.UnixNano()}
	switch v.Stream {
	case "stdout":
		e.Stream = Stdout
	case "stderr":
		e.Stream = Stderr
	default:
		return Entry{}, fmt.Errorf("%w: stream %q", ErrMalformed, v.Stream)
	}
	if v.Time.IsZero() {
		// Every entry the driver writes has its time; without one it would take a position nowhere near its own.
		return Entry{}, fmt.Errorf("%w: no time", ErrMalformed)
	}
	return e, nil
}

// unquote appends the JSON string that s starts with (after its opening quote) to buf, decoded, and returns
// what follows its closing quote. It reports false for what it leaves to encoding/json: \u escapes outside
// ASCII, bytes that are not UTF-8 (which encoding/json replaces with U+FFFD), and control characters, which the
// driver always escapes and encoding/json rejects (a crash leaves NULs).
func unquote(buf, s []byte) ([]byte, []byte, bool) {
	ascii := true
	for i := 0; i < len(s); {
		// Copy the run of plain bytes at once.
		j := i
		for j < len(s) && s[j] != '"' && s[j] != '\\' {
			if s[j] >= utf8.RuneSelf {
				ascii = false
			} else if s[j] < ' ' {
				return buf, nil, false
			}
			j++
		}
		if !ascii && !utf8.Valid(s[i:j]) {
			return buf, nil, false
		}
		buf = append(buf, s[i:j]...)
		if j == len(s) {
			return buf, nil, false
		}
		if s[j] == '"' {
			return buf, s[j+1:], true
		}
		// An escape.
		if j+1 >= len(s) {
			return buf, nil, false
		}
		switch c := s[j+1]; c {
		case '"', '\\', '/':
			buf = append(buf, c)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if j+6 > len(s) {
				return buf, nil, false
			}
			r, ok := hex4(s[j+2 : j+6])
			if !ok || r >= utf8.RuneSelf {
				return buf, nil, false
			}
			buf = append(buf, byte(r))
			i = j + 6
			continue
		default:
			return buf, nil, false
		}
		i = j + 2
	}
	return buf, nil, false
}

// hex4 decodes four hex digits.
func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
