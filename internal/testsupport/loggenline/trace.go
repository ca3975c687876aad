package loggenline

import (
	"fmt"
	"strconv"
	"strings"
)

// Trace line counts: trace n has TraceLines(n) lines, between 20 and 40.
const (
	MinTraceLines = 20
	MaxTraceLines = 40
)

// TraceLines returns how many lines trace n has.
func TraceLines(n int) int {
	return MinTraceLines + (n*7)%(MaxTraceLines-MinTraceLines+1)
}

// AppendTraceLine appends line k (0 = the head) of trace n, without a newline. The head starts with the prefix,
// as the first line of a Java stack trace starts in its first column; the frames start with a tab.
func AppendTraceLine(dst []byte, prefix string, n, k int) []byte {
	if k == 0 {
		dst = append(dst, prefix...)
		dst = append(dst, " trace="...)
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, " lines="...)
		dst = strconv.AppendInt(dst, int64(TraceLines(n)), 10)
		return append(dst, " Exception in thread \"main\" java.lang.IllegalStateException: boom"...)
	}
	dst = append(dst, "\tat com.example.Service.frame"...)
	dst = strconv.AppendInt(dst, int64(k), 10)
	dst = append(dst, "(Service.java:"...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, ')')
}

// ParseTrace checks that body is trace n whole, its lines joined by "\n", and returns n.
func ParseTrace(prefix, body string) (int, error) {
	head, _, _ := strings.Cut(body, "\n")
	var n, lines int
	if _, err := fmt.Sscanf(strings.TrimPrefix(head, prefix), " trace=%d lines=%d", &n, &lines); err != nil || !strings.HasPrefix(head, prefix+" ") {
		return 0, fmt.Errorf("record %q does not start with a trace head", abbrev(head))
	}
	var want []byte
	for k := range TraceLines(n) {
		if k > 0 {
			want = append(want, '\n')
		}
		want = AppendTraceLine(want, prefix, n, k)
	}
	if body != string(want) {
		return n, fmt.Errorf("trace %d: record of %d lines, want %d whole", n, strings.Count(body, "\n")+1, TraceLines(n))
	}
	return n, nil
}
