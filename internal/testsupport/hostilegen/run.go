package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/hostileline"
)

// options are the parsed command-line flags.
type options struct {
	plan hostileline.Plan
	// release names a file holding how many numbered lines may be written so far, and optionally how many padding
	// lines in all ("40 3"); empty writes every line at once.
	release string
	poll    time.Duration
}

func parseFlags(args []string, usage io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("hostilegen", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Uint64Var(&o.plan.Seed, "seed", 1, "seed of the plan")
	fs.IntVar(&o.plan.Items, "items", 100, "numbered lines to write")
	fs.Int64Var(&o.plan.Epoch, "epoch", 0, "Unix seconds the timestamps written inside lines are drawn around")
	fs.BoolVar(&o.plan.Unterminated, "unterminated", false, "write the last numbered line without a newline")
	fs.BoolVar(&o.plan.Huge, "huge", false, "allow one line of 1 to 3 MiB")
	fs.IntVar(&o.plan.MaxLen, "max-len", 0, "cap every line's length but the runs of one byte (0 = no cap)")
	without := fs.String("without", "", "leave out content of these kinds, comma-separated: run, timestamps")
	fs.StringVar(&o.release, "release", "", "file holding how many numbered lines may be written so far and, after a space, how many padding lines in all (read again every -poll)")
	fs.DurationVar(&o.poll, "poll", 20*time.Millisecond, "how often -release is read while waiting")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *without != "" {
		o.plan.Without = strings.Split(*without, ",")
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.plan.Items < 1:
		return o, errors.New("-items must be at least 1")
	case o.poll <= 0:
		return o, errors.New("-poll must be positive")
	}
	return o, nil
}

// writer writes a plan's lines to the two outputs, holding the batched ones until they are due.
type writer struct {
	out     map[string]io.Writer
	pending map[string][]byte
	limit   int // bytes of batched lines held before they are written together
}

// flush writes what stream holds back in one write(2).
func (w *writer) flush(stream string) error {
	if len(w.pending[stream]) == 0 {
		return nil
	}
	_, err := w.out[stream].Write(w.pending[stream])
	w.pending[stream] = w.pending[stream][:0]
	return err
}

func (w *writer) flushAll() error {
	return errors.Join(w.flush(hostileline.Stdout), w.flush(hostileline.Stderr))
}

// item writes one numbered line and the tiny lines before it, as the plan says.
func (w *writer) item(it hostileline.Item, seed uint64) error {
	for _, t := range it.Tiny {
		if err := w.flush(t.Stream); err != nil {
			return err
		}
		if _, err := w.out[t.Stream].Write(append(bytes.Clone(t.Text), '\n')); err != nil {
			return err
		}
	}
	line := it.Line
	if it.Terminated {
		line = append(bytes.Clone(line), '\n')
	} else if err := w.flushAll(); err != nil {
		// The line without newline must be the last write: on a TTY, where both outputs are one terminal, a
		// batch of the other output written after it would continue it.
		return err
	}
	if it.Write == hostileline.Batched {
		w.pending[it.Stream] = append(w.pending[it.Stream], line...)
		if len(w.pending[it.Stream]) >= w.limit {
			return w.flush(it.Stream)
		}
		return nil
	}
	if err := w.flush(it.Stream); err != nil {
		return err
	}
	out := w.out[it.Stream]
	switch it.Write {
	case hostileline.Bytewise:
		for i := range line {
			if _, err := out.Write(line[i : i+1]); err != nil {
				return err
			}
		}
	case hostileline.Chunked:
		r := rand.New(rand.NewPCG(seed, uint64(it.Seq)+1<<32))
		for len(line) > 0 {
			n := min(len(line), 1+r.IntN(64<<10))
			if _, err := out.Write(line[:n]); err != nil {
				return err
			}
			line = line[n:]
		}
	default:
		_, err := out.Write(line)
		return err
	}
	return nil
}

// run writes the plan args describe; it returns nil when ctx ends, because a stopped generator is a normal end.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	w := &writer{
		out:     map[string]io.Writer{hostileline.Stdout: stdout, hostileline.Stderr: stderr},
		pending: map[string][]byte{},
		limit:   1<<20 + rand.New(rand.NewPCG(o.plan.Seed, 0)).IntN(3<<20),
	}
	allowed, pads, padded := o.plan.Items, 0, 0
	if o.release != "" {
		allowed = 0
	}
	pad := append(hostileline.PadLine(), '\n')
	for seq := range o.plan.Items {
		for seq >= allowed {
			if err := w.flushAll(); err != nil {
				return err
			}
			for ; padded < pads; padded++ {
				if _, err := stdout.Write(pad); err != nil {
					return fmt.Errorf("write padding line: %w", err)
				}
			}
			if !sleep(ctx, o.poll) {
				return nil
			}
			if allowed, pads, err = readRelease(o.release); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := w.item(o.plan.Item(seq), o.plan.Seed); err != nil {
			return fmt.Errorf("write line %d: %w", seq, err)
		}
	}
	return w.flushAll()
}

// readRelease returns the numbers in the release file: lines allowed, and padding lines in all; a file not yet
// written allows nothing.
func readRelease(path string) (lines, pads int, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(string(b))
	var n [2]int
	for i, f := range fields {
		if i >= len(n) {
			return 0, 0, fmt.Errorf("release file %s: %q: want two numbers at most", path, b)
		}
		if n[i], err = strconv.Atoi(f); err != nil {
			return 0, 0, fmt.Errorf("release file %s: %w", path, err)
		}
	}
	return n[0], n[1], nil
}

// sleep waits d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
