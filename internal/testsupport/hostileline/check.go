package hostileline

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Record is one log record a store holds of a container.
type Record struct {
	Stream    string
	Timestamp int64 // the daemon's capture time, which every record of one line carries
	Body      []byte
}

// Damage is a numbered line that did not arrive as written.
type Damage struct {
	Seq    int
	Kind   string
	Detail string
}

// Report says, line by line, what a store holds of one container's plan.
type Report struct {
	Lines, Whole int
	Missing      []int
	Duplicated   map[int]int // seq: copies stored
	Cut          []Damage    // pieces missing: fewer bytes joined than written
	Altered      []Damage    // bytes that are not the line's, or a header that does not match the plan
	Repeated     []Damage    // pieces left over once the line was joined whole
	WrongStream  []Damage
	Oversize     []Damage // records longer than max_log_size
	Orphans      []Record // records no numbered line claims and no tiny line explains
	TinyWant     map[string]int
	TinyGot      map[string]int
}

// OK reports whether every line arrived exactly once and whole.
func (r Report) OK() bool {
	return r.Whole == r.Lines && len(r.Missing) == 0 && len(r.Duplicated) == 0 && len(r.Cut) == 0 && len(r.Altered) == 0 &&
		len(r.Repeated) == 0 && len(r.WrongStream) == 0 && len(r.Oversize) == 0 && len(r.Orphans) == 0 && maps2Equal(r.TinyWant, r.TinyGot)
}

// String lists the first few of each kind of failure.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d numbered lines whole and once", r.Whole, r.Lines)
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "; missing %d: seq %v", len(r.Missing), firstInts(r.Missing, 12))
	}
	if len(r.Duplicated) > 0 {
		var d []string
		for _, seq := range sortedKeys(r.Duplicated) {
			d = append(d, fmt.Sprintf("%d x%d", seq, r.Duplicated[seq]))
		}
		fmt.Fprintf(&b, "; duplicated %d: seq %s", len(d), strings.Join(firstStrings(d, 12), ", "))
	}
	for _, l := range []struct {
		what string
		ds   []Damage
	}{{"cut", r.Cut}, {"altered", r.Altered}, {"repeated pieces", r.Repeated}, {"wrong stream", r.WrongStream}, {"records over max_log_size", r.Oversize}} {
		if len(l.ds) == 0 {
			continue
		}
		fmt.Fprintf(&b, "; %s %d:", l.what, len(l.ds))
		for _, d := range l.ds[:min(len(l.ds), 6)] {
			fmt.Fprintf(&b, "\n    seq %d (%s): %s", d.Seq, d.Kind, d.Detail)
		}
	}
	if len(r.Orphans) > 0 {
		fmt.Fprintf(&b, "; %d records no line claims:", len(r.Orphans))
		for _, o := range r.Orphans[:min(len(r.Orphans), 6)] {
			fmt.Fprintf(&b, "\n    %s ts=%d %d B %s", o.Stream, o.Timestamp, len(o.Body), quote(o.Body, 0, 60))
		}
	}
	if !maps2Equal(r.TinyWant, r.TinyGot) {
		var d []string
		for _, k := range sortedKeys(union(r.TinyWant, r.TinyGot)) {
			if r.TinyWant[k] != r.TinyGot[k] {
				d = append(d, fmt.Sprintf("%s: %d stored, %d written", k, r.TinyGot[k], r.TinyWant[k]))
			}
		}
		fmt.Fprintf(&b, "; tiny lines: %s", strings.Join(d, ", "))
	}
	return b.String()
}

var headerRE = regexp.MustCompile(`^hostile seq=(\d+) len=\d+ crc=[0-9a-f]{8} \|`)

// ParseSeq returns the sequence number of the header a body starts with.
func ParseSeq(body []byte) (int, bool) {
	m := headerRE.FindSubmatch(body[:min(len(body), 64)])
	if m == nil {
		return 0, false
	}
	seq, err := strconv.Atoi(string(m[1]))
	return seq, err == nil
}

