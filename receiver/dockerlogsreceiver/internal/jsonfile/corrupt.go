package jsonfile

import (
	"bytes"
	"sync"
)

// Corrupt is a stretch of a log file that holds no json-file entry (a crash's NULs, a torn write), passed over: where
// it is, never its bytes, which are the container's output.
type Corrupt struct {
	// File is the name the file had when it was opened.
	File string
	// Offset and Length place the stretch in the file; the newline that ends it is not counted.
	Offset, Length int64
}

// maxCorruptKept bounds the stretches a Corruptions remembers; past it, one may be reported again.
const maxCorruptKept = 256

// Corruptions reports the corrupt stretches of one container's log, each once, although every stream opened on
// the log reads them again: they are known by their file and offset, which a rename does not change.
type Corruptions struct {
	report func(Corrupt)

	mu   sync.Mutex
	seen map[corruptKey]bool
}

// corruptKey identifies a stretch across renames; the length tells a new stretch at the same offset of a file
// truncated in place from the old one.
type corruptKey struct {
	dev, ino       uint64
	offset, length int64
}

// NewCorruptions returns a Corruptions that calls report once for each corrupt stretch met.
func NewCorruptions(report func(Corrupt)) *Corruptions {
	return &Corruptions{report: report, seen: map[corruptKey]bool{}}
}

// pass reports a stretch of f unless it was reported before.
func (c *Corruptions) pass(f logFile, offset, length int64) {
	if c == nil || length <= 0 {
		return
	}
	k := corruptKey{dev: f.dev, ino: f.ino, offset: offset, length: length}
	c.mu.Lock()
	if c.seen[k] {
		c.mu.Unlock()
		return
	}
	if len(c.seen) >= maxCorruptKept {
		clear(c.seen)
	}
	c.seen[k] = true
	c.mu.Unlock()
	c.report(Corrupt{File: f.f.Name(), Offset: offset, Length: length})
}

// entryHead starts every entry the driver writes; it cannot occur inside one (its quotes would be escaped).
var entryHead = []byte(`{"log":"`)

// resync looks, in a line that is not an entry, for an entry glued to the end of a corrupt stretch (the driver
// appends after whatever a crash left, without a newline between): it returns the entry and how many bytes
// before it are corrupt, or the whole line's length when no entry ends it.
func (p *parser) resync(line, buf []byte) (Entry, []byte, int, bool) {
	for i := 1; i < len(line); i++ {
		j := bytes.Index(line[i:], entryHead)
		if j < 0 {
			break
		}
		i += j
		if e, b, err := p.parse(line[i:], buf); err == nil {
			return e, b, i, true
		}
	}
	return Entry{}, buf, len(line), false
}
