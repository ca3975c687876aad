package tracking

import (
	"context"

	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// identity reads the daemon's host name and ID into the records' resources.
type identity struct {
	client    *docker.Client
	resources *records.Resources
	logger    *zap.Logger
	// wanted says that a resource attribute takes it; failing is set while the last read failed (and was warned
	// about). Both are used by the discovery goroutine alone.
	wanted  bool
	failing bool
}

// read reads the daemon's host name and ID for the records' resource (host.name, docker.engine.id).
//
// It runs before the first list and after each resubscription, since a reconnect may reach a daemon that was
// replaced; and at each reconcile while its last read failed, since the read after a reconnect may fail while the
// events stream comes back. A failure keeps what was read before: a socket proxy may refuse /info while the rest
// works, so it is warned about once per run of failures, and reading goes on without the two attributes.
//
// It is read even when neither attribute is wanted: the client learns from it whether another daemon answers
// now, whose kind (Docker or Podman) it then reads again (docker.Client.IsPodman).
func (r *identity) read(ctx context.Context) {
	info, err := r.client.Info(ctx)
	if !r.wanted {
		return
	}
	if err != nil {
		if ctx.Err() == nil && !r.failing {
			r.failing = true
			r.logger.Warn("Reading the Docker daemon's name and ID failed; records lack host.name and docker.engine.id until it answers",
				zap.Error(err))
		}
		return
	}
	r.failing = false
	id := records.Daemon{HostName: info.Name, EngineID: info.ID}
	if old := r.resources.SetDaemon(id); old != nil && *old != id {
		r.logger.Info("The Docker daemon's identity changed",
			zap.String("host.name", id.HostName), zap.String("docker.engine.id", id.EngineID))
	}
}

// pending reports whether the daemon's identity is wanted and was never read or its last read failed.
func (r *identity) pending() bool {
	return r.wanted && (!r.resources.DaemonKnown() || r.failing)
}
