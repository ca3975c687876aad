package tracking

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// trackListed is track for a container the list of running containers named. One removed before it could be
// inspected is counted as removed unread, since nothing of its log can be read any more, and is then left out
// until its removal is seen, so that its start event, when it is replayed, does not count it again.
func (r *admitter) trackListed(ctx context.Context, s container.Summary) bool {
	if r.track(ctx, s.ID, nil) {
		return true
	}
	if ctx.Err() != nil || s.ID == r.ownID || r.containers.get(s.ID) != nil || r.excluded.has(s.ID) {
		return false
	}
	if _, err := r.client.Inspect(ctx, s.ID); !errors.Is(err, docker.ErrGone) {
		// Not tracked for another reason (the daemon or the storage failed): the next reconcile tries again.
		return false
	}
	m := r.listedMeta(s)
	if !r.selects(m) {
		return false
	}
	cur, saved, err := r.store.Load(ctx, s.ID)
	if err != nil || !saved {
		cur = checkpoint.Cursor{}
		if !r.cfg.StartAtBeginning {
			// Running when the receiver started (start_at: end): what it wrote since was to be read.
			cur = checkpoint.From(r.startedAt.UnixNano())
		}
	}
	r.removedUnread(ctx, s.ID, m.Name, cur, time.Unix(s.Created, 0).UnixNano())
	r.excluded.add(s.ID)
	return false
}

// listedMeta is what the rules need of a listed container, from the list alone: its name, image and labels.
func (r *admitter) listedMeta(s container.Summary) records.Meta {
	m := records.Meta{ID: s.ID, Image: s.Image, Labels: s.Labels}
	if len(s.Names) > 0 {
		m.Name = strings.TrimPrefix(s.Names[0], "/")
	}
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	r.labelMapping.Apply(m.Labels, m.SetExtra)
	return m
}
