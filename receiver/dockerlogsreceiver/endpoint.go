package dockerlogsreceiver

import (
	"github.com/docker/docker/client"
)

// endpointScheme returns the scheme of a daemon address (unix, tcp, http, https, npipe), or "" when it does not parse.
func endpointScheme(endpoint string) string {
	u, err := client.ParseHostURL(endpoint)
	if err != nil {
		return ""
	}
	return u.Scheme
}

// isLocalSocket tells whether the endpoint is a unix socket or a named pipe, where TLS has no meaning.
func isLocalSocket(endpoint string) bool {
	s := endpointScheme(endpoint)
	return s == "unix" || s == "npipe"
}
