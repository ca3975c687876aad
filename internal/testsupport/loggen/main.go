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
	// Installed before the first line: a resume sent as soon as the pause's lines are seen is never lost.
	resume := make(chan os.Signal, 1)
	signal.Notify(resume, syscall.SIGUSR1)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, resume)
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
