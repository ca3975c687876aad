package dockerlogsreceiver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// Backoff between attempts to subscribe to the daemon's events again.
const (
	resubscribeInitial = 500 * time.Millisecond
	resubscribeMax     = 30 * time.Second
)

// discover follows the daemon's container events and a periodic list until ctx ends.
//
// Events catch short-lived containers that a list would miss; the list repairs whatever events were lost.
func (r *logsReceiver) discover(ctx context.Context) {
	// Streams not taken by a turn are closed; their context has ended.
	defer r.early.stop()
	// From the receiver's start: a container that started and exited before the first subscription (reading
	// the daemon's identity first takes most of a second on Podman) is in no list of running containers.
	since := r.startedAt
	wait := resubscribeInitial
	resumed := false
	for ctx.Err() == nil {
		r.readDaemonIdentity(ctx)
		subscribed := time.Now()
		// Create events tell which new containers' logs are wholly their own (newRunStart).
		actions := append(r.cfg.LifecycleEvents.actions(), events.ActionCreate)
		msgs, errs := r.client.ContainerEvents(ctx, since, r.filter.EngineLabelFilters(), actions...)
		// Listing after subscribing leaves no gap in which a container could start unseen.
		listed := r.reconcile(ctx)
		if listed && !resumed {
			resumed = r.resumeExited(ctx)
		}
		err := r.followEvents(ctx, msgs, errs, &since)
		if ctx.Err() != nil {
			return
		}
		r.health.daemonFailed(fmt.Errorf("docker events stream ended: %w", err))
		if listed && time.Since(subscribed) > resubscribeMax {
			// The stream had been working for a while: this is a new failure, not the same one again.
			wait = resubscribeInitial
		}
		r.settings.Logger.Warn("Docker events stream ended; subscribing again", zap.Error(err), zap.Duration("after", wait))
		if !r.waitForDaemon(ctx, wait) {
			return
		}
		r.telemetry.reconnect(ctx)
		wait = min(2*wait, resubscribeMax)
	}
}

// eventBacklog is how many events openAhead may have passed on before they are handled.
const eventBacklog = 1024

// followEvents handles events until the stream fails or ctx ends; since advances with each event.
func (r *logsReceiver) followEvents(ctx context.Context, msgs <-chan events.Message, errs <-chan error, since *time.Time) error {
	ticker := time.NewTicker(r.cfg.ReconcileInterval)
	defer ticker.Stop()
	// Handling an event can take requests (inspect, saved position): new containers' streams are opened ahead of it.
	aheadCtx, stopAhead := context.WithCancel(ctx)
	ahead := make(chan events.Message, eventBacklog)
	var wg sync.WaitGroup
	wg.Go(func() { r.openAhead(aheadCtx, ctx, msgs, ahead) })
	defer func() {
		stopAhead()
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return err
		case msg := <-ahead:
			// since is sent in whole seconds (Podman reads no fraction): the replay may begin up to a second
			// early, with a container's run from before the receiver, which is history (dropped by openAhead).
			*since = time.Unix(0, msg.TimeNano)
			r.handleEvent(ctx, msg)
		case <-ticker.C:
			r.reconcile(ctx)
		}
	}
}

// handleEvent applies one container event; events may repeat after a resubscription, so each is idempotent.
func (r *logsReceiver) handleEvent(ctx context.Context, msg events.Message) {
	id := msg.Actor.ID
	msg.Action = docker.NormalizeAction(msg.Action)
	r.telemetry.event(ctx, msg)
	if msg.Action == events.ActionDestroy {
		// Before the container is forgotten, so that its record carries what the receiver knew of it.
		r.emitLifecycle(msg)
	} else {
		// After the switch: a container that starts is known once it is tracked.
		defer r.emitLifecycle(msg)
	}
	switch msg.Action {
	case events.ActionStart, events.ActionRestart:
		// Started after the receiver: read from that start. A known container is read again even if its
		// last turn, ending just now, found it stopped.
		if c := r.containers.get(id); c != nil {
			if c.is(unreadable) {
				c.setState(readable)
			}
			r.restarted(ctx, c)
		}
		if r.track(ctx, id, &msg) {
			r.pool.Again(id)
		}
	case events.ActionDestroy:
		r.forget(ctx, id)
	case events.ActionRename:
		r.renamed(ctx, id, strings.TrimPrefix(msg.Actor.Attributes["name"], "/"))
	case events.ActionDie:
		// Nothing to do: the container's stream ends by itself once its last line was sent.
	}
}

// reconcile lists the running containers and makes sure each is known and has turns, then forgets the containers
// that are gone; it reports whether the list of running containers worked.
func (r *logsReceiver) reconcile(ctx context.Context) bool {
	list, err := r.client.ListRunning(ctx, r.filter.EngineLabelFilters())
	if err != nil {
		if ctx.Err() == nil {
			r.settings.Logger.Warn("Listing containers failed", zap.Error(err))
			r.health.daemonFailed(err)
		}
		return false
	}
	r.health.daemonAnswered()
	if r.identityPending() {
		r.readDaemonIdentity(ctx)
	}
	for _, s := range list {
		if r.track(ctx, s.ID, nil) {
			r.pool.Add(s.ID)
		}
	}
	r.prune(ctx)
	return true
}

