package decode

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// hostileLine is a line whose content holds timestamps the daemon did not write, as a container can print.
type hostileLine struct {
	ts      int64
	stamp   string // the daemon's timestamp of the line
	body    string
	want    string   // the body read back
	entries []string // as the daemon writes them: stamp, space, piece
}

// hostileStamp returns a timestamp for a line stamped ts, between lines stamped prev and next, in one of the shapes
// a program can print: later and earlier ones, the neighbours' own, far in the future, in other zones and layouts,
// and cut short. The line's own timestamp comes only without the space after it: followed by a space it is where
// the line's next piece starts, and a program cannot know that nanosecond when it writes (see ttyEntry).
func hostileStamp(src *fuzzBytes, ts, prev, next int64, own string) string {
	at := func(ns int64) time.Time { return time.Unix(0, ns).UTC() }
	delta := int64(src.next())<<8 | int64(src.next())
	var s string
	switch src.next() % 12 {
	case 0:
		s = stamp(ts + 1 + delta) // later, by nanoseconds
	case 1:
		s = stamp(ts + (1+delta)*int64(time.Millisecond)) // later, by a plausible gap
	case 2:
		s = stamp(ts - 1 - delta) // earlier: a program's own clock
	case 3:
		s = stamp(next) // the next line's, to the nanosecond
	case 4:
		s = stamp(prev) // the line before's
	case 5:
		s = "2099-01-01T00:00:00.000000000Z" // far in the future
	case 6:
		s = at(ts + 1 + delta).In(time.FixedZone("", 7*3600)).Format(fixedLayout) // later, with an offset
	case 7:
		s = at(ts + 1 + delta).Format(time.RFC3339Nano) // later, trailing zeros dropped
	case 8:
		s = at(ts + int64(time.Hour)).Format(time.RFC3339) // later, whole seconds
	case 9:
		s = stamp(ts + 1 + delta)[:1+int(delta)%(fixedUTCLen-1)] // cut short
	case 10:
		return own + "x" // its own, not followed by a space
	case 11:
		return own // its own, at the end of the line or before the next stamp
	}
	if src.next()&1 == 0 {
		return s + " "
	}
	return s
}

// hostileLines turns fuzz bytes into lines that end with a newline, their content full of timestamps. With local,
// the lines are cut into the local driver's pieces and, as Docker 20.10 gives them back, a line cut into pieces has
// no newline; its body keeps the "\r". (A newer daemon gives them back as json-file does: FuzzTTYContentIsContent.)
func hostileLines(data []byte, local bool) []hostileLine {
	src := fuzzBytes(data)
	size := fuzzPieceSizes[int(src.next())%len(fuzzPieceSizes)]
	if local {
		size = localPiece
	}
	count := int(src.next()%8) + 1
	stamps := make([]int64, count+2)
	stamps[0] = t0 - int64(time.Second)
	for i := 1; i < len(stamps); i++ {
		stamps[i] = stamps[i-1] + 1 + int64(src.next())*int64(time.Millisecond)
	}
	lines := make([]hostileLine, count)
	for i := range lines {
		ts := stamps[i+1]
		l := hostileLine{ts: ts, stamp: stamp(ts)}
		if ctl := src.next(); ctl&3 == 1 && !local {
			l.stamp = time.Unix(0, ts).In(time.FixedZone("", (int(ctl>>2)%48-24)*30*60)).Format(fixedLayout)
		}
		var b strings.Builder
		for n := int(src.next() % 6); n > 0; n-- {
			b.WriteString(strings.Repeat("a b\r", int(src.next()%4)))
			b.WriteString(hostileStamp(&src, ts, stamps[i], stamps[i+2], l.stamp))
		}
		if src.next()&1 == 1 {
			// Around a piece's size: the pieces' own timestamps come between the hostile ones.
			b.WriteString(big(max(0, size+int(int8(src.next()))-b.Len())))
			b.WriteString(hostileStamp(&src, ts, stamps[i], stamps[i+2], l.stamp))
		}
		l.body = b.String()
		l.want = l.body
		msg := l.body
		if src.next()&1 == 0 || strings.HasSuffix(msg, "\r") {
			msg += "\r"
		}
		ps := piecesOf(msg, size)
		if last := len(ps) - 1; local && last > 0 {
			ps[last] = strings.TrimSuffix(ps[last], "\n")
			l.want = msg
		}
		for _, p := range ps {
			l.entries = append(l.entries, l.stamp+" "+p)
		}
		lines[i] = l
	}
	return lines
}

// FuzzTTYContentIsContent writes TTY lines whose content holds timestamps of every shape, and requires what matters
// of the lines read back: their bodies are the content written, byte for byte (less the "\r" before each newline),
// and no Line is stamped later than the newest timestamp the daemon wrote before it; so, lines as written.
func FuzzTTYContentIsContent(f *testing.F) {
	addHostileSeeds(f)
	f.Fuzz(func(t *testing.T, opt byte, chunks, data []byte) {
		contentIsContent(t, opt, chunks, data, false)
	})
}

// FuzzLocalTTYContentIsContent is FuzzTTYContentIsContent for the local driver, whose last piece of a long line
// ends at the next entry's timestamp: no Line is stamped later than the newest timestamp the daemon wrote before
// it, and the lines are read as written unless a timestamp in their content could end a last piece early (in the
// span of a last piece, between the line's time and the next's: see ttyEntry).
func FuzzLocalTTYContentIsContent(f *testing.F) {
	addHostileSeeds(f)
	f.Add(byte(0x80), []byte{}, []byte{0, 2, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1})
	f.Add(byte(5), []byte{9, 200}, []byte{0, 3, 7, 0, 0, 2, 1, 4, 0, 1, 2, 1, 0, 0, 1, 1, 0, 1, 0, 11, 0, 1})
	f.Fuzz(func(t *testing.T, opt byte, chunks, data []byte) {
		contentIsContent(t, opt, chunks, data, true)
	})
}

