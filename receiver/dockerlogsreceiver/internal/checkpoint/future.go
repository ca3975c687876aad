package checkpoint

// Repaired returns the cursor with its times after limit, the newest the daemon can have stamped, taken back, and
// whether it had any.
//
// Every time a cursor keeps is a daemon timestamp of a line read from the log, so none can be in the future. Older
// versions took a timestamp that a TTY container printed for one of the daemon's, and could save a position, or a
// step of the clock (Stepped), years ahead: kept, such a position drops every new line as delivered, and such a step
// stops rotation losses from being seen, until the clock reaches it. A position after limit goes back to the floor,
// a delivered line known to be in the past, and the lines after that are delivered again; with no such floor it
// goes to limit, and the lines written since the false position are skipped, as the older version skipped them.
// The repaired cursor counts as a reset (Replacing), so that Store.Save keeps it over the one it repairs.
func (c Cursor) Repaired(limit int64) (Cursor, bool) {
	r := c
	for _, t := range []*int64{&r.Floor, &r.Stepped, &r.Held, &r.Unterminated} {
		if *t > limit {
			*t = 0
		}
	}
	for i, t := range r.candidates {
		if t > limit {
			r.candidates[i] = 0
		}
	}
	for _, p := range []*Position{&r.Stdout, &r.Stderr} {
		if p.Time > limit {
			back := r.Floor
			if back == 0 {
				back = limit
			}
			*p = Position{Time: back, Count: -1}
		}
	}
	if r == c {
		return c, false
	}
	// Moved back on purpose: the store takes it over the saved cursor it repairs.
	return r.Replacing(c), true
}
