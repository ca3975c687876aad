package turn

import (
	"strings"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
)

// Waiting is an output's unfinished multiline record that a stream left behind: the timestamp of its newest line,
// and when that line was first read. A later stream that reads the record again up to that line waits for the
// rest only until Since plus the flush timeout: streams shorter than the timeout still flush it.
type Waiting struct {
	Last  int64
	Since time.Time
}

// groups joins the lines of one stream into multiline records, per output.
//
// A record is handed on only once it is complete; the lines of an unfinished one are never delivered, so the
// cursor stays at the previous record's last line and the next stream reads the record again from its first
// line. Completing a record is a function of its lines (multiline.Assembler), except for the flush timeout.
type groups struct {
	rule *multiline.Rule
	asm  decode.PerStream[*multiline.Assembler[Line]]
	// arrived is when the newest line of each output's open record was first read.
	arrived decode.PerStream[time.Time]
	// carried are the records earlier streams left unfinished.
	carried *decode.PerStream[Waiting]
}

// newGroups returns the grouping of a stream, or nil when the rule is nil: every line is a record.
func newGroups(rule *multiline.Rule, carried *decode.PerStream[Waiting]) *groups {
	if rule == nil {
		return nil
	}
	g := &groups{rule: rule, carried: carried}
	for i := range g.asm {
		g.asm[i] = multiline.NewAssembler[Line](rule)
	}
	return g
}

// add takes the next line of its output and returns the records it completed.
func (g *groups) add(l Line, now time.Time) []Line {
	done := (*g.asm.At(l.Stream)).Add(l, l.Body)
	if w := *g.carried.At(l.Stream); w.Last != 0 && w.Last == l.Timestamp && w.Since.Before(now) {
		// Read before by a stream that ended while it waited for the rest of its record.
		now = w.Since
	}
	*g.arrived.At(l.Stream) = now
	records := make([]Line, 0, len(done))
	for _, r := range done {
		records = append(records, merge(r))
	}
	return records
}

// deadline returns when the first open record times out, and false when none is open.
func (g *groups) deadline() (time.Time, bool) {
	var first time.Time
	for s, a := range g.asm {
		if len(a.Pending()) > 0 {
			if d := g.arrived[s].Add(g.rule.FlushTimeout); first.IsZero() || d.Before(first) {
				first = d
			}
		}
	}
	return first, !first.IsZero()
}

// expired closes the records whose next line did not come within the flush timeout.
func (g *groups) expired(now time.Time) []Line {
	var records []Line
	for s, a := range g.asm {
		if len(a.Pending()) > 0 && !now.Before(g.arrived[s].Add(g.rule.FlushTimeout)) {
			records = append(records, merge(a.Flush()))
		}
	}
	return records
}

// flushAll closes every open record: the stream read to the end of a stopped container's log.
func (g *groups) flushAll() []Line {
	var records []Line
	for _, a := range g.asm {
		if p := a.Flush(); len(p) > 0 {
			records = append(records, merge(p))
		}
	}
	return records
}

// earliest returns the timestamp of the oldest line of an open record, or 0: the cursor's floor must not pass it.
func (g *groups) earliest() int64 {
	var first int64
	for _, a := range g.asm {
		if p := a.Pending(); len(p) > 0 && (first == 0 || p[0].Timestamp < first) {
			first = p[0].Timestamp
		}
	}
	return first
}

// discard drops the open records, which the next stream reads again, and notes them as waiting.
func (g *groups) discard() []Line {
	var lines []Line
	for s, a := range g.asm {
		p := a.Flush()
		if len(p) == 0 {
			continue
		}
		g.carried[s] = Waiting{Last: p[len(p)-1].Timestamp, Since: g.arrived[s]}
		lines = append(lines, p...)
	}
	return lines
}

// merge joins the lines of one record into one Line: the first line's timestamp, each line's timestamp kept
// for the cursor, the charges, entries and gap of them all.
func merge(lines []Line) Line {
	if len(lines) == 1 {
		return lines[0]
	}
	rec := lines[0]
	var body strings.Builder
	size := 0
	for _, l := range lines {
		size += len(l.Body) + len(multiline.Separator)
	}
	body.Grow(size)
	rec.stamps = make([]int64, len(lines))
	rec.charge, rec.entries = 0, 0
	for i, l := range lines {
		if i > 0 {
			body.WriteString(multiline.Separator)
		}
		body.WriteString(l.Body)
		rec.stamps[i] = l.Timestamp
		rec.charge += l.charge
		rec.entries += l.entries
		if rec.gap == nil {
			rec.gap = l.gap
		}
	}
	rec.Body = body.String()
	rec.unfinished = lines[len(lines)-1].unfinished
	return rec
}
