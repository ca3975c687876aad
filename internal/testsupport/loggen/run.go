package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// options are the parsed command-line flags.
type options struct {
	count   int
	rate    float64
	streams string
	size    int
	prefix  string
	delay   time.Duration
	linger  time.Duration
	// unterminated leaves the last line without its newline, as a program that ends with printf "done" or dies mid-line.
	unterminated bool
	// exit is the exit code once the lines are written (a container that fails).
	exit int
	// allocMiB is memory allocated and touched after the last line, kept until the end (under a memory limit: an OOM kill).
	allocMiB int
	// same writes the prefix alone as every line: identical lines, as a program that prints one message in a loop.
	same bool
	// stamps writes a timestamp of the engine's form after the prefix of every line (stampFor).
	stamps bool
	// traces writes numbered stack traces (loggenline.AppendTraceLine) instead of lines; count and rate count traces.
	traces bool
	// pauseAfter, when positive, stops after that many lines until the resume signal (SIGUSR1) comes.
	pauseAfter int
	// pauseMid, with pauseAfter, writes line pauseAfter in two halves with a second wait for SIGUSR1 between them:
	// a line the engine has begun to store and not finished.
	pauseMid bool
}

// exitCode is what run returns for -exit: the code the program ends with.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit code %d", int(c)) }

func parseFlags(args []string, usage io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loggen", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.IntVar(&o.count, "count", 0, "lines to write in total, then exit (0 = until SIGTERM or SIGINT)")
	fs.Float64Var(&o.rate, "rate", 0, "lines per second over both streams (0 = as fast as possible)")
	fs.StringVar(&o.streams, "streams", "stdout", "stdout, stderr, or both (even lines to stdout, odd lines to stderr)")
	fs.IntVar(&o.size, "size", 0, "line length in bytes without the newline (0 = natural length; never shorter than the header)")
	fs.StringVar(&o.prefix, "prefix", "loggen", "text at the start of every line")
	fs.DurationVar(&o.delay, "delay", 0, "wait this long before the first line")
	fs.DurationVar(&o.linger, "linger", 0, "with -count, stay running this long after the last line (a container with a finished history)")
	fs.BoolVar(&o.unterminated, "unterminated", false, "with -count, write the last line without a newline")
	fs.IntVar(&o.exit, "exit", 0, "exit with this code once the lines are written (1-125)")
	fs.IntVar(&o.allocMiB, "alloc-mib", 0, "after the last line, allocate and touch this many MiB and keep them (with a memory limit: an OOM kill)")
	fs.BoolVar(&o.same, "same", false, "write the prefix alone as every line, without sequence number or stream (identical lines)")
	fs.BoolVar(&o.stamps, "stamps", false, "write after the prefix of every line a timestamp of the engine's form: in turn 2099-01-01, one second ahead, and 50 µs ahead (about when the engine captures the line)")
	fs.IntVar(&o.pauseAfter, "pause-after", 0, "after this many lines, wait for SIGUSR1 before writing the rest (a workload that waits for its test)")
	fs.BoolVar(&o.pauseMid, "pause-mid", false, "with -pause-after N, write line N in two halves, waiting for SIGUSR1 again between them")
	fs.BoolVar(&o.traces, "traces", false, "write numbered stack traces of 20 to 40 lines instead of single lines (-count and -rate count traces; with both streams, even traces to stdout)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.count < 0, o.rate < 0, o.size < 0, o.delay < 0, o.linger < 0, o.allocMiB < 0, o.pauseAfter < 0:
		return o, errors.New("-count, -rate, -size, -delay, -linger, -alloc-mib and -pause-after must not be negative")
	case o.exit < 0 || o.exit > 125:
		return o, fmt.Errorf("-exit %d: want 0 to 125 (above are the shell's and signals' codes)", o.exit)
	case o.traces && (o.unterminated || o.size > 0 || o.same):
		return o, errors.New("-traces cannot be combined with -unterminated, -size or -same")
	case o.stamps && (o.traces || o.same):
		return o, errors.New("-stamps cannot be combined with -traces or -same")
	case o.pauseMid && (o.pauseAfter == 0 || o.traces):
		return o, errors.New("-pause-mid needs -pause-after and cannot be combined with -traces")
	case o.unterminated && o.count == 0:
		return o, errors.New("-unterminated needs -count: only a last line can lack its newline")
	case o.streams != "stdout" && o.streams != "stderr" && o.streams != "both":
		return o, fmt.Errorf("-streams %q: want stdout, stderr or both", o.streams)
	}
	return o, nil
}

