// Package hostileline plans, from a seed, what the hostilegen test program writes: lines as real programs print
// them and worse (invalid UTF-8, NUL bytes, lone carriage returns, terminal escapes, timestamps of every shape,
// long runs of one byte, 1 B to 3 MiB, written a byte at a time or megabytes at once), and says what the daemon
// turns each line into, so that a test can tell a line that arrived whole and once from one cut, merged, altered
// or repeated.
package hostileline

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Stream names, as the receiver's log.iostream attribute gives them.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// MaxLogSize is the receiver's max_log_size the plan is made for: runs of one byte are longer than it, so that
// an over-long line is cut into pieces that are equal, and lengths sit on either side of it. It is no multiple
// of Docker's 16 KiB piece, so the receiver's records straddle the daemon's pieces.
const MaxLogSize = 20000

// DockerPiece is the size of the pieces the daemon cuts a line into (its copier's buffer, moby daemon/logger/copier.go).
const DockerPiece = 16 * 1024

// HugeMax is the longest line of a plan.
const HugeMax = 3 << 20

// Write says how a line reaches its output.
type Write uint8

const (
	// Whole is one write(2) of the line and its newline, however long.
	Whole Write = iota
	// Bytewise writes the line one byte per write(2).
	Bytewise
	// Chunked writes the line in pieces of 1 B to 64 KiB.
	Chunked
	// Batched keeps the line with the lines after it on the same output and writes them together, up to megabytes.
	Batched
)

func (w Write) String() string {
	return [...]string{"whole", "bytewise", "chunked", "batched"}[w]
}

// Tiny is a line too short to carry a header (0 to a few bytes), written just before its item's line.
type Tiny struct {
	Stream string
	Text   []byte
}

// Item is one numbered line of a plan, with the tiny lines written before it.
type Item struct {
	Seq    int
	Stream string
	// Line is the line without its newline: a header naming Seq, the payload's length and checksum, then the payload.
	Line  []byte
	Write Write
	// Terminated is false for a last line written without a newline (a program that ends with printf "done").
	Terminated bool
	Tiny       []Tiny
	Kind       string // what the line is made to test, for failure messages
}

// Plan is what one container writes: Items numbered lines, from Seed, with timestamps around Epoch.
type Plan struct {
	Seed  uint64
	Items int
	// Epoch (Unix seconds) anchors the timestamps written inside lines: some before it, some after anything the daemon can stamp during the run.
	Epoch int64
	// Unterminated leaves the last item's line without its newline.
	Unterminated bool
	// Huge allows one line of 1 to 3 MiB.
	Huge bool
	// Without leaves out content of these kinds, to see the rest pass while a hole they open is being fixed:
	// "run" (runs of one byte: lines of kinds run-x, run-0, run-= and runs inside others) and "timestamps"
	// (lines of that kind, ts-at-piece, and timestamps inside others). Their lines become kind "short".
	Without []string
	// MaxLen, when set, caps the length of every line but the runs of one byte, which stay longer than three
	// records (up to 8*MaxLogSize+2000 bytes, nearly all of them one ASCII byte).
	MaxLen int
}

// PadPrefix starts the padding lines a paced writer writes to fill its log file up to the size at which the
// daemon rotates it; they are no part of the plan.
const PadPrefix = "hostile pad |"

// PadLen is the length of a padding line without its newline: one daemon piece, one record.
const PadLen = 8000

// PadLine returns a padding line without its newline.
func PadLine() []byte {
	b := make([]byte, PadLen)
	copy(b, PadPrefix)
	for i := len(PadPrefix); i < PadLen; i++ {
		b[i] = 'p'
	}
	return b
}

// tinyTexts are the lines too short for a header: empty, one byte, a byte the daemon alters, an escape.
var tinyTexts = [][]byte{{}, []byte("x"), []byte("0"), []byte("="), []byte("\r"), {0}, {0xff}, []byte("\x1b[0m"), []byte("}"), []byte(" ")}

// fixedKinds are the first items of every plan, so that even a short plan meets each case; later items draw a kind at random.
var fixedKinds = []string{
	"ansi", "invalid-utf8", "timestamps", "run-x", "piece-16383", "piece-16384", "piece-16385",
	"max-1", "max", "max+1", "run-0", "nul-cr", "ts-at-piece", "run-=", "mixed-long", "huge",
}

// randomKinds are drawn for the items after fixedKinds, the small ones most often.
var randomKinds = []string{
	"ansi", "ansi", "invalid-utf8", "invalid-utf8", "timestamps", "timestamps", "nul-cr", "nul-cr", "short", "short",
	"short", "short", "mixed-long", "run-x", "run-0", "run-=", "ts-at-piece", "medium", "medium",
}

