package decode

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// Option tables the fuzz targets pick from with one byte.
var (
	fuzzMaxLine  = []int{0, 1, 2, 7, 100, 16383, 16384, 16385, 40000}
	fuzzMuxSizes = []int{readBufferSize, minMuxBuffer, 1000, 17000}
	fuzzTTYSizes = []int{readBufferSize, minTTYBuffer}
)

func fuzzOptions(opt byte, tty bool) (Options, int) {
	opts := Options{TTY: tty, MaxLineBytes: fuzzMaxLine[int(opt)%len(fuzzMaxLine)]}
	sizes := fuzzMuxSizes
	if tty {
		sizes = fuzzTTYSizes
	}
	return opts, sizes[int(opt)/len(fuzzMaxLine)%len(sizes)]
}

// readChecked reads r to its end, checking what must hold of every Line whatever the input, and
// hands each Line and daemon error to visit. It returns how the stream ended: the error's kind,
// not its text, which quotes whatever happened to be buffered.
func readChecked(t *testing.T, r *Reader, inputLen int, visit func(Line, *DaemonError)) string {
	t.Helper()
	// Every Line but an entry's final one has at least one byte of Body, and every entry and
	// daemon error takes at least a byte of input: more Next calls than that is a loop.
	for calls := 0; calls <= 2*inputLen+2; calls++ {
		l, err := r.Next()
		var de *DaemonError
		switch {
		case err == nil:
		case errors.As(err, &de):
			visit(Line{}, de)
			continue
		case err == io.EOF:
			return "EOF"
		case errors.Is(err, ErrTruncated):
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%v does not wrap io.ErrUnexpectedEOF", err)
			}
			return "truncated"
		case errors.Is(err, ErrMalformed):
			return "malformed"
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if l.Stream != Stdout && (l.Stream != Stderr || r.tty) {
			t.Fatalf("line on stream %d", l.Stream)
		}
		if len(l.Body) > r.max {
			t.Fatalf("body of %d bytes, MaxLineBytes %d", len(l.Body), r.max)
		}
		if l.Entries < 0 || l.Entries == 0 && len(l.Body) == 0 {
			t.Fatalf("line with Entries %d and %d bytes", l.Entries, len(l.Body))
		}
		if r.tty && bytes.IndexByte(l.Body, '\n') >= 0 {
			t.Fatalf("TTY line with a newline in it: %q", l.Body)
		}
		visit(l, nil)
	}
	t.Fatalf("no end after %d calls of Next on %d bytes of input", 2*inputLen+2, inputLen)
	return ""
}

// collect returns a visitor for readChecked that appends to lines.
func collect(lines *[]got) func(Line, *DaemonError) {
	return func(l Line, de *DaemonError) {
		if de != nil {
			*lines = append(*lines, got{Body: "daemon error: " + de.Message})
			return
		}
		*lines = append(*lines, got{l.Stream, l.Timestamp, string(l.Body), l.Entries})
	}
}

// checkArbitrary reads data whole and a byte at a time, and requires the same outcome.
func checkArbitrary(t *testing.T, opt byte, data []byte, tty bool) {
	opts, size := fuzzOptions(opt, tty)
	checkArbitraryWith(t, opts, size, data)
}

// checkArbitraryWith is checkArbitrary with the Options given; the lines Finish ends must agree too.
func checkArbitraryWith(t *testing.T, opts Options, size int, data []byte) {
	if len(data) > maxArbitraryInput {
		t.Skip("input longer than maxArbitraryInput")
	}
	read := func(src io.Reader) ([]got, string) {
		var lines []got
		r := newReaderSize(src, opts, size)
		end := readChecked(t, r, len(data), collect(&lines))
		if end == "EOF" {
			for n := 0; ; n++ {
				l, ok := r.Finish()
				if !ok {
					break
				}
				if n > 2*len(data)+2 {
					t.Fatalf("Finish does not end after %d lines of %d bytes of input", n, len(data))
				}
				lines = append(lines, got{l.Stream, l.Timestamp, string(l.Body), l.Entries})
			}
		}
		return lines, end
	}
	whole, wholeEnd := read(bytes.NewReader(data))
	bytewise, bytewiseEnd := read(iotest.OneByteReader(bytes.NewReader(data)))
	equalLines(t, bytewise, whole)
	if wholeEnd != bytewiseEnd {
		t.Fatalf("read whole the input ends %s, read a byte at a time it ends %s", wholeEnd, bytewiseEnd)
	}
}

// The seeds of the arbitrary-input targets are small: the fuzzer minimizes every input that finds
// new code by trying to cut out each of its byte ranges, which takes minutes for a few kilobytes.
// The small input buffers (minMuxBuffer) reach the large-frame code with small frames, and the
// round trips cover long lines.

