// Command loggen writes the sequence-numbered lines of loggenline ("<prefix> seq=<n> stream=<stdout|stderr>") for the receiver's integration tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The program is PID 1 in its container, where the kernel drops SIGTERM unless a handler is installed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var code exitCode
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &code):
		os.Exit(int(code))
	case err != nil:
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(2)
	}
}