// Item returns item seq of the plan; the same plan and seq give the same item.
func (p Plan) Item(seq int) Item {
	r := rand.New(rand.NewPCG(p.Seed, uint64(seq)+1))
	it := Item{Seq: seq, Stream: Stdout, Terminated: !(p.Unterminated && seq == p.Items-1)}
	if r.IntN(3) == 0 {
		it.Stream = Stderr
	}
	if seq < len(fixedKinds) {
		it.Kind = fixedKinds[seq]
	} else {
		it.Kind = randomKinds[r.IntN(len(randomKinds))]
	}
	if it.Kind == "huge" && !p.Huge {
		it.Kind = "mixed-long"
	}
	g := gen{r: r, epoch: p.Epoch, without: p.Without}
	if (strings.HasPrefix(it.Kind, "run-") && g.leaves("run")) || ((it.Kind == "timestamps" || it.Kind == "ts-at-piece") && g.leaves("timestamps")) {
		it.Kind = "short"
	}
	var size int
	switch it.Kind {
	case "short":
		size = 40 + r.IntN(100)
	case "ansi", "invalid-utf8", "timestamps", "nul-cr":
		size = 60 + r.IntN(600)
	case "medium":
		size = 600 + r.IntN(30000)
	case "piece-16383":
		size = DockerPiece - 1
	case "piece-16384":
		size = DockerPiece
	case "piece-16385":
		size = DockerPiece + 1
	case "max-1":
		size = MaxLogSize - 1
	case "max":
		size = MaxLogSize
	case "max+1":
		size = MaxLogSize + 1
	case "run-x", "run-0", "run-=":
		size = 3*MaxLogSize + r.IntN(5*MaxLogSize)
	case "ts-at-piece":
		size = 2*DockerPiece + 100 + r.IntN(DockerPiece)
	case "mixed-long":
		size = 40000 + r.IntN(400000)
	case "huge":
		size = 1<<20 + r.IntN(HugeMax-1<<20+1)
	}
	if p.MaxLen > 0 && !strings.HasPrefix(it.Kind, "run-") {
		size = min(size, p.MaxLen)
	}
	it.Line = g.line(seq, it.Kind, size)
	switch {
	case len(it.Line) <= 300 && r.IntN(3) == 0:
		it.Write = Bytewise
	case r.IntN(4) == 0:
		it.Write = Chunked
	case len(it.Line) < 1<<20 && r.IntN(3) == 0:
		it.Write = Batched
	default:
		it.Write = Whole
	}
	for range r.IntN(4) {
		if r.IntN(2) == 0 {
			continue
		}
		t := Tiny{Stream: Stdout, Text: tinyTexts[r.IntN(len(tinyTexts))]}
		if r.IntN(3) == 0 {
			t.Stream = Stderr
		}
		it.Tiny = append(it.Tiny, t)
	}
	return it
}

// gen builds the payloads of lines.
type gen struct {
	r       *rand.Rand
	epoch   int64
	without []string
}

// leaves reports whether the plan leaves out content of kind.
func (g gen) leaves(kind string) bool {
	return slices.Contains(g.without, kind)
}

// line returns a line of about size bytes (exactly size when the header's digits allow): the header, then a payload of kind.
func (g gen) line(seq int, kind string, size int) []byte {
	hdrLen := len(header(seq, size, 0))
	payload := g.payload(kind, max(size-hdrLen, 1))
	for range 3 {
		// The header's length depends on the payload's length; settle both (a length at a power of ten may
		// flip between two, and is then left one byte long).
		h := header(seq, len(payload), 0)
		want := max(size-len(h), 1)
		if want == len(payload) {
			break
		}
		if want < len(payload) {
			payload = payload[:want]
		} else {
			payload = append(payload, g.filler(want-len(payload))...)
		}
	}
	if kind == "ts-at-piece" {
		// A daemon-format timestamp, later than any capture time, at the start of the daemon's second and third
		// pieces: on a TTY stream nothing but such timestamps shows where a piece ends.
		h := len(header(seq, len(payload), 0))
		for _, at := range []int{DockerPiece, 2 * DockerPiece} {
			if at-h+31 <= len(payload) && at > h {
				copy(payload[at-h:], "2099-12-31T23:59:59.999999999Z ")
			}
		}
	}
	return append(header(seq, len(payload), crc32.ChecksumIEEE(payload)), payload...)
}