// maxArbitraryInput keeps minimization, which is quadratic in the input length, to seconds.
const maxArbitraryInput = 1024

func FuzzReaderMultiplexed(f *testing.F) {
	f.Add(byte(0), []byte(muxLine(Stdout, t0, "hello")+muxLine(Stderr, t0, big(150))))
	f.Add(byte(10), []byte(frame(1, entry(t0, "abc"))+frame(2, entry(t0, "x\n"))+frame(1, entry(t0, "d\n"))))
	f.Add(byte(1), []byte(frame(3, "Error grabbing logs: x\n")+frame(1, entry(t0, "y\n"))[:20]))
	f.Add(byte(20), []byte(frame(1, entry(t0, big(120)+"\n"))+frame(1, "2024-05-06T07:08:09Z a\n")))
	f.Add(byte(2), []byte(frame(1, "x y\n")+"\x01\x00\x00"))
	f.Add(byte(9), []byte("\x02\x00\x00\x00\xff\xff\xff\xff"+entry(t0, "x")))
	f.Fuzz(func(t *testing.T, opt byte, data []byte) {
		checkArbitrary(t, opt, data, false)
	})
}

func FuzzReaderTTY(f *testing.F) {
	f.Add(byte(0), []byte(ttyLine(t0, "hello")+ttyLine(t0, big(100))))
	f.Add(byte(1), []byte(ttyLine(t0, "a")+"Error grabbing logs: x\n"+entry(t0, "b")))
	f.Add(byte(2), []byte(entry(t0, big(50))+"Error x\n"))
	f.Add(byte(12), []byte("2024-05-06T07:08:09Z a\r\n2024-05-06T07:08:09.5+01:00 \n2024"))
	f.Fuzz(func(t *testing.T, opt byte, data []byte) {
		checkArbitrary(t, opt, data, true)
	})
}

// FuzzReaderLocalTTY is FuzzReaderTTY for the local driver of Docker 20.10, whose last piece of a long line has
// no newline (see ttyEntry); its pieces are shrunk with the input buffer's minimum.
func FuzzReaderLocalTTY(f *testing.F) {
	f.Add(byte(0), []byte(entry(t0, "ab")+entry(t0, "c")+entry(t0+1, "d\r\n")))
	f.Add(byte(1), []byte(entry(t0, "ab")+entry(t0, stamp(t0+2)+" x ")+entry(t0+1, "d")))
	f.Add(byte(2), []byte(entry(t0, "ab")+entry(t0, "")))
	f.Fuzz(func(t *testing.T, opt byte, data []byte) {
		opts, _ := fuzzOptions(opt, true)
		opts.Driver, opts.DaemonAPI = "local", "1.41"
		opts.Now = func() time.Time { return time.Unix(0, t0+int64(time.Hour)) }
		checkArbitraryWith(t, opts, 0, data)
	})
}

// fuzzBytes hands out the bytes of a fuzz input, then zeros.
type fuzzBytes []byte

func (b *fuzzBytes) next() byte {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return c
}

// genLine is a line the round trip writes the way the daemon would, and must read back.
type genLine struct {
	stream       Stream
	ts           int64
	body         string
	stamp        string   // the timestamp as written
	entries      []string // the entries' payloads, as the daemon writes them
	unterminated bool     // written without a newline: it ends where the next line of its stream begins
}

// fuzzPieceSizes are the sizes logging drivers cut long lines into: json-file's 16 KiB, and others.
var fuzzPieceSizes = []int{pieceSize, 1000, 100, 70000}

// bodyAlphabet has everything a line can hold but "\n": spaces, "\r", UTF-8, timestamp look-alikes.
const bodyAlphabet = "ab \r\t0123456789-:.TZ\xc3\xa9\xe2\x82\xac\x00\xff"

