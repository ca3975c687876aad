package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// lineWriter records every Write, so tests can check that each line arrives in exactly one call.
type lineWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *lineWriter) lines(t *testing.T) []string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, s := range w.writes {
		if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
			t.Fatalf("write %d is not exactly one line: %q", i, s)
		}
	}
	return append([]string(nil), w.writes...)
}

func runOK(t *testing.T, args ...string) (stdout, stderr []string) {
	t.Helper()
	var out, errw lineWriter
	if err := run(t.Context(), args, &out, &errw, nil); err != nil {
		t.Fatalf("run(%q): %v", args, err)
	}
	return out.lines(t), errw.lines(t)
}

func TestCountStdout(t *testing.T) {
	stdout, stderr := runOK(t, "-count", "3")
	want := []string{"loggen seq=0 stream=stdout\n", "loggen seq=1 stream=stdout\n", "loggen seq=2 stream=stdout\n"}
	if fmt.Sprint(stdout) != fmt.Sprint(want) || len(stderr) != 0 {
		t.Fatalf("stdout %q, stderr %q; want stdout %q", stdout, stderr, want)
	}
}

func TestStderrOnly(t *testing.T) {
	stdout, stderr := runOK(t, "-count", "2", "-streams", "stderr", "-prefix", "p")
	want := []string{"p seq=0 stream=stderr\n", "p seq=1 stream=stderr\n"}
	if fmt.Sprint(stderr) != fmt.Sprint(want) || len(stdout) != 0 {
		t.Fatalf("stdout %q, stderr %q; want stderr %q", stdout, stderr, want)
	}
}

func TestBothStreamsAlternate(t *testing.T) {
	stdout, stderr := runOK(t, "-count", "201", "-streams", "both")
	if len(stdout) != 101 || len(stderr) != 100 {
		t.Fatalf("got %d stdout and %d stderr lines, want 101 and 100", len(stdout), len(stderr))
	}
	for i, l := range stdout {
		if want := fmt.Sprintf("loggen seq=%d stream=stdout\n", 2*i); l != want {
			t.Fatalf("stdout line %d = %q, want %q", i, l, want)
		}
	}
	for i, l := range stderr {
		if want := fmt.Sprintf("loggen seq=%d stream=stderr\n", 2*i+1); l != want {
			t.Fatalf("stderr line %d = %q, want %q", i, l, want)
		}
	}
}

func TestSizePadsEveryLine(t *testing.T) {
	for _, size := range []int{40, 16*1024 + 1, 200 * 1024} {
		stdout, stderr := runOK(t, "-count", "4", "-streams", "both", "-size", fmt.Sprint(size))
		for i, l := range append(stdout, stderr...) {
			if len(l) != size+1 {
				t.Fatalf("size %d: line %d has %d bytes with its newline", size, i, len(l))
			}
			if _, _, _, err := loggenline.ParseLine(l); err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
		}
	}
	stdout, _ := runOK(t, "-count", "1", "-size", "40")
	if want := "loggen seq=0 stream=stdout abcdefghijklm\n"; stdout[0] != want {
		t.Fatalf("line %q, want %q", stdout[0], want)
	}
}

func TestRateIsKeptOverTheRun(t *testing.T) {
	start := time.Now()
	stdout, _ := runOK(t, "-count", "201", "-rate", "500")
	elapsed := time.Since(start)
	// Line 200 is due at 400 ms; a late timer is caught up, so the run cannot be much longer either.
	if len(stdout) != 201 || elapsed < 390*time.Millisecond || elapsed > 2*time.Second {
		t.Fatalf("%d lines in %v, want 201 lines in about 400ms", len(stdout), elapsed)
	}
}

func TestDelay(t *testing.T) {
	start := time.Now()
	runOK(t, "-count", "1", "-delay", "100ms")
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond {
		t.Fatalf("first line after %v, want at least 100ms", elapsed)
	}
}

