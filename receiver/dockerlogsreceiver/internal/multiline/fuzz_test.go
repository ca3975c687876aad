package multiline

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzAssembler checks the invariants of every grouping: the records, in order, are exactly the lines given;
// each stays within its bounds; a record begins (start rule) or ends (end rule) only where the rule or a bound
// says; and reading again from the first line of any record gives the same records from there on, which is what
// lets a reader drop an unfinished record and read it again.
func FuzzAssembler(f *testing.F) {
	f.Add("Exception: x\n\tat a\n\tat b\nnext\n\tat c\n", false, 0, 0)
	f.Add("{\n \"a\": 1\n}\n{\n}\n", true, 3, 10)
	f.Add("a\nb\nc\n", false, 1, 1)
	f.Add("  long continuation line\n\n\nx\n", true, 0, 4)
	f.Fuzz(func(t *testing.T, text string, endRule bool, maxLines, maxBytes int) {
		rule := &Rule{Start: regexp.MustCompile(`^\S`), MaxLines: maxLines % 50, MaxBytes: maxBytes % 200}
		if endRule {
			rule = &Rule{End: regexp.MustCompile(`^}`), MaxLines: rule.MaxLines, MaxBytes: rule.MaxBytes}
		}
		lines := strings.Split(text, "\n")
		a := NewAssembler[int](rule)
		var records [][]int
		for i, l := range lines {
			records = append(records, a.Add(i, l)...)
		}
		next := 0
		for _, r := range records {
			if len(r) == 0 {
				t.Fatal("empty record")
			}
			for _, i := range r {
				if i != next {
					t.Fatalf("record %v: want line %d next", r, next)
				}
				next++
			}
			body := joined(lines, r)
			if rule.MaxLines > 0 && len(r) > rule.MaxLines {
				t.Fatalf("record of %d lines over max_lines %d", len(r), rule.MaxLines)
			}
			if rule.MaxBytes > 0 && len(r) > 1 && len(body) > rule.MaxBytes {
				t.Fatalf("record of %d bytes over max_bytes %d", len(body), rule.MaxBytes)
			}
			for k, i := range r {
				if rule.Start != nil && k > 0 && rule.Start.MatchString(lines[i]) {
					t.Fatalf("line %d begins a record but is inside one", i)
				}
				if rule.End != nil && k < len(r)-1 && rule.End.MatchString(lines[i]) {
					t.Fatalf("line %d ends a record but is inside one", i)
				}
			}
		}
		for _, i := range a.Pending() {
			if i != next {
				t.Fatalf("open line %d: want %d", i, next)
			}
			next++
		}
		if next != len(lines) {
			t.Fatalf("%d of %d lines grouped", next, len(lines))
		}
		// Reading again from any record's first line reproduces the records from there.
		for k, r := range records {
			again := NewAssembler[int](rule)
			var redo [][]int
			for i := r[0]; i < len(lines); i++ {
				redo = append(redo, again.Add(i, lines[i])...)
			}
			if len(redo) != len(records)-k {
				t.Fatalf("reading from line %d: %d records, want %d", r[0], len(redo), len(records)-k)
			}
			for j := range redo {
				if joined(lines, redo[j]) != joined(lines, records[k+j]) || redo[j][0] != records[k+j][0] {
					t.Fatalf("reading from line %d: record %d differs", r[0], j)
				}
			}
		}
	})
}

func joined(lines []string, r []int) string {
	parts := make([]string, len(r))
	for k, i := range r {
		parts[k] = lines[i]
	}
	return strings.Join(parts, Separator)
}
