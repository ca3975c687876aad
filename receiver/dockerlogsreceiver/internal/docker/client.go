// Package docker is the receiver's access to the Docker Engine API: one client, and every call it makes.
package docker

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/docker/docker/client"
)

// Settings say how to reach the daemon.
type Settings struct {
	// Endpoint is the daemon address, e.g. unix:///var/run/docker.sock or tcp://host:2376.
	Endpoint string
	// APIVersion pins the API version; empty negotiates it on the first call.
	APIVersion string
	// TLS, when set, is used for a tcp:// or https:// endpoint.
	TLS *tls.Config
	// Timeout bounds every non-streaming call.
	Timeout time.Duration
}

// Client makes the API calls the receiver needs, each non-streaming one under Settings.Timeout.
type Client struct {
	api     *client.Client
	timeout time.Duration
	// engine is which daemon answers and whether it is Podman (see IsPodman).
	engine engine
}

// NewClient creates a client; it does not contact the daemon.
func NewClient(s Settings) (*Client, error) {
	// The transport must carry TLS before WithHost configures its dialer for the endpoint.
	opts := []client.Opt{client.WithHTTPClient(newHTTPClient(s.TLS))}
	if s.TLS != nil {
		opts = append(opts, client.WithScheme("https"))
	}
	opts = append(opts, client.WithHost(s.Endpoint))
	if s.APIVersion != "" {
		opts = append(opts, client.WithVersion(s.APIVersion))
	} else {
		opts = append(opts, client.WithAPIVersionNegotiation())
	}
	api, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("create Docker client for %s: %w", s.Endpoint, err)
	}
	return &Client{api: api, timeout: s.Timeout}, nil
}

// streamReadBuffer is the read buffer of each connection to the daemon: a log stream is a run of small HTTP chunks,
// one per entry, and the transport's default 4 KiB made a busy stream cost a read(2) per few dozen lines.
const streamReadBuffer = 64 << 10

// newHTTPClient is the Docker client's own default transport (its idle-connection limits), with a larger read buffer.
func newHTTPClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:    6,
			IdleConnTimeout: 30 * time.Second,
			ReadBufferSize:  streamReadBuffer,
			TLSClientConfig: tlsConfig,
		},
		CheckRedirect: client.CheckRedirect,
	}
}

// Close releases the client's idle connections.
func (c *Client) Close() error {
	return c.api.Close()
}
