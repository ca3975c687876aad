// Command benchgen writes the sequence-numbered lines of loggenline for the benchmarks in bench/: first a burst
// of history as fast as it can, then a steady rate until SIGTERM, so that one container holds a long log and
// keeps writing, as a long-lived service does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

func main() {
	// PID 1 in its container: the kernel drops SIGTERM unless a handler is installed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	burst := flag.Int("burst", 0, "lines written as fast as possible first")
	rate := flag.Float64("rate", 0, "lines per second after the burst (0: write nothing more, stay until stopped)")
	size := flag.Int("size", 100, "line length in bytes without the newline")
	prefix := flag.String("prefix", "bench", "text at the start of every line")
	both := flag.Bool("both", false, "even lines to stdout, odd lines to stderr (else all to stdout)")
	gate := flag.Bool("gate", false, "write nothing until SIGUSR1, so that a fleet started one by one begins writing together")
	flag.Parse()
	if *gate {
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		select {
		case <-usr1:
		case <-ctx.Done():
			return
		}
		signal.Stop(usr1)
	}
	if err := run(ctx, *burst, *rate, *size, *prefix, *both); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, burst int, rate float64, size int, prefix string, both bool) error {
	var buf []byte
	write := func(seq int) error {
		w, stream := os.Stdout, loggenline.Stdout
		if both && seq%2 == 1 {
			w, stream = os.Stderr, loggenline.Stderr
		}
		buf = append(loggenline.Append(buf[:0], prefix, seq, stream, size), '\n')
		// One write(2) per line, so the daemon never sees half a line.
		_, err := w.Write(buf)
		return err
	}
	seq := 0
	for ; seq < burst && ctx.Err() == nil; seq++ {
		if err := write(seq); err != nil {
			return err
		}
	}
	if rate <= 0 {
		<-ctx.Done()
		return nil
	}
	// Line n of the steady part is due at start+n/rate: a late wake-up is caught up, the long-run rate holds.
	start, period := time.Now(), time.Duration(float64(time.Second)/rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := 0; ; n++ {
		timer.Reset(time.Until(start.Add(time.Duration(n) * period)))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if err := write(seq); err != nil {
			return err
		}
		seq++
	}
}
