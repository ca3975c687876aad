package decode

import (
	"encoding/binary"
	"errors"
	"time"
)

// maxTimestampLen bounds the search for the space that ends the timestamp. The daemon writes 30
// bytes (35 with a numeric offset); the bound only stops a stream without timestamps from being
// searched to its end.
const maxTimestampLen = 64

// The fixed-width forms the daemon writes (jsonmessage.RFC3339NanoFixed): UTC with "Z", which the
// json-file and local drivers produce, and a numeric offset, which journald's local times produce.
const (
	fixedUTCLen    = len("2006-01-02T15:04:05.000000000Z")
	fixedOffsetLen = len("2006-01-02T15:04:05.000000000+07:00")
	minuteLen      = len("2006-01-02T15:04")
	zoneAt         = len("2006-01-02T15:04:05.000000000")
)

// The range of seconds whose nanosecond count fits an int64 (years 1678 to 2262).
const (
	minUnixSeconds = -9223372036
	maxUnixSeconds = 9223372036
)

// stampParser parses timestamps, remembering the minute of the last one: consecutive log lines
// nearly always share it, and its calendar arithmetic is most of the cost of a parse.
type stampParser struct {
	minute [minuteLen]byte // "2006-01-02T15:04" of the last fixed-width timestamp
	zone   [6]byte         // and its "Z" or "+07:00"
	zlen   int             // 0 until a timestamp has been parsed
	base   int64           // that minute's start in Unix seconds
}

// parse returns b, an RFC 3339 timestamp, in nanoseconds since the Unix epoch.
func (p *stampParser) parse(b []byte) (int64, error) {
	if (len(b) == fixedUTCLen || len(b) == fixedOffsetLen) && p.zlen == len(b)-zoneAt &&
		string(b[:minuteLen]) == string(p.minute[:]) && string(b[zoneAt:]) == string(p.zone[:p.zlen]) {
		if sec, nsec, ok := parseSeconds(b); ok {
			return unixNano(p.base+sec, nsec)
		}
	}
	if base, ok := parseMinute(b); ok {
		if sec, nsec, ok := parseSeconds(b); ok {
			copy(p.minute[:], b)
			p.zlen = copy(p.zone[:], b[zoneAt:])
			p.base = base
			return unixNano(base+sec, nsec)
		}
	}
	// Not the daemon's fixed-width form: let the standard library decide, as it knows every
	// RFC 3339 variant (fewer fraction digits, no fraction, other offsets).
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, err
	}
	return unixNano(t.Unix(), int64(t.Nanosecond()))
}

// errOutOfRange reports a timestamp that an int64 of nanoseconds cannot hold.
var errOutOfRange = errors.New("timestamp is outside the range of int64 nanoseconds")

// parseTimestamp parses one timestamp without a cache.
func parseTimestamp(b []byte) (int64, error) {
	var p stampParser
	return p.parse(b)
}

// unixNano combines seconds and nanoseconds, refusing times an int64 cannot hold.
func unixNano(sec, nsec int64) (int64, error) {
	if sec < minUnixSeconds || sec > maxUnixSeconds {
		return 0, errOutOfRange
	}
	ns := sec * 1e9
	if ns > 0 && ns > (1<<63-1)-nsec {
		return 0, errOutOfRange
	}
	return ns + nsec, nil
}

// parseFixed parses the daemon's fixed-width forms by hand, because time.Parse is a large share
// of the per-line cost. ok is false for anything else, valid or not, so that time.Parse has the
// final word on it.
func parseFixed(b []byte) (sec, nsec int64, ok bool) {
	base, ok := parseMinute(b)
	if !ok {
		return 0, 0, false
	}
	sec, nsec, ok = parseSeconds(b)
	return base + sec, nsec, ok
}

