// Command hostilegen writes, from a seed, the lines of a hostileline plan: what real programs print and worse,
// each numbered line carrying its sequence number, length and checksum. With -release it writes only as many
// numbered lines as a file allows, so that a test can pace it against what a log store already holds.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The program is PID 1 in its container, where the kernel drops SIGTERM unless a handler is installed.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hostilegen:", err)
		os.Exit(2)
	}
}