// Check compares the records a store holds of one container with what its plan wrote under mode. The records of
// one line share its timestamp and output; their order is not trusted (an exporter sends requests in parallel),
// so the line is joined from them by content, the first starting with the header, each next one the record that
// continues the expected bytes. Identical pieces (a run of one byte) may stand in for each other.
func Check(p Plan, m Mode, maxLogSize int, recs []Record) Report {
	r := Report{Lines: p.Items, Duplicated: map[int]int{}, TinyWant: map[string]int{}, TinyGot: map[string]int{}}
	type key struct {
		stream string
		ts     int64
	}
	groups := map[key][]Record{}
	var order []key
	for _, rec := range recs {
		if bytes.HasPrefix(rec.Body, []byte(PadPrefix)) {
			continue
		}
		if len(rec.Body) > maxLogSize {
			seq, _ := ParseSeq(rec.Body)
			r.Oversize = append(r.Oversize, Damage{Seq: seq, Kind: "?", Detail: fmt.Sprintf("%s record of %d B at ts=%d", rec.Stream, len(rec.Body), rec.Timestamp)})
		}
		k := key{rec.Stream, rec.Timestamp}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], rec)
	}
	items := make([]Item, p.Items)
	for seq := range items {
		items[seq] = p.Item(seq)
	}
	tinyTexts := map[string]bool{}
	for _, it := range items {
		for _, t := range it.Tiny {
			body := m.Body(t.Text, true)
			r.TinyWant[tinyKey(m.Stream(t.Stream), body)]++
			tinyTexts[tinyKey(m.Stream(t.Stream), body)] = true
		}
	}
	copies := map[int]int{}
	for _, k := range order {
		g := groups[k]
		var heads, rest []Record
		for _, rec := range g {
			if _, ok := ParseSeq(rec.Body); ok {
				heads = append(heads, rec)
			} else {
				rest = append(rest, rec)
			}
		}
		if len(heads) == 0 {
			if len(rest) == 1 && tinyTexts[tinyKey(k.stream, rest[0].Body)] {
				r.TinyGot[tinyKey(k.stream, rest[0].Body)]++
				continue
			}
			r.Orphans = append(r.Orphans, rest...)
			continue
		}
		sort.SliceStable(heads, func(i, j int) bool { return len(heads[i].Body) > len(heads[j].Body) })
		pieces := make([][]byte, len(rest))
		for i, rec := range rest {
			pieces[i] = rec.Body
		}
		for _, h := range heads {
			seq, _ := ParseSeq(h.Body)
			if seq >= p.Items {
				r.Altered = append(r.Altered, Damage{Seq: seq, Kind: "?", Detail: "sequence number beyond the plan"})
				continue
			}
			copies[seq]++
			if copies[seq] > 1 {
				// A second copy: join it too, so that its pieces are not taken for repeats of the first.
				pieces = joinCopy(items[seq], m, h, pieces, k.stream, nil)
				continue
			}
			pieces = joinCopy(items[seq], m, h, pieces, k.stream, &r)
		}
		seq, _ := ParseSeq(heads[0].Body)
		var in *finder
		if seq < p.Items {
			in = within(m.Body(items[seq].Line, items[seq].Terminated))
		}
		for _, pc := range pieces {
			if in != nil && in.test(pc) {
				r.Repeated = append(r.Repeated, Damage{Seq: seq, Kind: items[seq].Kind, Detail: fmt.Sprintf("a piece of %d B stored again: %s", len(pc), quote(pc, 0, 40))})
			} else {
				r.Orphans = append(r.Orphans, Record{Stream: k.stream, Timestamp: k.ts, Body: pc})
			}
		}
	}
	for seq := range p.Items {
		switch n := copies[seq]; {
		case n == 0:
			r.Missing = append(r.Missing, seq)
		case n > 1:
			r.Duplicated[seq] = n
		}
	}
	return r
}

// joinCopy joins the line of item it, whose first record is h, from pieces, records in r (when not nil) how it
// arrived, and returns the pieces it did not use.
func joinCopy(it Item, m Mode, h Record, pieces [][]byte, stream string, r *Report) [][]byte {
	seq := it.Seq
	want := m.Body(it.Line, it.Terminated)
	// note records a damage in the list of r that pick names, when r is set.
	note := func(pick func(*Report) *[]Damage, format string, args ...any) {
		if r != nil {
			list := pick(r)
			*list = append(*list, Damage{Seq: seq, Kind: it.Kind + "/" + it.Write.String(), Detail: fmt.Sprintf(format, args...)})
		}
	}
	wrongStream := func(r *Report) *[]Damage { return &r.WrongStream }
	altered := func(r *Report) *[]Damage { return &r.Altered }
	cut := func(r *Report) *[]Damage { return &r.Cut }
	if s := m.Stream(it.Stream); s != stream {
		note(wrongStream, "on %s, written to %s", stream, s)
	}
	if !bytes.HasPrefix(want, h.Body) {
		at := firstDiff(want, h.Body)
		merged := ""
		if i := bytes.Index(h.Body[at:], []byte("hostile seq=")); i >= 0 {
			switch other, ok := ParseSeq(h.Body[at+i:]); {
			case ok && other == seq:
				merged = fmt.Sprintf(" (its own start again at byte %d)", at+i)
			case ok:
				merged = fmt.Sprintf(" (merged with seq %d)", other)
			}
		}
		note(altered, "first record of %d B differs at byte %d%s: stored %s, written %s", len(h.Body), at, merged, quote(h.Body, at, 40), quote(want, at, 40))
		return pieces
	}
	used, reached, ok := join(want, len(h.Body), pieces)
	var left [][]byte
	for i, pc := range pieces {
		if !used[i] {
			left = append(left, pc)
		}
	}
	switch {
	case ok:
		if r != nil {
			r.Whole++
		}
	default:
		// The records of its time that fit nowhere in it are not its; those that fit elsewhere are its, unplaced.
		// Searching a line of megabytes for each is slow, so only the first few distinct ones are looked for.
		var foreign [][]byte
		rest := 0
		in := within(want)
		for _, pc := range left {
			switch {
			case len(in.seen) >= 8 && !in.has(pc):
				rest += len(pc)
			case in.test(pc):
				rest += len(pc)
			default:
				foreign = append(foreign, pc)
			}
		}
		if len(foreign) > 0 {
			note(altered, "%d of %d B joined, then no record continues it; %d records of its time hold bytes it does not (stored %s, written %s)",
				reached, len(want), len(foreign), quote(foreign[0], 0, 40), quote(want, reached, 40))
		} else {
			note(cut, "%d of %d B joined, then no record continues it (next written bytes %s); %d more B of its time stored, placed nowhere",
				reached, len(want), quote(want, reached, 40), rest)
		}
		return foreign
	}
	return left
}

