package otlpsink

import (
	"errors"
	"net"
	"net/http"
	"testing"
)

// Serve serves h on a free port of 127.0.0.1 until the test ends and returns its base URL.
func Serve(t testing.TB, h http.HandlerFunc) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("sink at %s: %v", l.Addr(), err)
		}
	})
	return "http://" + l.Addr().String()
}
