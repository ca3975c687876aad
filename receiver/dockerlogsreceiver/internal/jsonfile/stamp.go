package jsonfile

import (
	"fmt"
	"time"
)

// stampLen is the length of the fixed-width timestamp the API prefixes each entry with.
const stampLen = len("2006-01-02T15:04:05.000000000Z")

// minuteLen is the length of a timestamp's minute, "2006-01-02T15:04".
const minuteLen = len("2006-01-02T15:04")

// stamps parses the driver's times and formats the API's, remembering the last minute of each: consecutive
// entries nearly always share it, and its calendar arithmetic is most of the cost.
type stamps struct {
	inMinute  [minuteLen]byte
	inBase    int64 // start of inMinute in Unix seconds, valid when inSet
	inSet     bool
	outBase   int64 // start of the minute of outPrefix in Unix seconds, valid when outSet
	outPrefix [minuteLen]byte
	outSet    bool
}

// parse returns an RFC 3339 time the driver wrote ("2006-01-02T15:04:05.123456789Z", trailing zeros of the
// fraction trimmed) in ns since the Unix epoch.
func (s *stamps) parse(b []byte) (int64, error) {
	if len(b) >= len("2006-01-02T15:04:05Z") && b[len(b)-1] == 'Z' && b[minuteLen] == ':' {
		if !s.inSet || string(b[:minuteLen]) != string(s.inMinute[:]) {
			t, err := time.Parse("2006-01-02T15:04", string(b[:minuteLen]))
			if err != nil {
				return 0, fmt.Errorf("%w: time %q: %w", ErrMalformed, b, err)
			}
			copy(s.inMinute[:], b)
			s.inBase, s.inSet = t.Unix(), true
		}
		if sec, nsec, ok := secondsOf(b[minuteLen+1 : len(b)-1]); ok {
			return (s.inBase+sec)*int64(time.Second) + nsec, nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, fmt.Errorf("%w: time %q: %w", ErrMalformed, b, err)
	}
	return t.UnixNano(), nil
}

// secondsOf parses "05" or "05.123": seconds of the minute and a fraction of up to 9 digits.
func secondsOf(b []byte) (sec, nsec int64, ok bool) {
	if len(b) < 2 || !digit(b[0]) || !digit(b[1]) {
		return 0, 0, false
	}
	sec = int64(b[0]-'0')*10 + int64(b[1]-'0')
	if sec > 59 {
		return 0, 0, false
	}
	frac := b[2:]
	if len(frac) == 0 {
		return sec, 0, true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
		return 0, 0, false
	}
	scale := int64(time.Second)
	for _, c := range frac[1:] {
		if !digit(c) {
			return 0, 0, false
		}
		scale /= 10
		nsec += int64(c-'0') * scale
	}
	return sec, nsec, true
}

func digit(c byte) bool { return '0' <= c && c <= '9' }

// appendStamp appends ns in the API's fixed-width form, "2006-01-02T15:04:05.000000000Z".
func (s *stamps) appendStamp(dst []byte, ns int64) []byte {
	sec, nsec := ns/int64(time.Second), ns%int64(time.Second)
	if nsec < 0 {
		sec, nsec = sec-1, nsec+int64(time.Second)
	}
	if !s.outSet || sec < s.outBase || sec >= s.outBase+60 {
		t := time.Unix(sec, 0).UTC()
		base := sec - int64(t.Second())
		copy(s.outPrefix[:], t.Format("2006-01-02T15:04"))
		s.outBase, s.outSet = base, true
	}
	dst = append(dst, s.outPrefix[:]...)
	ss := sec - s.outBase
	dst = append(dst, ':', byte('0'+ss/10), byte('0'+ss%10), '.')
	var frac [9]byte
	for i := 8; i >= 0; i-- {
		frac[i] = byte('0' + nsec%10)
		nsec /= 10
	}
	dst = append(dst, frac[:]...)
	return append(dst, 'Z')
}