// genLines turns fuzz bytes into lines, encoded the way the daemon would encode them.
func genLines(data []byte, tty bool) []genLine {
	src := fuzzBytes(data)
	size := fuzzPieceSizes[int(src.next())%len(fuzzPieceSizes)]
	ts := t0
	var lines []genLine
	for len(src) > 0 && len(lines) < 10 {
		ctl := src.next()
		var n int
		switch ctl >> 1 & 3 {
		case 0:
			n = int(src.next())
		case 1:
			n = max(0, size+int(int8(src.next()))) // around one piece
		case 2:
			n = max(0, 2*size+int(int8(src.next()))) // around two pieces
		case 3:
			n = (int(src.next())<<8 | int(src.next())) % 40000
		}
		seed := uint32(src.next())
		body := make([]byte, n)
		for i := range body {
			seed = seed*1664525 + 1013904223
			body[i] = bodyAlphabet[seed>>24%uint32(len(bodyAlphabet))]
		}
		switch ctl >> 5 & 3 {
		case 1:
			ts++
		case 2:
			ts += int64(src.next()) * int64(time.Millisecond)
		case 3:
			ts += int64(src.next()) * int64(time.Hour)
		}
		l := genLine{stream: Stdout, ts: ts, body: string(body)}
		if !tty && ctl&1 == 1 {
			l.stream = Stderr
		}
		tm := time.Unix(0, ts)
		switch ctl >> 3 & 3 {
		case 0, 3:
			l.stamp = tm.UTC().Format(fixedLayout)
		case 1:
			zone := time.FixedZone("", (int(src.next())%48-24)*30*60)
			l.stamp = tm.In(zone).Format(fixedLayout)
		case 2:
			l.stamp = tm.UTC().Format(time.RFC3339Nano) // trailing zeros dropped: the slow path
		}
		msg := l.body
		if tty && (ctl&0x80 == 0 || strings.HasSuffix(msg, "\r")) {
			msg += "\r" // the terminal's "\r\n"; otherwise a raw-mode bare "\n"
		}
		// A short line without its newline, as a run's last write; only where the next line of its stream shows
		// where it ends: stamped later, and on a TTY in the same fixed form.
		l.unterminated = seed&0x80 != 0 && len(msg) < size && ctl>>3&3 == 0
		if l.unterminated {
			l.entries = []string{l.stamp + " " + l.body}
		} else {
			for _, p := range piecesOf(msg, size) {
				l.entries = append(l.entries, l.stamp+" "+p)
			}
		}
		lines = append(lines, l)
	}
	for i := range lines {
		if !lines[i].unterminated {
			continue
		}
		next := -1
		for j := i + 1; j < len(lines); j++ {
			if lines[j].stream == lines[i].stream {
				next = j
				break
			}
		}
		if next < 0 || lines[next].ts <= lines[i].ts || lines[next].stamp[len(lines[next].stamp)-1] != 'Z' || len(lines[next].stamp) != fixedUTCLen {
			lines[i].unterminated = false
			lines[i].entries = nil
			msg := lines[i].body
			if tty {
				msg += "\r"
			}
			for _, p := range piecesOf(msg, size) {
				lines[i].entries = append(lines[i].entries, lines[i].stamp+" "+p)
			}
		}
	}
	return lines
}

// chunkReader returns reads of sizes taken from a fuzz input, as a network connection might.
type chunkReader struct {
	r     io.Reader
	sizes []byte
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.sizes) > 0 {
		s := int(c.sizes[c.i%len(c.sizes)])
		c.i++
		p = p[:min(len(p), s*s+1)]
	}
	return c.r.Read(p)
}

// roundTrip writes lines as the daemon would, reads them back, and checks that they are the same
// lines: same stream, timestamp, body and entry count, in the order they were completed.
func roundTrip(t *testing.T, opt byte, chunks, data []byte, tty bool) {
	lines := genLines(data, tty)
	var input bytes.Buffer
	var want []got
	// Interleave the two streams' entries as the daemon's two copiers may, keeping each stream's
	// own order; a line is complete, and expected, when its last entry is written.
	type cursor struct{ line, entry int }
	queues := [2][]int{}
	for i, l := range lines {
		queues[l.stream-1] = append(queues[l.stream-1], i)
	}
	var cur [2]cursor
	choice := fuzzBytes(chunks)
	for cur[0].line < len(queues[0]) || cur[1].line < len(queues[1]) {
		s := 0
		if cur[0].line == len(queues[0]) || cur[1].line < len(queues[1]) && choice.next()&1 == 1 {
			s = 1
		}
		l := lines[queues[s][cur[s].line]]
		if cur[s].entry == 0 && cur[s].line > 0 {
			// An unterminated line before it is complete once an entry stamped otherwise follows.
			if prev := lines[queues[s][cur[s].line-1]]; prev.unterminated {
				want = append(want, got{prev.stream, prev.ts, prev.body, 1})
			}
		}
		e := l.entries[cur[s].entry]
		if tty {
			input.WriteString(e)
		} else {
			input.WriteString(frame(byte(l.stream), e))
		}
		cur[s].entry++
		if cur[s].entry == len(l.entries) {
			if !l.unterminated {
				want = append(want, got{l.stream, l.ts, l.body, len(l.entries)})
			}
			cur[s] = cursor{line: cur[s].line + 1}
		}
	}
	if tty {
		want = ttyWant(lines)
	}
	// Sometimes end the stream in the middle of a line, at an entry boundary: Finish ends it there.
	pending := opt&0x80 != 0
	var last got
	if pending {
		ts := t0
		if len(lines) > 0 {
			ts = lines[len(lines)-1].ts + 1 // a new line, not a piece of the last one
		}
		if tty {
			last = got{Stdout, ts, big(pieceSize), 1}
			input.WriteString(entry(ts, last.Body))
		} else {
			last = got{Stdout, ts, big(int(opt) * 100), 1}
			input.WriteString(frame(byte(Stdout), entry(ts, last.Body)))
		}
	}

	opts, size := fuzzOptions(opt&0x7f, tty)
	r := newReaderSize(&chunkReader{r: &input, sizes: chunks}, opts, size)
	// Join the fragments of lines split by MaxLineBytes, stream by stream.
	var gotLines []got
	var acc [2]struct {
		started bool
		ts      int64
		body    []byte
	}
	end := readChecked(t, r, input.Len(), func(l Line, de *DaemonError) {
		if de != nil {
			t.Fatalf("daemon error %v", de)
		}
		a := &acc[l.Stream-1]
		if !a.started {
			a.started, a.ts = true, l.Timestamp
		} else if l.Timestamp != a.ts {
			t.Fatalf("fragment of a %s line has timestamp %d, the line's first has %d", l.Stream, l.Timestamp, a.ts)
		}
		a.body = append(a.body, l.Body...)
		if l.Entries > 0 {
			gotLines = append(gotLines, got{l.Stream, a.ts, string(a.body), l.Entries})
			a.started, a.body = false, a.body[:0]
		}
	})
	if end != "EOF" {
		t.Fatalf("stream ends %s, want EOF", end)
	}
	equalLines(t, gotLines, want)
	if r.Pending() != pending {
		t.Fatalf("Pending() = %v, want %v", r.Pending(), pending)
	}
	if !pending && (acc[0].started || acc[1].started) {
		t.Fatal("fragments of a line that never ended")
	}
	if pending {
		body := string(acc[0].body)
		var finished []got
		for {
			l, ok := r.Finish()
			if !ok {
				break
			}
			body += string(l.Body)
			if l.Entries > 0 {
				finished = append(finished, got{l.Stream, l.Timestamp, body, l.Entries})
				body = ""
			}
		}
		equalLines(t, finished, []got{last})
	}
}

