package hostileline

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// stored returns the records a faithful receiver delivers for plan under mode: each line's expected body cut into
// records of at most max bytes, all stamped alike, in an order shuffled by r.
func stored(p Plan, m Mode, max int, r *rand.Rand) []Record {
	var recs []Record
	ts := int64(1)
	for seq := range p.Items {
		it := p.Item(seq)
		for _, t := range it.Tiny {
			ts++
			recs = append(recs, Record{Stream: m.Stream(t.Stream), Timestamp: ts, Body: m.Body(t.Text, true)})
		}
		ts++
		body := m.Body(it.Line, it.Terminated)
		for len(body) > 0 {
			n := min(len(body), max)
			recs = append(recs, Record{Stream: m.Stream(it.Stream), Timestamp: ts, Body: body[:n]})
			body = body[n:]
		}
	}
	r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs
}

var testPlan = Plan{Seed: 7, Items: 24, Epoch: 1_800_000_000, Unterminated: true, MaxLen: 60_000}

func TestCheckAcceptsEveryLineOnceInAnyOrder(t *testing.T) {
	for _, m := range []Mode{{}, {JSONFile: true}, {TTY: true}, {JSONFile: true, TTY: true}} {
		recs := stored(testPlan, m, MaxLogSize, rand.New(rand.NewPCG(1, 2)))
		if r := Check(testPlan, m, MaxLogSize, recs); !r.OK() {
			t.Fatalf("mode %+v: %v", m, r)
		}
	}
}

// findPiece returns the index of a record of a run line's equal pieces (not its first), to damage it.
func findPiece(t *testing.T, recs []Record) int {
	t.Helper()
	for i, rec := range recs {
		if len(rec.Body) == MaxLogSize && bytes.Count(rec.Body, rec.Body[:1]) == len(rec.Body) {
			return i
		}
	}
	t.Fatal("no equal piece in the plan")
	return 0
}

func TestCheckNamesEachDamage(t *testing.T) {
	m := Mode{JSONFile: true}
	fresh := func() []Record { return stored(testPlan, m, MaxLogSize, rand.New(rand.NewPCG(3, 4))) }
	cases := []struct {
		name   string
		damage func([]Record) []Record
		want   string
	}{
		{"a line lost", func(recs []Record) []Record {
			for i, rec := range recs {
				if seq, ok := ParseSeq(rec.Body); ok && seq == 2 {
					return append(recs[:i], recs[i+1:]...)
				}
			}
			return recs
		}, "missing 1: seq [2]"},
		{"a line stored twice", func(recs []Record) []Record {
			var again []Record
			for _, rec := range recs {
				if seq, ok := ParseSeq(rec.Body); ok && seq == 0 {
					again = append(again, rec)
				}
			}
			return append(recs, again...)
		}, "duplicated 1: seq 0 x2"},
		{"an equal piece dropped", func(recs []Record) []Record {
			i := findPiece(t, recs)
			return append(recs[:i], recs[i+1:]...)
		}, "cut 1:"},
		{"an equal piece stored twice", func(recs []Record) []Record {
			return append(recs, recs[findPiece(t, recs)])
		}, "repeated pieces 1:"},
		{"a byte altered", func(recs []Record) []Record {
			for i, rec := range recs {
				if seq, ok := ParseSeq(rec.Body); ok && seq == 1 {
					b := bytes.Clone(rec.Body)
					b[len(b)-1] ^= 1
					recs[i].Body = b
				}
			}
			return recs
		}, "altered 1:"},
		{"two lines in one record", func(recs []Record) []Record {
			var first, second int
			for i, rec := range recs {
				if seq, ok := ParseSeq(rec.Body); ok && seq == 0 {
					first = i
				} else if ok && seq == 2 {
					second = i
				}
			}
			recs[first].Body = append(bytes.Clone(recs[first].Body), recs[second].Body...)
			return append(recs[:second], recs[second+1:]...)
		}, "(merged with seq 2)"},
		{"a record on the other output", func(recs []Record) []Record {
			for i, rec := range recs {
				if seq, ok := ParseSeq(rec.Body); ok && seq == 0 {
					recs[i].Stream = map[string]string{Stdout: Stderr, Stderr: Stdout}[rec.Stream]
				}
			}
			return recs
		}, "wrong stream 1:"},
		{"a record too long", func(recs []Record) []Record {
			return append(recs, Record{Stream: Stdout, Timestamp: 1, Body: bytes.Repeat([]byte("y"), MaxLogSize+1)})
		}, "records over max_log_size 1:"},
		{"a tiny line lost", func(recs []Record) []Record {
			// A tiny line is the only record of its time; the short last piece of a long line is not.
			at := map[int64]int{}
			for _, rec := range recs {
				at[rec.Timestamp]++
			}
			for i, rec := range recs {
				if at[rec.Timestamp] == 1 && len(rec.Body) < 5 {
					return append(recs[:i], recs[i+1:]...)
				}
			}
			t.Fatal("no tiny line in the plan")
			return nil
		}, "tiny lines:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Check(testPlan, m, MaxLogSize, c.damage(fresh()))
			if r.OK() || !strings.Contains(r.String(), c.want) {
				t.Fatalf("report %q, want it to fail with %q", r, c.want)
			}
		})
	}
}

