package records

import (
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
)

// Resources builds the resources of the records, with the daemon's identity as last read.
type Resources struct {
	rac    metadata.ResourceAttributesConfig
	daemon atomic.Pointer[Daemon]
}

// NewResources builds resources as resource_attributes says.
func NewResources(rac metadata.ResourceAttributesConfig) *Resources {
	return &Resources{rac: rac}
}

// Of builds the resource of a container's records.
func (r *Resources) Of(m Meta) pcommon.Resource {
	var d Daemon
	if p := r.daemon.Load(); p != nil {
		d = *p
	}
	return NewResource(r.rac, d, m)
}

// SetDaemon records the daemon's identity as read now; it returns the one read before, nil if none was.
func (r *Resources) SetDaemon(d Daemon) *Daemon {
	return r.daemon.Swap(&d)
}

// DaemonKnown reports whether the daemon's identity was read at least once.
func (r *Resources) DaemonKnown() bool {
	return r.daemon.Load() != nil
}
