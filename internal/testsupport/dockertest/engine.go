// Package dockertest gives integration tests a real Docker engine, the loggen image and short-lived containers.
package dockertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Engine returns a negotiating client for the engine at DOCKER_HOST (or the default socket), skipping the test with -short or without an engine, but failing it without one under CI=true.
func Engine(t testing.TB) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test needs a Docker engine; skipped with -short")
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		noEngine(t, "bad Docker client settings (DOCKER_HOST=%q): %v", os.Getenv("DOCKER_HOST"), err)
	}
	t.Cleanup(func() { _ = cli.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ping, err := cli.Ping(ctx)
	if err != nil {
		noEngine(t, "no Docker engine answers at %s (DOCKER_HOST=%q) within 5s: %v; run the tests through scripts/with-docker.sh",
			cli.DaemonHost(), os.Getenv("DOCKER_HOST"), err)
	}
	cli.NegotiateAPIVersionPing(ping)
	return cli
}

// noEngine skips the test, or fails it under CI=true.
func noEngine(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}
