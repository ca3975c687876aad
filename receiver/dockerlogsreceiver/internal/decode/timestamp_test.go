package decode

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // 0 means an error is wanted
	}{
		{"2024-05-06T07:08:09.123456789Z", t0},
		{"2024-05-06T09:38:09.123456789+02:30", t0},
		{"2024-05-06T04:08:09.123456789-03:00", t0},
		{"2024-05-06T07:08:09.123456789+00:00", t0},
		{"2024-05-06T07:08:09.12345678Z", t0 - 9},
		{"2024-05-06T07:08:09Z", t0 - 123456789},
		{"1970-01-01T00:00:00.000000000Z", 0},
		{"1969-12-31T23:59:59.999999999Z", -1},
		{"2000-02-29T00:00:00.000000000Z", 951782400e9},
		{"2262-04-11T23:47:16.854775807Z", 1<<63 - 1},
		{"1677-09-21T00:12:44.000000000Z", -9223372036e9},
		{"2262-04-11T23:47:16.854775808Z", 0},
		{"2300-01-01T00:00:00.000000000Z", 0},
		{"2023-02-29T00:00:00.000000000Z", 0},
		{"2024-05-06T24:00:00.000000000Z", 0},
		{"2024-05-06T07:60:00.000000000Z", 0},
		{"2024-05-06T07:08:60.000000000Z", 0},
		{"2024-05-06 07:08:09.123456789Z", 0},
		{"2024-05-06T07:08:09.12345678xZ", 0},
		{"2024-05-06T07:08:09.123456789", 0},
		{"2024-05-06T07:08:09.123456789z", 0},
		{"2024-05-06T07:08:09.123456789+25:00", 0},
		{"", 0},
		{"Error", 0},
	}
	for _, tt := range tests {
		got, err := parseTimestamp([]byte(tt.in))
		if tt.want == 0 {
			if err == nil && tt.in != "1970-01-01T00:00:00.000000000Z" {
				t.Errorf("parseTimestamp(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFixedMatchesTimeParse(t *testing.T) {
	// Every day from 1678 to 2261, at a time that moves with the day, in both fixed-width forms.
	zone := time.FixedZone("", -(9*3600 + 30*60))
	for d := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2262; d = d.AddDate(0, 0, 1) {
		tm := d.Add(time.Duration(d.YearDay()) * 1234567891)
		for _, s := range []string{tm.Format(fixedLayout), tm.In(zone).Format(fixedLayout)} {
			sec, nsec, ok := parseFixed([]byte(s))
			if !ok || sec != tm.Unix() || nsec != int64(tm.Nanosecond()) {
				t.Fatalf("parseFixed(%q) = %d, %d, %v; want %d, %d", s, sec, nsec, ok, tm.Unix(), tm.Nanosecond())
			}
		}
	}
}

// FuzzParseTimestamp checks the hand-written fast path, and its cache of the last minute,
// against time.Parse.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2024-05-06T07:08:09.123456789Z", "2024-05-06T09:38:09.123456789+02:30", "2024-02-29T23:59:59.999999999Z",
		"0000-01-01T00:00:00.000000000Z", "9999-12-31T23:59:59.999999999-23:59", "2024-05-06T07:08:09Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p stampParser
		check := func(s string) {
			t.Helper()
			tm, err := time.Parse(time.RFC3339Nano, s)
			inRange := err == nil && tm.Unix() >= minUnixSeconds && tm.Unix() <= maxUnixSeconds &&
				!(tm.Unix() == maxUnixSeconds && tm.Nanosecond() > 854775807)
			ns, perr := p.parse([]byte(s))
			if (perr == nil) != inRange {
				t.Fatalf("parse(%q) error %v; time.Parse gives %v, %v", s, perr, tm, err)
			}
			if perr == nil && ns != tm.UnixNano() {
				t.Fatalf("parse(%q) = %d, time.Parse gives %d", s, ns, tm.UnixNano())
			}
		}
		// The same minute as the daemon's form of t0, with s's bytes for the rest: a cache hit.
		check("2024-05-06T07:08:09.123456789Z")
		check("2024-05-06T07:08" + s)
		check(s)
		check(s)
		tm, err := time.Parse(time.RFC3339Nano, s)
		if sec, nsec, ok := parseFixed([]byte(s)); ok {
			if err != nil {
				t.Fatalf("parseFixed accepts %q, time.Parse does not: %v", s, err)
			}
			if sec != tm.Unix() || nsec != int64(tm.Nanosecond()) {
				t.Fatalf("parseFixed(%q) = %d, %d; time.Parse gives %d, %d", s, sec, nsec, tm.Unix(), tm.Nanosecond())
			}
		}
		// Whatever the path, parseTimestamp agrees with time.Parse on the int64 range.
		inRange := err == nil && tm.Unix() >= minUnixSeconds && tm.Unix() <= maxUnixSeconds &&
			!(tm.Unix() == maxUnixSeconds && tm.Nanosecond() > 854775807)
		ns, perr := parseTimestamp([]byte(s))
		if (perr == nil) != inRange {
			t.Fatalf("parseTimestamp(%q) error %v; time.Parse gives %v, %v", s, perr, tm, err)
		}
		if perr == nil && ns != tm.UnixNano() {
			t.Fatalf("parseTimestamp(%q) = %d, time.Parse gives %d", s, ns, tm.UnixNano())
		}
	})
}