// addHostileSeeds adds the seeds of the content fuzz targets.
func addHostileSeeds(f *testing.F) {
	f.Add(byte(0), []byte{}, []byte{0, 3, 0, 0, 2, 0, 0, 5, 1, 0, 0, 0, 0, 1, 0, 0, 2, 1})
	f.Add(byte(1), []byte{3, 1}, []byte{1, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 2, 1, 9, 9, 3, 0, 2, 0, 1, 1, 10, 11, 1})
	f.Add(byte(2), []byte{}, []byte{0, 2, 9, 9, 9, 0, 1, 0, 0, 0, 5, 1, 1, 0, 0, 3, 0, 1, 5, 10, 0, 0, 11, 0})
	f.Add(byte(3), []byte{7}, []byte{2, 5, 1, 1, 1, 1, 1, 1, 1, 5, 2, 0, 0, 6, 0, 2, 0, 7, 1, 1, 2, 0, 0, 8, 1, 0, 2, 0, 0, 9, 1})
}

// contentIsContent reads the hostile lines data describes and checks them (see FuzzTTYContentIsContent).
func contentIsContent(t *testing.T, opt byte, chunks, data []byte, local bool) {
	{
		lines := hostileLines(data, local)
		early := local && couldEndEarly(lines)
		readAt := t0 + int64(time.Hour)
		var input bytes.Buffer
		var content strings.Builder
		var want []got
		// ends[i] is where entry i ends in the input, and newest[i] the newest timestamp written up to it.
		var ends []int
		var newest []int64
		for _, l := range lines {
			for _, e := range l.entries {
				input.WriteString(e)
				ends = append(ends, input.Len())
				newest = append(newest, l.ts)
			}
			content.WriteString(l.want)
			want = append(want, got{Stdout, l.ts, l.want, len(l.entries)})
		}
		// Sometimes a last write without a newline: Finish ends it where the stream ends.
		if opt&0x80 != 0 && len(lines) > 0 {
			last := lines[len(lines)-1]
			ts := last.ts + 1
			body := "GET /" + stamp(ts+int64(time.Second)) + " x " + stamp(ts+1)
			input.WriteString(entry(ts, body))
			ends = append(ends, input.Len())
			newest = append(newest, ts)
			content.WriteString(body)
			want = append(want, got{Stdout, ts, body, 1})
		}

		opts, size := fuzzOptions(opt&0x7f, true)
		if !local && opt&0x40 != 0 {
			// A newer daemon's local driver: its pieces are json-file's.
			opts.Driver, opts.DaemonAPI = "local", "1.44"
		}
		if local {
			opts.Driver, opts.DaemonAPI = "local", "1.41"
			opts.Now = func() time.Time { return time.Unix(0, readAt) }
		}
		src := &countingReader{r: &chunkReader{r: bytes.NewReader(input.Bytes()), sizes: chunks}}
		r := newReaderSize(src, opts, size)
		var gotLines []got
		var body []byte
		check := func(l Line) {
			// The bytes read so far end inside entry i at most: no Line may be stamped after what was written up to it.
			i := 0
			for i < len(ends)-1 && ends[i] < src.n {
				i++
			}
			bound := newest[i]
			switch {
			case early && i+1 < len(ends):
				// A timestamp in a last piece's span may end it, but is never later than the next entry's.
				bound = newest[i+1]
			case early:
				// Or, in the span the log ends in, than the time it is read.
				bound = readAt
			}
			if l.Timestamp > bound {
				t.Fatalf("line stamped %s after reading %d bytes, when the newest timestamp written was %s", stamp(l.Timestamp), src.n, stamp(bound))
			}
			body = append(body, l.Body...)
			if l.Entries > 0 {
				gotLines = append(gotLines, got{l.Stream, l.Timestamp, string(body), l.Entries})
				body = body[:0]
			}
		}
		end := readChecked(t, r, input.Len(), func(l Line, de *DaemonError) {
			if de != nil {
				t.Fatalf("daemon error %v", de)
			}
			check(l)
		})
		if end != "EOF" {
			t.Fatalf("stream ends %s, want EOF", end)
		}
		for {
			l, ok := r.Finish()
			if !ok {
				break
			}
			check(l)
		}
		if early {
			return
		}
		var out strings.Builder
		for _, l := range gotLines {
			out.WriteString(l.Body)
		}
		if out.String() != content.String() {
			t.Fatalf("bodies read differ from the content written at byte %d of %d", firstDifference(out.String(), content.String()), content.Len())
		}
		equalLines(t, gotLines, want)
	}
}

// couldEndEarly tells whether a line cut into pieces without a newline, or the line after it, holds a daemon-form
// timestamp followed by a space, stamped from the cut line's time to the next line's: such a timestamp may end the
// last piece early.
func couldEndEarly(lines []hostileLine) bool {
	for i, l := range lines {
		if len(l.entries) < 2 || strings.HasSuffix(l.entries[len(l.entries)-1], "\n") {
			continue
		}
		next := int64(1<<63 - 1)
		text := l.body
		if i+1 < len(lines) {
			next = lines[i+1].ts
			text += "\n" + lines[i+1].body
		}
		for j := 0; j+fixedUTCLen < len(text); j++ {
			if text[j+fixedUTCLen-1] != 'Z' || text[j+fixedUTCLen] != ' ' {
				continue
			}
			if ts, err := parseTimestamp([]byte(text[j : j+fixedUTCLen])); err == nil && ts >= l.ts && ts <= next {
				return true
			}
		}
	}
	return false
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// firstDifference returns where two strings first differ.
func firstDifference(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
