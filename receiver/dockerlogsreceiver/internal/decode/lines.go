package decode

// lines is what both framings share: the input buffer, the timestamp parser, each output's line assembly and the
// repeat check, so that the splitters and the Reader read and hand out lines from one place.
type lines struct {
	in      inbuf
	stamps  stampParser
	max     int // Options.MaxLineBytes, defaulted
	asm     PerStream[assembly]
	emit    *assembly // assembly that may have Lines to hand out before reading on
	bad     badEntry  // the entry that made Next fail with ErrMalformed, for SkipEntry
	repeats repeatCheck
}

// fragment hands out the next Line of the assembly being emitted, if it has one.
func (l *lines) fragment() (Line, bool) {
	line, ok := l.emit.next(l.max)
	if !ok {
		l.emit = nil
	} else if !l.emit.open {
		l.emit = nil // that was the last of it
	}
	return line, ok
}

// earliestOpen returns the assembly of the earliest line begun but not finished, or nil, so that lines are ended
// and held back in timestamp order.
func (l *lines) earliestOpen() *assembly {
	var first *assembly
	for i := range l.asm {
		if a := &l.asm[i]; a.open && (first == nil || a.ts < first.ts) {
			first = a
		}
	}
	return first
}