// ttyWant is what a TTY stream of lines reads as: a line without a newline is read with the entries that follow it
// up to the next newline, their timestamps as text, and counts as one entry (see ttyEntry).
func ttyWant(lines []genLine) []got {
	var want []got
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !l.unterminated {
			want = append(want, got{l.stream, l.ts, l.body, len(l.entries)})
			continue
		}
		body := l.body
		for i+1 < len(lines) {
			i++
			body += strings.Join(lines[i].entries, "")
			if !lines[i].unterminated {
				break
			}
		}
		body = strings.TrimSuffix(strings.TrimSuffix(body, "\n"), "\r")
		want = append(want, got{l.stream, l.ts, body, 1})
	}
	return want
}

// roundTripSeeds make lines of every length class and timestamp form.
var roundTripSeeds = [][]byte{
	{0x00, 10, 1, 0x21, 20, 2, 0x43, 100, 3, 0x0a, 0, 4, 7},
	{0x02, 0xff, 9, 0x03, 0x00, 9, 0x02, 0x01, 9, 0x82, 0x7f, 5},
	{0x04, 0x00, 1, 0x05, 0x10, 2, 0x86, 0x30, 0x20, 3, 0x01, 0x50, 6},
	{0x47, 0x01, 0x00, 1, 0x09, 0x00, 1, 15, 0x53, 0xff, 0x00, 2, 3, 0x65, 5},
	{0x12, 0xff, 1, 0x1a, 0x05, 2, 3, 0x16, 0x02, 3},
	// Pieces of 1000 bytes; a line without its newline before a later one, on each stream.
	{0x01, 0x20, 10, 0x85, 0x21, 5, 0x90, 0x22, 0x05, 7, 0x20, 3, 0x81, 0x21, 2, 4, 0x20, 1, 5},
	// Pieces of 70,000 bytes, more than the input buffer; an unterminated line between two long ones.
	{0x03, 0x24, 0x10, 9, 0x20, 20, 0xc0, 0x24, 0x00, 3},
}

func FuzzRoundTripMultiplexed(f *testing.F) {
	for i, s := range roundTripSeeds {
		f.Add(byte(i*13), []byte{byte(i), 1, 0xff, 7}, s)
		f.Add(byte(0x80|i*11), []byte{}, s)
	}
	f.Fuzz(func(t *testing.T, opt byte, chunks, data []byte) {
		roundTrip(t, opt, chunks, data, false)
	})
}

func FuzzRoundTripTTY(f *testing.F) {
	for i, s := range roundTripSeeds {
		f.Add(byte(i*13), []byte{byte(i), 1, 0xff, 7}, s)
		f.Add(byte(0x80|i*11), []byte{}, s)
	}
	f.Fuzz(func(t *testing.T, opt byte, chunks, data []byte) {
		roundTrip(t, opt, chunks, data, true)
	})
}