// resumeExited finishes reading the containers that exited while no receiver ran, from their saved positions;
// it reports whether the daemon answered. An exited container without a saved position is history, not read.
func (r *logsReceiver) resumeExited(ctx context.Context) bool {
	if r.cfg.Storage == nil {
		return true
	}
	list, err := r.client.ListExited(ctx, r.filter.EngineLabelFilters())
	if err != nil {
		if ctx.Err() == nil {
			r.settings.Logger.Warn("Listing exited containers failed", zap.Error(err))
		}
		return false
	}
	for _, s := range list {
		if r.containers.get(s.ID) != nil {
			continue
		}
		if _, saved, err := r.store.Load(ctx, s.ID); err != nil || !saved {
			continue
		}
		if r.track(ctx, s.ID, nil) {
			r.pool.Add(s.ID)
		}
	}
	return true
}

// track makes the container known, reading its metadata and saved position; it reports whether it can be read.
//
// A container seen through its start event (start) is read from that start, found without a request
// (newRunStart), and its stream was opened already (openAhead): if it is gone before it could be inspected, the
// event's attributes stand in for its metadata and the stream's first bytes tell whether it has a TTY, and if
// nothing of it can be read, it is counted as removed unread. One that started after the receiver is read from
// that start too; one already running when the receiver started begins where start_at says (startPoint).
func (r *logsReceiver) track(ctx context.Context, id string, start *events.Message) bool {
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
	if c.multiline, err = r.cfg.multilineOf(c.meta.Labels); err != nil {
		c.multiline = r.cfg.Multiline.ruleOrNil()
		r.settings.Logger.Warn("A container's multiline labels are invalid; its lines are grouped by the receiver's multiline setting",
			zap.String("container.id", id), zap.String("container.name", c.meta.Name), zap.Error(err))
	}
	c.limit = r.limitOf(c.meta)
	r.considerFiles(info)
	cursor, saved, err := r.store.Load(ctx, id)
	if err != nil {
		// Reading it as new could deliver its whole log again: wait for the storage instead.
		r.settings.Logger.Warn("Loading the saved read position failed; trying again at the next reconcile",
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
				r.settings.Logger.Warn("Finding where to start reading a container's log failed; trying again at the next reconcile",
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
func (r *logsReceiver) inspectNew(ctx context.Context, id string, start *events.Message) (*trackedContainer, container.InspectResponse, bool) {
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
			r.settings.Logger.Warn("Inspecting a container failed", zap.String("container.id", id), zap.Error(err))
			r.health.daemonFailed(err)
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

// renamed applies the rules to the new name: a container may come into or fall out of the selection.
func (r *logsReceiver) renamed(ctx context.Context, id, name string) {
	r.excluded.remove(id)
	c := r.containers.get(id)
	if c == nil {
		if r.track(ctx, id, nil) {
			r.pool.Add(id)
		}
		return
	}
	r.containers.rename(id, name)
	switch selected := r.selects(c.metadata()); {
	case !selected && c.is(readable):
		// Kept with its position: renamed back, it resumes where it stopped.
		c.setState(deselected)
		r.pool.Remove(id)
	case selected && c.is(deselected):
		c.setState(readable)
		r.pool.Add(id)
	}
}

// forget drops a container that is gone, and its saved position.
func (r *logsReceiver) forget(ctx context.Context, id string) {
	r.excluded.remove(id)
	if c := r.containers.get(id); c != nil {
		reading, unread := c.forgetNow()
		if reading {
			// The turn reading it, or about to read the stream opened at its start, reads on to the end of its
			// log (the stream ends there, the container being gone), then reports what is missing and lets it go.
			r.files.forget(id)
			r.deletePosition(ctx, id)
			if c.claimEarly() {
				// The stream opened at its start waits for a slot the pool may not free for a time slice: it is open
				// already and ends with the log, so it is read now.
				r.pool.Remove(id)
				r.wg.Go(func() { r.readTurn(ctx, c, nil) })
			}
			return
		}
		if unread {
			cur, started := c.removalSpan()
			r.removedUnread(ctx, id, c.metadata().Name, cur, started)
		}
	} else if cur, saved, err := r.store.Load(ctx, id); err == nil && saved && !cur.Ended {
		// Removed while no receiver ran, or before it was tracked again: its saved position tells.
		r.removedUnread(ctx, id, "", cur, 0)
	}
	r.early.discard(id)
	r.pool.Remove(id)
	r.containers.remove(id)
	r.files.forget(id)
	r.labelWarnings.Forget(id)
	r.deletePosition(ctx, id)
}

// deletePosition removes a container's saved position.
func (r *logsReceiver) deletePosition(ctx context.Context, id string) {
	if err := r.store.Delete(ctx, id); err != nil && ctx.Err() == nil {
		r.settings.Logger.Warn("Deleting the saved read position failed", zap.String("container.id", id), zap.Error(err))
	}
}

// daemonPollInterval spaces the pings that tell when an unreachable daemon answers again.
const daemonPollInterval = 250 * time.Millisecond

// waitForDaemon waits d before subscribing again, but no longer than until an unreachable daemon answers
// again: a backoff that grew while the daemon was down must not delay reading once it is back. A daemon that
// answers from the start is waited for the whole d, so a subscription that keeps failing still backs off.
// It returns false when ctx ended first.
func (r *logsReceiver) waitForDaemon(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	if r.pingOnce(ctx) == nil {
		return sleep(ctx, d)
	}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return ctx.Err() == nil
		}
		if !sleep(ctx, min(daemonPollInterval, left)) {
			return false
		}
		if r.pingOnce(ctx) == nil {
			return true
		}
	}
}

// pingOnce asks the daemon whether it answers, giving it at most a second.
func (r *logsReceiver) pingOnce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return r.client.Ping(ctx)
}

// sleep waits d; it returns false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
