package streamreader

import (
	"slices"
	"sort"
)

// maxHeld bounds the lines held back behind an unfinished long line.
//
// Past it they are released out of order: a program that wrote more than 16 KiB without a newline and
// then stalled must not stop its other output from being delivered. Only if a turn ends before that long
// line is finished can it then be lost, as the cursor has moved past its start.
const maxHeld = 10000

// orderer puts lines back in timestamp order before they are delivered.
//
// The reader returns lines as they complete, so a line longer than the daemon's 16 KiB pieces completes
// after the other output's lines written while its pieces arrived, though it began before them. Delivering
// those first would move the cursor past the long line's start, and a turn ending before the long line is
// finished would then lose it. Lines that began after the start of an unfinished line are held back.
type orderer struct {
	held []Line
	one  [1]Line // the common case, a line delivered at once, without an allocation
}

// add takes a completed line and returns the lines that may now be delivered, in timestamp order;
// pendingSince is the start of the earliest unfinished line, if pending.
func (o *orderer) add(l Line, pendingSince int64, pending bool) []Line {
	if len(o.held) == 0 && (!pending || l.Timestamp <= pendingSince) {
		o.one[0] = l
		return o.one[:]
	}
	// After the held lines of the same time: each output's lines are already in order, and stay so.
	at := sort.Search(len(o.held), func(i int) bool { return o.held[i].Timestamp > l.Timestamp })
	o.held = slices.Insert(o.held, at, l)
	n := len(o.held)
	if pending && len(o.held) <= maxHeld {
		n = sort.Search(len(o.held), func(i int) bool { return o.held[i].Timestamp > pendingSince })
	}
	if n == 0 {
		return nil
	}
	ready := o.held[:n:n]
	o.held = append([]Line(nil), o.held[n:]...)
	return ready
}

// flush returns every held line, when the stream ended cleanly and no unfinished line will ever complete.
func (o *orderer) flush() []Line {
	ready := o.held
	o.held = nil
	return ready
}
