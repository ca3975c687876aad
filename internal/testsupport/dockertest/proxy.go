package dockertest

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Proxy forwards a unix socket to the engine's, so that a test can cut every connection as a daemon restart would.
type Proxy struct {
	// Endpoint is the proxy's address for a client, unix://PATH.
	Endpoint string

	listener net.Listener
	target   string
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// StartProxy listens on a fresh socket in t.TempDir and forwards to the unix socket named by DOCKER_HOST; it stops with the test.
func StartProxy(t testing.TB) *Proxy {
	t.Helper()
	host := os.Getenv("DOCKER_HOST")
	if !strings.HasPrefix(host, "unix://") {
		host = "unix:///var/run/docker.sock"
	}
	// Socket paths are limited to about 100 bytes: a short directory of its own.
	dir, err := os.MkdirTemp("", "dlr-proxy-")
	if err != nil {
		t.Fatalf("proxy dir: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("proxy listen on %s: %v", path, err)
	}
	p := &Proxy{Endpoint: "unix://" + path, listener: l, target: strings.TrimPrefix(host, "unix://"), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.stop)
	return p
}

// Cut closes every open connection, both ways; new connections are accepted as before.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		engine, err := net.Dial("unix", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client], p.conns[engine] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(client, engine)
		go p.pipe(engine, client)
	}
}

// pipe copies one direction; when either side ends, both are closed.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func (p *Proxy) stop() {
	_ = p.listener.Close()
	p.Cut()
	p.wg.Wait()
}
