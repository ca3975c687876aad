package main

import (
	"fmt"
	"io"
	"strings"
)

// run checks every argument before it writes any, so a bad argument writes nothing.
func run(args []string, stdout, stderr io.Writer) error {
	writers := make([]io.Writer, len(args))
	lines := make([]string, len(args))
	for i, a := range args {
		if line, ok := strings.CutPrefix(a, "stdout:"); ok {
			writers[i], lines[i] = stdout, line
		} else if line, ok := strings.CutPrefix(a, "stderr:"); ok {
			writers[i], lines[i] = stderr, line
		} else {
			return fmt.Errorf("argument %d: want stdout:TEXT or stderr:TEXT, got %q", i, a)
		}
		if strings.Contains(lines[i], "\n") {
			return fmt.Errorf("argument %d: one line each, without a newline", i)
		}
	}
	for i, line := range lines {
		// One Write per line: an unbuffered *os.File turns it into one write(2).
		if _, err := io.WriteString(writers[i], line+"\n"); err != nil {
			return fmt.Errorf("write line %d: %w", i, err)
		}
	}
	return nil
}
