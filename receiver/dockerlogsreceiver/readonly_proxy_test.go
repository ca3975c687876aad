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
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/client"
)

// readOnlyProxy serves the engine's API on 127.0.0.1 to GET requests (and HEAD /_ping) only, as a socket proxy
// that enforces read-only access would; it answers 403 to anything else and remembers what it refused.
type readOnlyProxy struct {
	// endpoint is the proxy's address for the receiver, tcp://127.0.0.1:PORT.
	endpoint string

	server *httptest.Server

	mu      sync.Mutex
	refused []string       // "METHOD /path" of each refused request
	allowed map[string]int // "METHOD /pattern" of forwarded requests, with IDs and the API version abstracted
	// forbidden holds "METHOD /pattern" requests answered 403 although they read (refuse sets them).
	forbidden map[string]bool
	// followTails holds the tail parameter of each follow request for a container's log, in order.
	followTails []string
}

// Parts of a path that differ between runs, replaced so that the forwarded requests group into endpoints.
var (
	apiVersionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)
	containerIDPart  = regexp.MustCompile(`/[0-9a-f]{64}(/|$)`)
)

// startReadOnlyProxy forwards to the engine's unix socket (the test is skipped when the engine is elsewhere); it
// stops when the test ends.
func startReadOnlyProxy(t *testing.T, cli *client.Client) *readOnlyProxy {
	socket, ok := strings.CutPrefix(cli.DaemonHost(), "unix://")
	if !ok {
		t.Skipf("the proxy forwards to a unix socket; the engine is at %s", cli.DaemonHost())
	}
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
	p := &readOnlyProxy{allowed: map[string]int{}, forbidden: map[string]bool{}}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || (r.Method == http.MethodHead && r.URL.Path == "/_ping")) && !p.isForbidden(r) {
			p.forwarded(r)
			forward.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		p.refused = append(p.refused, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		http.Error(w, "read-only proxy: "+r.Method+" is not allowed", http.StatusForbidden)
	}))
	p.server = server
	p.endpoint = "tcp://" + server.Listener.Addr().String()
	t.Cleanup(func() {
		server.Close()
		transport.CloseIdleConnections()
	})
	return p
}

// endpointOf names a request by its method and path, with IDs and the API version abstracted.
func endpointOf(r *http.Request) string {
	path := apiVersionPrefix.ReplaceAllString(r.URL.Path, "/v{api}/")
	return r.Method + " " + containerIDPart.ReplaceAllString(path, "/{id}$1")
}

// forwarded counts a forwarded request under its endpoint.
func (p *readOnlyProxy) forwarded(r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed[endpointOf(r)]++
	if q := r.URL.Query(); strings.HasSuffix(r.URL.Path, "/logs") && q.Get("follow") == "1" {
		p.followTails = append(p.followTails, q.Get("tail"))
	}
}

// tailsOfFollows returns the tail parameter of the follow requests forwarded since the first from of them.
func (p *readOnlyProxy) tailsOfFollows(from int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.followTails[min(from, len(p.followTails)):]...)
}

// refuse makes the proxy answer 403 to an endpoint ("GET /v{api}/info"), as a proxy configured to deny it would.
func (p *readOnlyProxy) refuse(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forbidden[endpoint] = true
}

// allow forwards an endpoint again after refuse.
func (p *readOnlyProxy) allow(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.forbidden, endpoint)
}

func (p *readOnlyProxy) isForbidden(r *http.Request) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.forbidden[endpointOf(r)]
}

// calls returns how many requests to an endpoint were forwarded.
func (p *readOnlyProxy) calls(endpoint string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.allowed[endpoint]
}

// cut closes every connection through the proxy, as a daemon restart would: the events stream breaks.
func (p *readOnlyProxy) cut() {
	p.server.CloseClientConnections()
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