// run writes the lines args ask for; it returns nil when ctx ends, because a stopped generator is a normal end.
// resume delivers the signal that ends a -pause-after pause.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, resume <-chan os.Signal) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if !sleep(ctx, o.delay) {
		return nil
	}
	var pace *pacer
	if o.rate > 0 {
		pace = newPacer(o.rate)
		defer pace.stop()
	}
	var buf []byte
	for seq := 0; o.count == 0 || seq < o.count; seq++ {
		if seq == o.pauseAfter && seq > 0 {
			select {
			case <-resume:
			case <-ctx.Done():
				return nil
			}
			if pace != nil {
				// The lines after the pause keep the rate from the resume, not from the start.
				pace.resumeAt(seq)
			}
		}
		if pace != nil {
			if !pace.wait(ctx, seq) {
				return nil
			}
		} else if ctx.Err() != nil {
			return nil
		}
		w, stream := stdout, loggenline.Stdout
		if o.streams == "stderr" || (o.streams == "both" && seq%2 == 1) {
			w, stream = stderr, loggenline.Stderr
		}
		if o.traces {
			if err := writeTrace(w, buf, o.prefix, seq); err != nil {
				return fmt.Errorf("write trace %d to %s: %w", seq, stream, err)
			}
			continue
		}
		if o.same {
			buf = append(buf[:0], o.prefix...)
		} else if o.stamps {
			buf = loggenline.Append(buf[:0], o.prefix+stampFor(seq, time.Now()), seq, stream, o.size)
		} else {
			buf = loggenline.Append(buf[:0], o.prefix, seq, stream, o.size)
		}
		if !o.unterminated || seq < o.count-1 {
			buf = append(buf, '\n')
		}
		if o.pauseMid && seq == o.pauseAfter {
			half := len(buf) / 2
			if _, err := w.Write(buf[:half]); err != nil {
				return fmt.Errorf("write the first half of line %d to %s: %w", seq, stream, err)
			}
			select {
			case <-resume:
			case <-ctx.Done():
				return nil
			}
			buf = buf[half:]
		}
		// One Write per line: an unbuffered *os.File turns it into one write(2), so the engine never sees half a line from us.
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write line %d to %s: %w", seq, stream, err)
		}
	}
	held := allocate(o.allocMiB)
	sleep(ctx, o.linger)
	if held != nil && held[0] != 1 {
		return errors.New("allocated memory lost") // keeps held alive until here
	}
	if o.exit != 0 {
		return exitCode(o.exit)
	}
	return nil
}

// stampFor returns the timestamp line seq carries with -stamps, in the engine's fixed-width form: a far-future one,
// one a second after now, and one about when the engine will capture the line.
func stampFor(seq int, now time.Time) string {
	const layout = "2006-01-02T15:04:05.000000000Z07:00"
	switch seq % 3 {
	case 0:
		return "2099-01-01T00:00:00.000000000Z"
	case 1:
		return now.Add(time.Second).UTC().Format(layout)
	}
	return now.Add(50 * time.Microsecond).UTC().Format(layout)
}

// allocate returns n MiB with every page written, so that they are resident; nil for 0.
func allocate(n int) []byte {
	if n == 0 {
		return nil
	}
	b := make([]byte, n<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

// writeTrace writes trace n one line per Write, as a logger that prints a stack trace frame by frame.
func writeTrace(w io.Writer, buf []byte, prefix string, n int) error {
	for k := range loggenline.TraceLines(n) {
		buf = append(loggenline.AppendTraceLine(buf[:0], prefix, n, k), '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
