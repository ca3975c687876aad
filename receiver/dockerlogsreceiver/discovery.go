package dockerlogsreceiver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/docker"
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
	// From the receiver's start: a container that started and exited before the first subscription (reading
	// the daemon's identity first takes most of a second on Podman) is in no list of running containers.
	since := r.startedAt
	wait := resubscribeInitial
	resumed := false
	for ctx.Err() == nil {
		r.readDaemonIdentity(ctx)
		subscribed := time.Now()
		msgs, errs := r.client.ContainerEvents(ctx, since, r.filter.EngineLabelFilters(), r.cfg.LifecycleEvents.actions()...)
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

// followEvents handles events until the stream fails or ctx ends; since advances with each event.
func (r *logsReceiver) followEvents(ctx context.Context, msgs <-chan events.Message, errs <-chan error, since *time.Time) error {
	ticker := time.NewTicker(r.cfg.ReconcileInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return err
		case msg := <-msgs:
			// since is sent in whole seconds (Podman reads no fraction): the replay may begin up to a second
			// early, with a container's run from before the receiver, which is history.
			if msg.TimeNano < r.startedAt.UnixNano() {
				continue
			}
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
		if r.track(ctx, id, true) {
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
		if r.track(ctx, s.ID, false) {
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
		if r.track(ctx, s.ID, false) {
			r.pool.Add(s.ID)
		}
	}
	return true
}

// track makes the container known, reading its metadata and saved position; it reports whether it can be read.
//
// A container seen through its start event, or that started after the receiver, is read from that start (and
// with start_at: beginning, its earlier runs too); one already running when the receiver started begins where
// start_at says (startPoint).
func (r *logsReceiver) track(ctx context.Context, id string, fromStartEvent bool) bool {
	if c := r.containers.get(id); c != nil {
		return c.is(readable)
	}
	if id == r.ownID || r.excluded.has(id) {
		return false
	}
	info, err := r.client.Inspect(ctx, id)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, docker.ErrGone) {
			r.settings.Logger.Warn("Inspecting a container failed", zap.String("container.id", id), zap.Error(err))
			r.health.daemonFailed(err)
		}
		return false
	}
	c := &trackedContainer{meta: r.metaOf(info), logFileSize: rotatingFileSize(info.HostConfig)}
	if info.Config != nil {
		c.tty = info.Config.Tty
	}
	if info.State != nil {
		if started, err := time.Parse(time.RFC3339Nano, info.State.StartedAt); err == nil && started.Unix() > 0 {
			c.startedAt = started.UnixNano()
		}
	}
	if !r.selects(c.meta) {
		r.excluded.add(id)
		return false
	}
	if c.multiline, err = r.cfg.multilineOf(c.meta.Labels); err != nil {
		c.multiline = r.cfg.Multiline.ruleOrNil()
		r.settings.Logger.Warn("A container's multiline labels are invalid; its lines are grouped by the receiver's multiline setting",
			zap.String("container.id", id), zap.String("container.name", c.meta.Name), zap.Error(err))
	}
	c.limit = r.limitOf(c.meta)
	startedAfterReceiver := fromStartEvent
	if info.State != nil {
		if started, err := time.Parse(time.RFC3339Nano, info.State.StartedAt); err == nil && started.After(r.startedAt) {
			startedAfterReceiver = true
		}
	}
	r.considerFiles(info)
	cursor, saved, err := r.store.Load(ctx, id)
	if err != nil {
		// Reading it as new could deliver its whole log again: wait for the storage instead.
		r.settings.Logger.Warn("Loading the saved read position failed; trying again at the next reconcile",
			zap.String("container.id", id), zap.Error(err))
		return false
	}
	if saved {
		c.cursor = cursor
	} else {
		if c.cursor, err = r.startPoint(ctx, c, info, startedAfterReceiver); err != nil {
			if ctx.Err() == nil {
				r.settings.Logger.Warn("Finding where to start reading a container's log failed; trying again at the next reconcile",
					zap.String("container.id", id), zap.Error(err))
			}
			return false
		}
		if c.cursor != (checkpoint.Cursor{}) {
			// Saved at once, so that a restart before the first delivery does not move it.
			r.savePosition(ctx, c, c.cursor)
		}
	}
	r.containers.add(c)
	return true
}

// renamed applies the rules to the new name: a container may come into or fall out of the selection.
func (r *logsReceiver) renamed(ctx context.Context, id, name string) {
	r.excluded.remove(id)
	c := r.containers.get(id)
	if c == nil {
		if r.track(ctx, id, false) {
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
		if reading, unread := c.forgetNow(); unread && !reading {
			cur, started := c.removalSpan()
			r.removedUnread(ctx, id, c.metadata().Name, cur, started)
		}
	} else if cur, saved, err := r.store.Load(ctx, id); err == nil && saved && !cur.Ended {
		// Removed while no receiver ran, or before it was tracked again: its saved position tells.
		r.removedUnread(ctx, id, "", cur, 0)
	}
	r.pool.Remove(id)
	r.containers.remove(id)
	r.files.forget(id)
	r.labelWarnings.forget(id)
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
