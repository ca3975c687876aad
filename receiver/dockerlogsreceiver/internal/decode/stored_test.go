package decode

import (
	"strings"
	"testing"
	"time"
)

// repeatCase is a long line as the daemon stores it and as a follower receives it: piece indexes into its pieces.
type repeatCase struct {
	name string
	body string
	// sent are the pieces the follower receives, in order; a piece the daemon sent again appears twice.
	sent []int
	// stored are the pieces the daemon had stored at each question, in turn; the last answers every later one.
	stored [][]int
	asks   int // questions the Reader must ask
	// lost: a rotation deleted the line before it from the log, and, when stored does not start with piece 0,
	// the line's start.
	lost bool
	// out are the pieces the line comes out as, when not all of them once.
	out []int
}

// The first piece of a line that starts a json-file file, sent again (the follower reached the file's end after
// it); the same when the file before is gone (max-file 1), where only the stream saw the line begin, in a line of
// distinct pieces and in a run of one byte; a run of one byte whose pieces are equal, sent as stored; the same run
// with two pieces sent again, asked about when the daemon had stored only two of them; a run whose start the
// daemon no longer holds, asked about once, which comes out as the daemon keeps it (its deleted start was made of
// the same pieces as the rest: the bytes cannot tell it from the first pieces sent again); two middle pieces sent
// again.
var repeatCases = []repeatCase{
	{name: "first piece again", body: "seq=1 " + strings.Repeat("abcdefghij", 5000), sent: []int{0, 0, 1, 2, 3}, stored: [][]int{{0, 1, 2, 3}}, asks: 1},
	{name: "first piece again, file before gone", body: "seq=3 " + strings.Repeat("uvwxyzabcd", 5000), sent: []int{0, 0, 1, 2, 3}, stored: [][]int{{0, 1, 2, 3}}, asks: 1, lost: true},
	{name: "first pieces of a run again, file before gone", body: strings.Repeat("0", 3*pieceSize+10), sent: []int{0, 1, 0, 1, 2, 3}, stored: [][]int{{0, 1, 2, 3}}, asks: 1, lost: true},
	{name: "run of one byte as stored", body: strings.Repeat("x", 3*pieceSize+10), sent: []int{0, 1, 2, 3}, stored: [][]int{{0, 1, 2, 3}}, asks: 1},
	{name: "run of one byte again", body: strings.Repeat("0", 3*pieceSize+10), sent: []int{0, 1, 0, 1, 2, 3}, stored: [][]int{{0, 1}, {0, 1, 2, 3}}, asks: 2},
	{name: "start rotated away", body: strings.Repeat("=", 3*pieceSize+10), sent: []int{0, 1, 2, 3}, stored: [][]int{{2, 3}}, asks: 1, lost: true, out: []int{2, 3}},
	{name: "second and third again", body: "seq=2 " + strings.Repeat("klmnopqrst", 6000), sent: []int{0, 1, 2, 1, 2, 3}, stored: [][]int{{0, 1, 2, 3}}, asks: 1},
}

// TestReaderKeepsEachStoredPieceOnce reads lines whose pieces the daemon sent again, plain and on a TTY: each line
// comes out as stored, once, whatever its bytes; the daemon is asked only when a piece equals an earlier one.
func TestReaderKeepsEachStoredPieceOnce(t *testing.T) {
	for _, tty := range []bool{false, true} {
		for _, c := range repeatCases {
			t.Run(c.name+map[bool]string{false: " plain", true: " tty"}[tty], func(t *testing.T) {
				text := c.body
				if tty {
					text += "\r"
				}
				ps := pieces(text)
				asks := 0
				stored := func(stream Stream, since, ts int64) (StoredLine, bool) {
					want := c.stored[min(asks, len(c.stored)-1)]
					asks++
					if stream != Stdout || since != t0-1 || ts != t0 {
						t.Errorf("asked about %v at %d since %d, want stdout at %d since %d", stream, ts, since, t0, t0-1)
					}
					// What the daemon sends without following, since the line's time: the pieces stored, then a later
					// line of the output once the line ended, or of the other output (none on a TTY).
					var kept []string
					for _, i := range want {
						kept = append(kept, ps[i])
					}
					log := encode(tty, kept)
					if !c.lost {
						log = encodeAt(tty, since, []string{"before\n"}) + log
					}
					switch {
					case strings.HasSuffix(kept[len(kept)-1], "\n"):
						log += encodeAt(tty, t0+1, []string{"later\n"})
					case !tty:
						log += frame(byte(Stderr), entry(t0+1, "other output\n"))
					}
					line, err := StoredPieces(strings.NewReader(log), Options{TTY: tty}, Stdout, ts)
					if err != nil {
						t.Fatal(err)
					}
					if line.Whole != strings.HasSuffix(kept[len(kept)-1], "\n") {
						t.Errorf("the stored line is whole: %v, with %d pieces", line.Whole, len(kept))
					}
					return line, true
				}
				var sent []string
				for _, i := range c.sent {
					sent = append(sent, ps[i])
				}
				input := encodeAt(tty, t0-1, []string{"before\n"}) + encode(tty, sent) + encodeAt(tty, t0+1, []string{"next\n"})
				lines, err := readAll(NewReader(strings.NewReader(input), Options{TTY: tty, MaxLineBytes: 1 << 20, Stored: stored}))
				if err.Error() != "EOF" {
					t.Fatal(err)
				}
				body, entries := c.body, len(ps)
				if c.out != nil {
					var b strings.Builder
					for _, i := range c.out {
						b.WriteString(ps[i])
					}
					body, entries = strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), "\r"), len(c.out)
				}
				equalLines(t, lines, []got{{Stdout, t0 - 1, "before", 1}, {Stdout, t0, body, entries}, {Stdout, t0 + 1, "next", 1}})
				if asks != c.asks {
					t.Errorf("asked the daemon %d times, want %d", asks, c.asks)
				}
			})
		}
	}
}

// TestReaderDoesNotAskAboutWholeSecondStamps keeps equal pieces stamped to the second (Podman, where many lines
// share a stamp and nothing is sent again) without asking.
func TestReaderDoesNotAskAboutWholeSecondStamps(t *testing.T) {
	sec := t0 - t0%int64(time.Second)
	body := strings.Repeat("=", 2*pieceSize+1)
	stored := func(Stream, int64, int64) (StoredLine, bool) {
		t.Error("asked about a whole-second stamp")
		return StoredLine{}, false
	}
	lines, err := readAll(NewReader(strings.NewReader(muxLine(Stdout, sec, body)), Options{Stored: stored}))
	if err.Error() != "EOF" {
		t.Fatal(err)
	}
	equalLines(t, lines, []got{{Stdout, sec, body, 3}})
}

// encode writes pieces stamped t0 as the daemon sends them on stdout.
func encode(tty bool, ps []string) string { return encodeAt(tty, t0, ps) }

// encodeAt writes pieces stamped ts as the daemon sends them on stdout: frames, or a TTY's raw entries.
func encodeAt(tty bool, ts int64, ps []string) string {
	var b strings.Builder
	for _, p := range ps {
		if tty {
			if strings.HasSuffix(p, "\n") && !strings.HasSuffix(p, "\r\n") {
				p = strings.TrimSuffix(p, "\n") + "\r\n"
			}
			b.WriteString(entry(ts, p))
			continue
		}
		b.WriteString(frame(byte(Stdout), entry(ts, p)))
	}
	return b.String()
}