// header is what starts every numbered line: its sequence number, its payload's length and CRC-32.
func header(seq, n int, crc uint32) []byte {
	return fmt.Appendf(nil, "hostile seq=%d len=%d crc=%08x |", seq, n, crc)
}

// payload returns n bytes of kind.
func (g gen) payload(kind string, n int) []byte {
	var b []byte
	switch kind {
	case "run-x", "run-0", "run-=":
		// Text, a run of one byte longer than two records, text: the run's records are equal to the byte.
		c := kind[len(kind)-1]
		lead := g.text(20 + g.r.IntN(2000))
		b = append(b, lead...)
		for len(b) < n-30 {
			b = append(b, c)
		}
	case "short", "medium", "piece-16383", "piece-16384", "piece-16385", "max-1", "max", "max+1":
		for len(b) < n {
			b = append(b, g.text(64)...)
		}
	default:
		for len(b) < n {
			b = append(b, g.segment(kind)...)
		}
	}
	for len(b) < n {
		b = append(b, g.text(n-len(b))...)
	}
	return b[:n]
}

// filler returns n bytes of plain text.
func (g gen) filler(n int) []byte {
	b := g.text(n)
	return b[:n]
}

// text returns at least n bytes of words and punctuation, valid UTF-8.
func (g gen) text(n int) []byte {
	words := []string{"request", "id=42", "GET", "/api/v1", "200", "ok", "é", "日本語", "🙂", "\t", "{\"k\":\"v\"}", "key=value", "—", "\\", "\"q\""}
	var b []byte
	for len(b) < n {
		b = append(b, words[g.r.IntN(len(words))]...)
		b = append(b, ' ')
	}
	return b
}

// segment returns a short piece of a hostile payload, mostly of kind.
func (g gen) segment(kind string) []byte {
	pick := kind
	if kind == "mixed-long" || kind == "huge" || g.r.IntN(4) == 0 {
		pick = []string{"ansi", "invalid-utf8", "timestamps", "nul-cr", "text", "run"}[g.r.IntN(6)]
		if g.leaves(pick) {
			pick = "text"
		}
	}
	switch pick {
	case "ansi":
		return []byte([]string{"\x1b[31m", "\x1b[0m", "\x1b[1;32mOK\x1b[0m ", "\x1b[2K", "\x1b]0;title\x07", "\x1b[?25l", "\x1bc", "\b\b", "\x7f", "\f\v"}[g.r.IntN(10)])
	case "invalid-utf8":
		return []byte([]string{"\xff", "\xfe\xfe", "\xc3", "\xc3(", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80\x80\x80", "\xf0\x9f\x99", "\xc0\xaf"}[g.r.IntN(10)])
	case "timestamps":
		return g.timestamp()
	case "nul-cr":
		return []byte([]string{"\x00", "\r", "a\rb", "\x00\x00\x00", "\r\r", " \r ", "\x01\x02\x03"}[g.r.IntN(7)])
	case "run":
		c := []byte("x0= ")[g.r.IntN(4)]
		b := make([]byte, 100+g.r.IntN(3*MaxLogSize))
		for i := range b {
			b[i] = c
		}
		return b
	}
	return g.text(8 + g.r.IntN(60))
}

// timestamp returns a time written inside a line, in one of the shapes programs print, followed by a space or not.
func (g gen) timestamp() []byte {
	// Earlier than the run, later than anything the daemon will stamp during it, or far in the future.
	secs := []int64{g.epoch - 3600, g.epoch - 1, g.epoch + 3600, g.epoch + 86400, 4102444799}[g.r.IntN(5)]
	nanos := g.r.Int64N(1e9)
	var s string
	switch g.r.IntN(7) {
	case 0, 1, 2:
		// The daemon's own fixed-width form, the one its timestamps=1 prefix has.
		s = fmt.Sprintf("%s.%09dZ", utcLayout(secs, "2006-01-02T15:04:05"), nanos)
	case 3:
		s = utcLayout(secs, "2006-01-02T15:04:05Z07:00")
	case 4:
		s = fmt.Sprintf("%s,%03d", utcLayout(secs, "2006-01-02 15:04:05"), nanos/1e6)
	case 5:
		s = strconv.FormatInt(secs, 10) + "." + fmt.Sprintf("%09d", nanos)
	default:
		s = utcLayout(secs, "Mon Jan _2 15:04:05 2006")
	}
	if g.r.IntN(3) > 0 {
		s += " "
	}
	return []byte(s)
}

// utcLayout formats Unix seconds in UTC with layout.
func utcLayout(secs int64, layout string) string {
	return time.Unix(secs, 0).UTC().Format(layout)
}
