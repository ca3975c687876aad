// Package multiline joins the lines of one output into records: a stack trace or a pretty-printed document
// that a program writes as many lines is one event.
//
// The package decides only where records begin and end; it neither reads nor delivers. The grouping is a
// function of the lines alone (and of forced flushes), so reading the same lines again from a record's first
// line gives the same records: a reader that drops an unfinished group and reads it again later never splits
// or repeats it.
package multiline

import (
	"regexp"
	"time"
)

// Rule says where records begin or end. Exactly one of Start and End is set.
type Rule struct {
	// Start matches the first line of a record: a line that does not match continues the record before it.
	Start *regexp.Regexp
	// End matches the last line of a record: the lines up to and including it are one record.
	End *regexp.Regexp
	// MaxLines and MaxBytes bound a record: a record that reaches either is closed, even mid-event. MaxBytes counts
	// the record's body, lines joined by a newline; one line longer than it is a record of its own.
	MaxLines, MaxBytes int
	// FlushTimeout is how long an unfinished record waits for its next line before it is closed as it is.
	FlushTimeout time.Duration
}

// Separator joins the lines of a record.
const Separator = "\n"

// Assembler groups the lines of one output. The zero value is not usable: use NewAssembler.
//
// Items are opaque to it; body is the line's text, which the rule matches and MaxBytes counts.
type Assembler[T any] struct {
	rule  *Rule
	items []T
	bytes int
}

// NewAssembler returns an assembler that groups lines by rule.
func NewAssembler[T any](rule *Rule) *Assembler[T] {
	return &Assembler[T]{rule: rule}
}

// Add takes the next line and returns the records it completes, oldest first: none, one or two (the record
// the line ends before it began, and the line's own when it is complete at once).
func (a *Assembler[T]) Add(item T, body string) [][]T {
	var done [][]T
	if len(a.items) > 0 && a.closesBefore(body) {
		done = append(done, a.Flush())
	}
	if len(a.items) > 0 {
		a.bytes += len(Separator)
	}
	a.items = append(a.items, item)
	a.bytes += len(body)
	if a.closesAfter(body) {
		done = append(done, a.Flush())
	}
	return done
}

// closesBefore says whether the open record ends before a line: the line begins a record, or would take the open one past a bound.
func (a *Assembler[T]) closesBefore(body string) bool {
	if a.rule.Start != nil && a.rule.Start.MatchString(body) {
		return true
	}
	return a.rule.MaxBytes > 0 && a.bytes+len(Separator)+len(body) > a.rule.MaxBytes
}

// closesAfter says whether the open record ends with the line just added: it ends a record, or a bound is reached.
func (a *Assembler[T]) closesAfter(body string) bool {
	if a.rule.End != nil && a.rule.End.MatchString(body) {
		return true
	}
	return (a.rule.MaxLines > 0 && len(a.items) >= a.rule.MaxLines) || (a.rule.MaxBytes > 0 && a.bytes >= a.rule.MaxBytes)
}

// Flush closes the open record as it is and returns it (nil when none is open).
func (a *Assembler[T]) Flush() []T {
	items := a.items
	a.items, a.bytes = nil, 0
	return items
}

// Pending returns the lines of the open record, oldest first; they belong to the assembler.
func (a *Assembler[T]) Pending() []T {
	return a.items
}