// maxJoinSteps bounds the search for a line's pieces: a whole line is found at the first try, longer pieces first;
// the search only wanders when pieces are missing, and then how far it reached is all that is reported.
const maxJoinSteps = 5000

// join finds pieces that continue want from pos to its end, each used once; it returns which it used, how far
// the longest attempt reached, and whether it reached the end. Equal pieces stand in for each other, so they are
// tried as one class.
func join(want []byte, pos int, pieces [][]byte) (used []bool, reached int, ok bool) {
	type class struct {
		body    []byte
		members []int // indices into pieces, unused ones first
		next    int   // members[:next] are used
	}
	var classes []*class
	for i, pc := range pieces {
		if len(pc) == 0 {
			continue
		}
		found := false
		for _, c := range classes {
			if bytes.Equal(c.body, pc) {
				c.members = append(c.members, i)
				found = true
				break
			}
		}
		if !found {
			classes = append(classes, &class{body: pc, members: []int{i}})
		}
	}
	// Longer pieces first: a short last piece also matches inside a run.
	sort.SliceStable(classes, func(a, b int) bool { return len(classes[a].body) > len(classes[b].body) })
	used = make([]bool, len(pieces))
	reached = pos
	steps := 0
	var dfs func(pos int) bool
	dfs = func(pos int) bool {
		reached = max(reached, pos)
		if pos == len(want) {
			return true
		}
		if steps++; steps > maxJoinSteps {
			return false
		}
		for _, c := range classes {
			if c.next == len(c.members) || len(c.body) > len(want)-pos || !bytes.Equal(want[pos:pos+len(c.body)], c.body) {
				continue
			}
			used[c.members[c.next]] = true
			c.next++
			if dfs(pos + len(c.body)) {
				return true
			}
			c.next--
			used[c.members[c.next]] = false
		}
		return false
	}
	ok = dfs(pos)
	return used, reached, ok
}

// finder tells whether pieces occur in a body, searching it once per distinct piece: the pieces of a run of
// one byte are many and equal.
type finder struct {
	body []byte
	seen map[string]bool
}

func within(body []byte) *finder {
	return &finder{body: body, seen: map[string]bool{}}
}

// has reports whether pc was looked for already.
func (f *finder) has(pc []byte) bool {
	_, ok := f.seen[string(pc)]
	return ok
}

// test reports whether pc occurs in the body.
func (f *finder) test(pc []byte) bool {
	in, ok := f.seen[string(pc)]
	if !ok {
		in = bytes.Contains(f.body, pc)
		f.seen[string(pc)] = in
	}
	return in
}

func tinyKey(stream string, body []byte) string {
	return stream + " " + strconv.Quote(string(body))
}

func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// quote shows up to n bytes of b from at, quoted.
func quote(b []byte, at, n int) string {
	if at >= len(b) {
		return "(end)"
	}
	end := min(at+n, len(b))
	s := strconv.Quote(string(b[at:end]))
	if end < len(b) {
		s += "..."
	}
	return s
}

func firstInts(s []int, n int) []int {
	return s[:min(len(s), n)]
}

func firstStrings(s []string, n int) []string {
	return s[:min(len(s), n)]
}

func sortedKeys[K int | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func union(a, b map[string]int) map[string]int {
	u := map[string]int{}
	for k := range a {
		u[k] = 1
	}
	for k := range b {
		u[k] = 1
	}
	return u
}

func maps2Equal(a, b map[string]int) bool {
	return maps.Equal(a, b)
}
