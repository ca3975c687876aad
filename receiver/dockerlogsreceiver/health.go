package dockerlogsreceiver

import (
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
)

// health reports the receiver's component status to the host, which hands it to the health_check extension.
//
// The collector reports Starting, then OK once Start returns, and a permanent error when Start fails (a
// configuration the receiver cannot work with: TLS files, storage extension). After that the receiver
// reports a recoverable error while the daemon cannot be reached and OK as soon as a list succeeds again,
// and a permanent error when the daemon refuses the requests themselves (HTTP 400, e.g. an api_version it
// does not support): only a change of configuration can fix that. Only changes are reported.
type health struct {
	host component.Host

	mu        sync.Mutex
	unhealthy bool // a recoverable error was reported and no OK since
	permanent bool // a permanent error was reported: the status stays so
}

func newHealth(host component.Host) *health {
	return &health{host: host}
}

// DaemonFailed reports err from a list, an inspect or the events stream.
func (h *health) DaemonFailed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.permanent:
	case cerrdefs.IsInvalidArgument(err):
		h.permanent = true
		componentstatus.ReportStatus(h.host, componentstatus.NewPermanentErrorEvent(err))
	case !h.unhealthy:
		h.unhealthy = true
		componentstatus.ReportStatus(h.host, componentstatus.NewRecoverableErrorEvent(err))
	}
}

// DaemonAnswered reports that a list of the containers succeeded.
func (h *health) DaemonAnswered() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.unhealthy && !h.permanent {
		h.unhealthy = false
		componentstatus.ReportStatus(h.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}
