package dockerlogsreceiver

import (
	"github.com/docker/docker/client"
	"go.uber.org/zap"
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

// warnIfUnencrypted warns once, at start, that a TCP endpoint without tls exposes the daemon, which grants
// root on its host, to anyone on the network path.
func (r *logsReceiver) warnIfUnencrypted() {
	if s := endpointScheme(r.cfg.Endpoint); r.cfg.TLS == nil && (s == "tcp" || s == "http") {
		r.settings.Logger.Warn("The Docker daemon is reached over TCP without tls: the connection is unencrypted and "+
			"unauthenticated; set tls (ca_file, cert_file, key_file) or use a unix socket",
			zap.String("endpoint", r.cfg.Endpoint))
	}
}