func TestBodyModelsTheDaemon(t *testing.T) {
	cases := []struct {
		mode       Mode
		line       string
		terminated bool
		want       string
	}{
		{Mode{}, "a\xffb\r", true, "a\xffb\r"},
		{Mode{JSONFile: true}, "a\xffb\xc3(", true, "a\uFFFDb\uFFFD("},
		{Mode{JSONFile: true}, "\xed\xa0\x80", true, "\uFFFD\uFFFD\uFFFD"},
		{Mode{TTY: true}, "a\r", true, "a\r"},
		{Mode{TTY: true}, "a\r", false, "a\r"},
		{Mode{JSONFile: true, TTY: true}, "\xff", false, "\uFFFD"},
		// local keeps no newline after a line cut into pieces: the terminal's "\r" stays.
		{Mode{TTY: true}, strings.Repeat("a", DockerPiece-1), true, strings.Repeat("a", DockerPiece-1) + "\r"},
		{Mode{TTY: true}, strings.Repeat("a", DockerPiece-2), true, strings.Repeat("a", DockerPiece-2)},
		{Mode{TTY: true}, strings.Repeat("a", DockerPiece+5), true, strings.Repeat("a", DockerPiece+5) + "\r"},
		{Mode{JSONFile: true, TTY: true}, strings.Repeat("a", DockerPiece-1), true, strings.Repeat("a", DockerPiece-1)},
	}
	for _, c := range cases {
		if got := string(c.mode.Body([]byte(c.line), c.terminated)); got != c.want {
			t.Errorf("%+v Body(%q, %v) = %q, want %q", c.mode, c.line, c.terminated, got, c.want)
		}
	}
	// A character the daemon's 16 KiB piece cuts is two invalid halves to json-file.
	line := append(bytes.Repeat([]byte("a"), DockerPiece-1), "é"...)
	want := append(bytes.Repeat([]byte("a"), DockerPiece-1), "\uFFFD\uFFFD"...)
	if got := (Mode{JSONFile: true}).Body(line, true); !bytes.Equal(got, want) {
		t.Errorf("a character across the piece edge: got ...%q", got[DockerPiece-2:])
	}
}

func TestPlanIsDeterministicAndCoversItsKinds(t *testing.T) {
	p := Plan{Seed: 9, Items: len(fixedKinds) + 20, Epoch: 1_800_000_000, Huge: true}
	kinds := map[string]bool{}
	var longest int
	for seq := range p.Items {
		a, b := p.Item(seq), p.Item(seq)
		if !bytes.Equal(a.Line, b.Line) || a.Write != b.Write || a.Stream != b.Stream {
			t.Fatalf("item %d differs between two calls", seq)
		}
		if got, ok := ParseSeq(a.Line); !ok || got != seq {
			t.Fatalf("item %d starts %q", seq, a.Line[:min(len(a.Line), 60)])
		}
		kinds[a.Kind] = true
		longest = max(longest, len(a.Line))
	}
	for _, k := range fixedKinds {
		if !kinds[k] {
			t.Errorf("kind %s not in the plan", k)
		}
	}
	if longest < 1<<20 || longest > HugeMax {
		t.Errorf("longest line %d B, want 1 to 3 MiB", longest)
	}
	for seq, want := range map[int]int{4: DockerPiece - 1, 5: DockerPiece, 6: DockerPiece + 1, 7: MaxLogSize - 1, 8: MaxLogSize, 9: MaxLogSize + 1} {
		if n := len(p.Item(seq).Line); n != want {
			t.Errorf("item %d (%s) is %d B, want %d", seq, fixedKinds[seq], n, want)
		}
	}
}

func TestPlanWithoutLeavesKindsOut(t *testing.T) {
	p := Plan{Seed: 9, Items: 60, Epoch: 1_800_000_000, Without: []string{"run", "timestamps"}}
	for seq := range p.Items {
		it := p.Item(seq)
		if strings.HasPrefix(it.Kind, "run-") || it.Kind == "timestamps" || it.Kind == "ts-at-piece" {
			t.Fatalf("item %d is of kind %s", seq, it.Kind)
		}
		if bytes.Contains(it.Line, []byte("xxxxxxxxxxxxxxxxxxxx")) || bytes.Contains(it.Line, []byte("2099-")) {
			t.Fatalf("item %d (%s) holds a run or a timestamp", seq, it.Kind)
		}
	}
}
