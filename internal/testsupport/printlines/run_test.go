package main

import (
	"bytes"
	"testing"
)

func TestRunWritesEachLineToItsOutput(t *testing.T) {
	var out, errs bytes.Buffer
	if err := run([]string{`stdout:{"level":"info"}`, "stderr:ERROR x", "stdout:", "stdout:a:b"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "{\"level\":\"info\"}\n\na:b\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, want := errs.String(), "ERROR x\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

func TestRunRefusesBeforeWriting(t *testing.T) {
	for _, args := range [][]string{{"stdout:a", "neither"}, {"stdout:a", "stderr:two\nlines"}} {
		var out, errs bytes.Buffer
		if err := run(args, &out, &errs); err == nil {
			t.Errorf("%q: no error", args)
		}
		if out.Len()+errs.Len() != 0 {
			t.Errorf("%q: wrote %q %q before refusing", args, out.String(), errs.String())
		}
	}
}
