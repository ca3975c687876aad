package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/hostileline"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// numbered returns the sequence numbers of the numbered lines in out, in order.
func numbered(out []byte) []int {
	var seqs []int
	for _, line := range bytes.Split(out, []byte("\n")) {
		if seq, ok := hostileline.ParseSeq(line); ok {
			seqs = append(seqs, seq)
		}
	}
	return seqs
}

func TestWritesThePlanToBothOutputs(t *testing.T) {
	var stdout, stderr syncBuffer
	args := []string{"-seed", "5", "-items", "30", "-epoch", "1800000000", "-unterminated"}
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	p := hostileline.Plan{Seed: 5, Items: 30, Epoch: 1_800_000_000, Unterminated: true}
	var want = map[string][]byte{}
	for seq := range p.Items {
		it := p.Item(seq)
		for _, tl := range it.Tiny {
			want[tl.Stream] = append(append(want[tl.Stream], tl.Text...), '\n')
		}
		want[it.Stream] = append(want[it.Stream], it.Line...)
		if it.Terminated {
			want[it.Stream] = append(want[it.Stream], '\n')
		}
	}
	// Batched lines are held until a line of their own output is written otherwise, so each output keeps its order.
	if !bytes.Equal(stdout.Bytes(), want[hostileline.Stdout]) || !bytes.Equal(stderr.Bytes(), want[hostileline.Stderr]) {
		t.Fatalf("outputs differ from the plan: stdout %d B (want %d), stderr %d B (want %d)",
			len(stdout.Bytes()), len(want[hostileline.Stdout]), len(stderr.Bytes()), len(want[hostileline.Stderr]))
	}
	if last := p.Item(29); bytes.HasSuffix(map[string][]byte{hostileline.Stdout: stdout.Bytes(), hostileline.Stderr: stderr.Bytes()}[last.Stream], []byte("\n")) {
		t.Fatal("the last line got a newline")
	}
}

func TestWritesOnlyWhatTheReleaseFileAllows(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-seed", "3", "-items", "20", "-release", release, "-poll", "1ms"}, &stdout, &stderr)
	}()
	written := func() int { return len(numbered(stdout.Bytes())) + len(numbered(stderr.Bytes())) }
	setRelease := func(content string) {
		tmp := release + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, release); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for written() != n {
			if time.Now().After(deadline) {
				t.Fatalf("%d numbered lines written, want %d", written(), n)
			}
			time.Sleep(time.Millisecond)
		}
		// And no more than that, a while later.
		time.Sleep(50 * time.Millisecond)
		if written() != n {
			t.Fatalf("%d numbered lines written, want %d", written(), n)
		}
	}
	waitFor(0)
	setRelease("7")
	waitFor(7)
	setRelease("7 2")
	pads := func() int { return bytes.Count(stdout.Bytes(), []byte(hostileline.PadPrefix)) }
	deadline := time.Now().Add(10 * time.Second)
	for pads() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d padding lines, want 2", pads())
		}
		time.Sleep(time.Millisecond)
	}
	waitFor(7)
	setRelease("20 2")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cancel()
	waitFor(20)
	if pads() != 2 {
		t.Fatalf("%d padding lines, want 2", pads())
	}
}
