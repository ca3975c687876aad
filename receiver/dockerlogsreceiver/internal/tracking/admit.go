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
//
// A start event that cannot be handled now (inspect or the storage failed) is kept, with the stream opened at it,
// and tried again at each reconcile and when the container is removed: never dropped, since a container that ran
// briefly is in no later list.
func (r *admitter) track(ctx context.Context, id string, start *events.Message) bool {
	return r.trackFrom(ctx, id, start, false)
}

// trackFrom is track for a container known to be removed (removed): then its start event stands in for an inspect
// that fails, whatever the error.
func (r *admitter) trackFrom(ctx context.Context, id string, start *events.Message, removed bool) bool {
	if c := r.containers.get(id); c != nil {
		r.early.settle(id)
		return c.is(readable)
	}
	if id == r.ownID || r.excluded.has(id) {
		r.early.discard(id)
		return false
	}
	c, info, ok, retry := r.inspectNew(ctx, id, start, removed)
	if !ok {
		r.giveUpStart(id, start, retry)
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
		r.giveUpStart(id, start, true)
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
	r.early.settle(id)
	return true
}

// giveUpStart ends an attempt to track a container: its start event is kept to be tried again (retry), or its
// parked stream is closed.
func (r *admitter) giveUpStart(id string, start *events.Message, retry bool) {
	switch {
	case start != nil && retry:
		r.early.deferStart(*start)
	case start != nil:
		r.early.discard(id)
	}
}

// inspectNew reads what the receiver keeps of a container it does not know yet; it reports false when the
// container cannot be tracked now, and retry when its start event is to be tried again. A container first seen
// through its start event and gone already (or known removed) is known by the event and the stream opened at it;
// with no stream, what it wrote is counted as removed unread.
func (r *admitter) inspectNew(ctx context.Context, id string, start *events.Message, removed bool) (c *trackedContainer, info container.InspectResponse, ok, retry bool) {
	info, err := r.client.Inspect(ctx, id)
	if err == nil {
		c = &trackedContainer{meta: r.metaOf(info), logFileSize: rotatingFileSize(info.HostConfig)}
		if info.Config != nil {
			c.tty = info.Config.Tty
		}
		if info.HostConfig != nil {
			c.driver, c.autoRemove = info.HostConfig.LogConfig.Type, info.HostConfig.AutoRemove
		}
		if info.State != nil {
			if started, err := time.Parse(time.RFC3339Nano, info.State.StartedAt); err == nil && started.Unix() > 0 {
				c.startedAt = started.UnixNano()
			}
		}
		return c, info, true, false
	}
	if ctx.Err() != nil {
		return nil, info, false, false
	}
	gone := errors.Is(err, docker.ErrGone)
	if !gone {
		r.logger.Warn("Inspecting a container failed", zap.String("container.id", id), zap.Error(err))
		r.health.DaemonFailed(err)
	}
	switch {
	case start == nil:
		return nil, info, false, false
	case !gone && !removed:
		// Perhaps running still: the stream of a removed container is given up when it sends nothing (tty), so
		// only a container known to be gone is read from its event.
		return nil, info, false, true
	}
	meta, selected := r.eventMeta(*start)
	if !selected {
		return nil, info, false, false
	}
	c = &trackedContainer{meta: meta, startedAt: start.TimeNano}
	if c.tty, err = r.early.tty(ctx, id); err != nil {
		if ctx.Err() == nil {
			r.removedUnread(ctx, id, meta.Name, r.newRunStart(ctx, *start, nil), start.TimeNano)
		}
		return nil, info, false, false
	}
	return c, info, true, false
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
