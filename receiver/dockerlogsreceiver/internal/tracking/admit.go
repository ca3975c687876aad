package tracking

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// track makes the container known, reading its metadata and saved position; it reports whether it can be read.
//
// A container seen through its start event (start) is read from that start, found without a request
// (newRunStart), and its stream was opened already (openAhead): if it is gone before it could be inspected, the
// event's attributes stand in for its metadata and the stream's first bytes tell whether it has a TTY, and if
// nothing of it can be read, it is counted as removed unread. One that started after the receiver is read from
// that start too; one already running when the receiver started begins where start_at says (startPoint).
func (r *admitter) track(ctx context.Context, id string, start *events.Message) bool {
	if c := r.containers.get(id); c != nil {
		return c.is(readable)
	}
	if id == r.ownID || r.excluded.has(id) {
		r.early.discard(id)
		return false
	}
	c, info, ok := r.inspectNew(ctx, id, start)
	if !ok {
		if start != nil {
			r.early.discard(id)
		}
		return false
	}
	if !r.selects(c.meta) {
		r.excluded.add(id)
		r.early.discard(id)
		return false
	}
	var err error
	if c.multiline, err = r.cfg.Multiline(c.meta.Labels); err != nil {
		c.multiline = r.cfg.DefaultMultiline()
		r.logger.Warn("A container's multiline labels are invalid; its lines are grouped by the receiver's multiline setting",
			zap.String("container.id", id), zap.String("container.name", c.meta.Name), zap.Error(err))
	}
	c.limit = r.limitOf(c.meta)
	r.files.consider(info)
	cursor, saved, err := r.store.Load(ctx, id)
	if err != nil {
		// Reading it as new could deliver its whole log again: wait for the storage instead.
		r.logger.Warn("Loading the saved read position failed; trying again at the next reconcile",
			zap.String("container.id", id), zap.Error(err))
		r.early.discard(id)
		return false
	}
	switch {
	case saved:
		c.cursor = cursor
		r.early.discard(id)
	case start != nil:
		var state *container.State
		if info.ContainerJSONBase != nil {
			state = info.State
		}
		c.cursor = r.newRunStart(ctx, *start, state)
	default:
		var started time.Time
		if info.State != nil {
			started, _ = time.Parse(time.RFC3339Nano, info.State.StartedAt)
		}
		startedAfterReceiver := started.After(r.startedAt)
		// Started after the receiver first ran, while it ran or was down (a restart, an outage): read from its start.
		if c.cursor, err = r.startPoint(ctx, c, info, started.After(r.watchingSince)); err != nil {
			switch {
			case ctx.Err() != nil:
			case errors.Is(err, docker.ErrGone) && startedAfterReceiver:
				// Its start event, replayed since the receiver started, tracks it from the stream opened then, or
				// counts it as removed unread.
			case errors.Is(err, docker.ErrGone):
				// Running when the receiver started, removed before its end was found: what it wrote since is lost.
				r.removedUnread(ctx, id, c.meta.Name, checkpoint.From(r.startedAt.UnixNano()), c.startedAt)
			default:
				r.logger.Warn("Finding where to start reading a container's log failed; trying again at the next reconcile",
					zap.String("container.id", id), zap.Error(err))
			}
			return false
		}
	}
	if !saved && c.cursor != (checkpoint.Cursor{}) {
		// Saved at once, so that a restart before the first delivery does not move it.
		r.savePosition(ctx, c, c.cursor)
	}
	c.early = r.early.parked(id)
	r.containers.add(c)
	return true
}

// inspectNew reads what the receiver keeps of a container it does not know yet; it reports false when the
// container cannot be tracked now. A container first seen through its start event and gone already is known by
// the event and the stream opened at it; with no stream, what it wrote is counted as removed unread.
func (r *admitter) inspectNew(ctx context.Context, id string, start *events.Message) (*trackedContainer, container.InspectResponse, bool) {
	info, err := r.client.Inspect(ctx, id)
	if err == nil {
		c := &trackedContainer{meta: r.metaOf(info), logFileSize: rotatingFileSize(info.HostConfig)}
		if info.Config != nil {
			c.tty = info.Config.Tty
		}
		if info.HostConfig != nil {
			c.driver = info.HostConfig.LogConfig.Type
		}
		if info.State != nil {
			if started, err := time.Parse(time.RFC3339Nano, info.State.StartedAt); err == nil && started.Unix() > 0 {
				c.startedAt = started.UnixNano()
			}
		}
		return c, info, true
	}
	if ctx.Err() != nil {
		return nil, info, false
	}
	if start == nil || !errors.Is(err, docker.ErrGone) {
		if !errors.Is(err, docker.ErrGone) {
			r.logger.Warn("Inspecting a container failed", zap.String("container.id", id), zap.Error(err))
			r.health.DaemonFailed(err)
		}
		return nil, info, false
	}
	meta, selected := r.eventMeta(*start)
	if !selected {
		return nil, info, false
	}
	c := &trackedContainer{meta: meta, startedAt: start.TimeNano}
	if c.tty, err = r.early.tty(ctx, id); err != nil {
		if ctx.Err() == nil {
			r.removedUnread(ctx, id, meta.Name, r.newRunStart(ctx, *start, nil), start.TimeNano)
		}
		return nil, info, false
	}
	return c, info, true
}

// limitOf returns a container's read limit: the receiver's, each rate replaced by the container's label when it
// has one (0 lifts that limit); a label that is not a number at least 0 is warned once and ignored.
func (r *admitter) limitOf(m records.Meta) *turn.Limit {
	lines, bytes := r.cfg.MaxLinesPerSecond, r.cfg.MaxBytesPerSecond
	if v, ok := m.Labels[maxLinesLabel]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			lines = n
		} else {
			r.labelWarnings.Once(r.logger, m, maxLinesLabel, v, "A container's read limit label is not a number of at least 0; it is ignored")
		}
	}
	if v, ok := m.Labels[maxBytesLabel]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			bytes = n
		} else {
			r.labelWarnings.Once(r.logger, m, maxBytesLabel, v, "A container's read limit label is not a number of at least 0; it is ignored")
		}
	}
	return turn.NewLimit(lines, bytes)
}
