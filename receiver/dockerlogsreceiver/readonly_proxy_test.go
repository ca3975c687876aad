package dockerlogsreceiver

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"sync"
	"testing"
)

// readOnlyProxy serves the engine's API on 127.0.0.1 to GET requests (and HEAD /_ping) only, as a socket proxy
// that enforces read-only access would; it answers 403 to anything else and remembers what it refused.
type readOnlyProxy struct {
	// endpoint is the proxy's address for the receiver, tcp://127.0.0.1:PORT.
	endpoint string

	mu      sync.Mutex
	refused []string       // "METHOD /path" of each refused request
	allowed map[string]int // "METHOD /pattern" of forwarded requests, with IDs and the API version abstracted
}

// Parts of a path that differ between runs, replaced so that the forwarded requests group into endpoints.
var (
	apiVersionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)
	containerIDPart  = regexp.MustCompile(`/[0-9a-f]{64}(/|$)`)
)

// startReadOnlyProxy forwards to the engine's unix socket; it stops when the test ends.
func startReadOnlyProxy(t *testing.T, socket string) *readOnlyProxy {
	transport := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	forward := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: "http", Host: "docker"}) },
		// Log streams and events are long-lived chunked responses: each chunk goes on at once.
		FlushInterval: -1,
		Transport:     transport,
	}
	p := &readOnlyProxy{allowed: map[string]int{}}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || (r.Method == http.MethodHead && r.URL.Path == "/_ping") {
			p.forwarded(r)
			forward.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		p.refused = append(p.refused, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		http.Error(w, "read-only proxy: "+r.Method+" is not allowed", http.StatusForbidden)
	}))
	p.endpoint = "tcp://" + server.Listener.Addr().String()
	t.Cleanup(func() {
		server.Close()
		transport.CloseIdleConnections()
	})
	return p
}

// forwarded counts a forwarded request under its endpoint.
func (p *readOnlyProxy) forwarded(r *http.Request) {
	path := apiVersionPrefix.ReplaceAllString(r.URL.Path, "/v{api}/")
	path = containerIDPart.ReplaceAllString(path, "/{id}$1")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed[r.Method+" "+path]++
}

// refusals returns the requests refused so far.
func (p *readOnlyProxy) refusals() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.refused...)
}

// endpoints returns the distinct forwarded requests, sorted.
func (p *readOnlyProxy) endpoints() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for e := range p.allowed {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}
