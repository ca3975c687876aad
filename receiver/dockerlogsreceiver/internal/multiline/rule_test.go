package multiline

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// group feeds lines through an assembler and returns the records as joined bodies, then the lines still open.
func group(rule *Rule, lines ...string) (records []string, open []string) {
	a := NewAssembler[string](rule)
	for _, l := range lines {
		for _, r := range a.Add(l, l) {
			records = append(records, strings.Join(r, Separator))
		}
	}
	return records, a.Pending()
}

var (
	javaStart = regexp.MustCompile(`^\S`)
	jsonEnd   = regexp.MustCompile(`^}$`)
)

func TestAssembler(t *testing.T) {
	tests := []struct {
		name    string
		rule    Rule
		lines   []string
		records []string
		open    []string
	}{
		{
			name:    "start pattern: a record ends where the next begins",
			rule:    Rule{Start: javaStart},
			lines:   []string{"Exception: boom", "\tat a.b(C.java:1)", "\tat d.e(F.java:2)", "next event", "\tat x"},
			records: []string{"Exception: boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)"},
			open:    []string{"next event", "\tat x"},
		},
		{
			name:    "start pattern: continuation lines with no record before them make one of their own",
			rule:    Rule{Start: javaStart},
			lines:   []string{"\tat orphan", "\tat orphan 2", "head"},
			records: []string{"\tat orphan\n\tat orphan 2"},
			open:    []string{"head"},
		},
		{
			name:    "start pattern: single-line events stay single",
			rule:    Rule{Start: javaStart},
			lines:   []string{"a", "b", "c"},
			records: []string{"a", "b"},
			open:    []string{"c"},
		},
		{
			name:    "end pattern: a record is complete with its last line",
			rule:    Rule{End: jsonEnd},
			lines:   []string{"{", `  "a": 1`, "}", "{", "}", "{"},
			records: []string{"{\n  \"a\": 1\n}", "{\n}"},
			open:    []string{"{"},
		},
		{
			name:    "max_lines closes a record when it is reached",
			rule:    Rule{Start: javaStart, MaxLines: 2},
			lines:   []string{"head", " 1", " 2", " 3", "next"},
			records: []string{"head\n 1", " 2\n 3"},
			open:    []string{"next"},
		},
		{
			name:    "max_bytes closes a record before a line that would take it past the bound",
			rule:    Rule{End: jsonEnd, MaxBytes: 9},
			lines:   []string{"1234", "5678", "9", "}"},
			records: []string{"1234\n5678", "9\n}"},
		},
		{
			name:    "max_bytes: a record that reaches the bound exactly is closed at once",
			rule:    Rule{End: jsonEnd, MaxBytes: 4},
			lines:   []string{"12", "3", "x"},
			records: []string{"12\n3"},
			open:    []string{"x"},
		},
		{
			name:    "max_bytes: a line longer than the bound is a record alone",
			rule:    Rule{Start: javaStart, MaxBytes: 4},
			lines:   []string{"a", "  toolong", "b"},
			records: []string{"a", "  toolong"},
			open:    []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, open := group(&tt.rule, tt.lines...)
			assert.Equal(t, tt.records, records)
			assert.Equal(t, tt.open, open)
		})
	}
}

func TestFlushClosesTheOpenRecord(t *testing.T) {
	a := NewAssembler[int](&Rule{Start: javaStart})
	assert.Nil(t, a.Flush())
	assert.Empty(t, a.Add(1, "head"))
	assert.Empty(t, a.Add(2, " more"))
	assert.Equal(t, []int{1, 2}, a.Flush())
	assert.Empty(t, a.Pending())
	// After a forced flush, the rest of the event is a record of its own.
	assert.Empty(t, a.Add(3, " rest"))
	assert.Equal(t, [][]int{{3}}, a.Add(4, "next"))
}