func TestForeverStopsOnCancel(t *testing.T) {
	for _, args := range [][]string{
		{"-count", "0"},
		{"-count", "0", "-rate", "10"},
		{"-count", "5", "-delay", "1h"},
		{"-count", "3", "-linger", "1h"},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		var out, errw lineWriter
		done := make(chan error, 1)
		go func() { done <- run(ctx, args, &out, &errw, nil) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%q: run after cancel = %v, want nil", args, err)
			}
		case <-time.After(time.Second):
			t.Fatalf("%q: run still going 1s after cancel", args)
		}
		lines := out.lines(t)
		for i, l := range lines {
			if want := fmt.Sprintf("loggen seq=%d stream=stdout\n", i); l != want {
				t.Fatalf("%q: line %d = %q, want %q", args, i, l, want)
			}
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-streams", "all"},
		{"-count", "-1"},
		{"-size", "-5"},
		{"-rate", "-1"},
		{"-linger", "-1s"},
		{"-nope"},
		{"extra"},
	} {
		var usage bytes.Buffer
		if err := run(t.Context(), args, &lineWriter{}, &usage, nil); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}

func TestUnterminatedLastLine(t *testing.T) {
	var out, errw lineWriter
	if err := run(t.Context(), []string{"-count", "3", "-unterminated"}, &out, &errw, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"loggen seq=0 stream=stdout\n", "loggen seq=1 stream=stdout\n", "loggen seq=2 stream=stdout"}
	if fmt.Sprint(out.writes) != fmt.Sprint(want) || len(errw.writes) != 0 {
		t.Fatalf("stdout %q, stderr %q; want stdout %q", out.writes, errw.writes, want)
	}
	if err := run(t.Context(), []string{"-unterminated"}, &out, &errw, nil); err == nil {
		t.Fatal("-unterminated without -count was accepted")
	}
}

func TestExitCodeAndAllocation(t *testing.T) {
	var out, errw bytes.Buffer
	err := run(t.Context(), []string{"-count", "1", "-exit", "3", "-alloc-mib", "1"}, &out, &errw, nil)
	var code exitCode
	if !errors.As(err, &code) || code != 3 {
		t.Fatalf("run = %v, want exit code 3", err)
	}
	if out.Len() == 0 {
		t.Fatal("no line written before the exit")
	}
	for _, bad := range [][]string{{"-exit", "126"}, {"-exit", "-1"}, {"-alloc-mib", "-1"}} {
		if err := run(t.Context(), bad, &out, &errw, nil); err == nil || errors.As(err, &code) {
			t.Errorf("run(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestSameLines(t *testing.T) {
	stdout, stderr := runOK(t, "-count", "4", "-streams", "both", "-same", "-prefix", "again")
	want := []string{"again\n", "again\n"}
	if fmt.Sprint(stdout) != fmt.Sprint(want) || fmt.Sprint(stderr) != fmt.Sprint(want) {
		t.Fatalf("stdout %q, stderr %q; want %q on each", stdout, stderr, want)
	}
}
func TestTraces(t *testing.T) {
	stdout, stderr := runOK(t, "-count", "3", "-traces", "-streams", "both", "-prefix", "p")
	var out, errOut []string
	split := func(lines []string) []string {
		var traces []string
		for _, l := range lines {
			if !strings.HasPrefix(l, "\t") {
				traces = append(traces, "")
			}
			traces[len(traces)-1] += l
		}
		return traces
	}
	out, errOut = split(stdout), split(stderr)
	if len(out) != 2 || len(errOut) != 1 {
		t.Fatalf("traces on stdout %d, stderr %d; want 2 and 1", len(out), len(errOut))
	}
	for i, tr := range []string{out[0], errOut[0], out[1]} {
		n, err := loggenline.ParseTrace("p", strings.TrimSuffix(tr, "\n"))
		if err != nil || n != i {
			t.Fatalf("trace %d: parsed %d, %v", i, n, err)
		}
	}
}

func TestStampsAfterThePrefix(t *testing.T) {
	before := time.Now()
	stdout, _ := runOK(t, "-count", "3", "-prefix", "GET /", "-stamps")
	after := time.Now()
	if len(stdout) != 3 || stdout[0] != "GET /2099-01-01T00:00:00.000000000Z seq=0 stream=stdout\n" {
		t.Fatalf("got %q, want a far-future timestamp first", stdout)
	}
	for i, ahead := range map[int]time.Duration{1: time.Second, 2: 50 * time.Microsecond} {
		prefix, seq, _, err := loggenline.ParseLine(stdout[i])
		if err != nil || seq != i {
			t.Fatalf("line %q: seq %d, %v", stdout[i], seq, err)
		}
		at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(prefix, "GET /"))
		if err != nil || len(prefix) != len("GET /2006-01-02T15:04:05.000000000Z") {
			t.Fatalf("line %q: no fixed-width timestamp after the prefix: %v", stdout[i], err)
		}
		if at.Before(before.Add(ahead)) || at.After(after.Add(ahead)) {
			t.Fatalf("line %q: timestamp %v not %v after the run", stdout[i], at, ahead)
		}
	}
	var usage bytes.Buffer
	if err := run(t.Context(), []string{"-stamps", "-same"}, &lineWriter{}, &usage, make(chan os.Signal)); err == nil {
		t.Fatal("-stamps with -same was accepted")
	}
}

func TestPauseAfterWaitsForTheResumeSignal(t *testing.T) {
	resume := make(chan os.Signal, 1)
	var out, errw lineWriter
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"-count", "5", "-pause-after", "2", "-rate", "1000"}, &out, &errw, resume)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for len(out.lines(t)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the lines before the pause were not written")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("run ended during the pause: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if n := len(out.lines(t)); n != 2 {
		t.Fatalf("%d lines written during the pause, want 2", n)
	}
	resume <- syscall.SIGUSR1
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(out.lines(t)); n != 5 {
		t.Fatalf("%d lines after the resume, want 5", n)
	}

	// A pause ends with ctx too.
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		done <- run(ctx, []string{"-count", "5", "-pause-after", "1"}, &lineWriter{}, &lineWriter{}, make(chan os.Signal))
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPauseMidWritesTheLineInTwoHalves(t *testing.T) {
	resume := make(chan os.Signal, 2)
	var out lineWriter
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"-count", "3", "-size", "100", "-pause-after", "1", "-pause-mid"}, &out, &lineWriter{}, resume)
	}()
	writes := func() []string {
		out.mu.Lock()
		defer out.mu.Unlock()
		return append([]string(nil), out.writes...)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(writes()) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the line before the pause was not written")
		}
		time.Sleep(time.Millisecond)
	}
	resume <- syscall.SIGUSR1
	for len(writes()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the first half of line 1 was not written")
		}
		time.Sleep(time.Millisecond)
	}
	if w := writes(); len(w) != 2 || len(w[1]) != 50 || strings.Contains(w[1], "\n") {
		t.Fatalf("writes before the second resume: %q", w)
	}
	resume <- syscall.SIGUSR1
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w := writes()
	if len(w) != 4 || w[1]+w[2] != strings.TrimSuffix(w[1]+w[2], "\n")+"\n" || len(w[1]+w[2]) != 101 {
		t.Fatalf("writes: %q", w)
	}
	if _, err := parseFlags([]string{"-pause-mid"}, &bytes.Buffer{}); err == nil {
		t.Fatal("-pause-mid without -pause-after was accepted")
	}
}