// parseMinute parses the date, hour, minute and zone of a fixed-width timestamp into the Unix
// time of the start of its minute.
func parseMinute(b []byte) (int64, bool) {
	if len(b) != fixedUTCLen && len(b) != fixedOffsetLen {
		return 0, false
	}
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' {
		return 0, false
	}
	// Each digit is c-'0', which is above 9 for any other byte: check them all at once.
	y0, y1, y2, y3 := b[0]-'0', b[1]-'0', b[2]-'0', b[3]-'0'
	mo0, mo1, d0, d1 := b[5]-'0', b[6]-'0', b[8]-'0', b[9]-'0'
	h0, h1, mi0, mi1 := b[11]-'0', b[12]-'0', b[14]-'0', b[15]-'0'
	if max(y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1) > 9 {
		return 0, false
	}
	year := int64(y0)*1000 + int64(y1)*100 + int64(y2)*10 + int64(y3)
	month := int64(mo0)*10 + int64(mo1)
	day := int64(d0)*10 + int64(d1)
	hour := int64(h0)*10 + int64(h1)
	minute := int64(mi0)*10 + int64(mi1)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 {
		return 0, false
	}
	var offset int64
	switch {
	case len(b) == fixedUTCLen && b[zoneAt] == 'Z':
	case len(b) == fixedOffsetLen && (b[zoneAt] == '+' || b[zoneAt] == '-') && b[zoneAt+3] == ':':
		oh0, oh1, om0, om1 := b[zoneAt+1]-'0', b[zoneAt+2]-'0', b[zoneAt+4]-'0', b[zoneAt+5]-'0'
		if max(oh0, oh1, om0, om1) > 9 {
			return 0, false
		}
		oh, om := int64(oh0)*10+int64(oh1), int64(om0)*10+int64(om1)
		if oh > 23 || om > 59 {
			return 0, false
		}
		offset = (oh*60 + om) * 60
		if b[zoneAt] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	return daysSinceEpoch(year, month, day)*86400 + hour*3600 + minute*60 - offset, true
}

// parseSeconds parses the ":05.000000000" of a fixed-width timestamp.
func parseSeconds(b []byte) (sec, nsec int64, ok bool) {
	if b[16] != ':' || b[19] != '.' {
		return 0, 0, false
	}
	s0, s1, f0 := b[17]-'0', b[18]-'0', b[20]-'0'
	if max(s0, s1, f0) > 9 || s0 > 5 {
		return 0, 0, false
	}
	frac, ok := eightDigits(b[21:29])
	if !ok {
		return 0, 0, false
	}
	return int64(s0)*10 + int64(s1), int64(f0)*1e8 + frac, true
}

// eightDigits parses 8 ASCII decimal digits at once, as one little-endian word.
func eightDigits(b []byte) (int64, bool) {
	v := binary.LittleEndian.Uint64(b)
	// A digit byte has high nibble 3, and a low nibble that stays below 16 when 6 is added.
	if v&0xf0f0f0f0f0f0f0f0 != 0x3030303030303030 || (v+0x0606060606060606)&0xf0f0f0f0f0f0f0f0 != 0x3030303030303030 {
		return 0, false
	}
	v &= 0x0f0f0f0f0f0f0f0f
	// The first digit is the lowest byte: combine neighbours into 2, 4, then 8-digit numbers.
	v = (v*10 + v>>8) & 0x00ff00ff00ff00ff
	v = (v*100 + v>>16) & 0x0000ffff0000ffff
	v = (v*10000 + v>>32) & 0xffffffff
	return int64(v), true
}

// daysIn returns the number of days in a month of the proleptic Gregorian calendar.
func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch counts days from 1970-01-01 to a civil date, counting years from March so that
// the leap day falls at the end of the counting year (Howard Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int64) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 {
		era = (year - 399) / 400
	}
	yearOfEra := year - era*400
	mp := (month + 9) % 12 // March = 0
	dayOfYear := (153*mp+2)/5 + day - 1
	dayOfEra := yearOfEra*365 + yearOfEra/4 - yearOfEra/100 + dayOfYear
	return era*146097 + dayOfEra - 719468
}
