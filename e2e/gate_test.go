package e2e

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
)

// lokiOTLPPath is where the shipped configuration's otlp_http exporter posts: ${LOKI_ENDPOINT}/otlp plus /v1/logs.
const lokiOTLPPath = "/otlp/v1/logs"

// storeGate stands where Loki would be: it passes the collector's OTLP posts on to VictoriaLogs, or answers
// 503 Service Unavailable while the test has taken the store "down", as Loki does while it cannot ingest.
type storeGate struct {
	// URL is what LOKI_ENDPOINT is set to.
	URL     string
	down    atomic.Bool
	refused atomic.Int64
	passed  atomic.Int64
}

// startStoreGate serves on a free port of 127.0.0.1 until the test ends.
func startStoreGate(t testing.TB, vl *victoriaLogs) *storeGate {
	t.Helper()
	target, err := url.Parse(vl.base)
	if err != nil {
		t.Fatal(err)
	}
	g := &storeGate{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.URL.Path = "/insert/opentelemetry/v1/logs"
		},
		// No idle connections: no transport goroutine outlives the test (goleak).
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != lokiOTLPPath:
			http.NotFound(w, r)
		case g.down.Load():
			g.refused.Add(1)
			http.Error(w, "log store down for the test", http.StatusServiceUnavailable)
		default:
			g.passed.Add(1)
			proxy.ServeHTTP(w, r)
		}
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("store gate: %v", err)
		}
	})
	g.URL = "http://" + l.Addr().String()
	return g
}

// setDown takes the store down (every post answered 503) or brings it back.
func (g *storeGate) setDown(down bool) {
	g.down.Store(down)
}
