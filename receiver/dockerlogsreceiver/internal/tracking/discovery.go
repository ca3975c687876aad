package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/events"
	"go.uber.org/zap"
)

// Backoff between attempts to subscribe to the daemon's events again.
const (
	resubscribeInitial = 500 * time.Millisecond
	resubscribeMax     = 30 * time.Second
)

// Run follows the daemon's container events and a periodic list until ctx ends, and returns once the turns it
// began outside the pool (forget) returned too.
//
// Events catch short-lived containers that a list would miss; the list repairs whatever events were lost.
func (r *Tracker) Run(ctx context.Context) {
	defer r.wg.Wait()
	// Streams not taken by a turn are closed; their context has ended.
	defer r.early.stop()
	// From the receiver's start: a container that started and exited before the first subscription (reading
	// the daemon's identity first takes most of a second on Podman) is in no list of running containers.
	since := r.startedAt
	wait := resubscribeInitial
	resumed := false
	for ctx.Err() == nil {
		r.identity.read(ctx)
		subscribed := time.Now()
		// Create events tell which new containers' logs are wholly their own (newRunStart).
		actions := append(r.cfg.LifecycleActions, events.ActionCreate)
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
		r.health.DaemonFailed(fmt.Errorf("docker events stream ended: %w", err))
		if listed && time.Since(subscribed) > resubscribeMax {
			// The stream had been working for a while: this is a new failure, not the same one again.
			wait = resubscribeInitial
		}
		r.logger.Warn("Docker events stream ended; subscribing again", zap.Error(err), zap.Duration("after", wait))
		if !r.waitForDaemon(ctx, wait) {
			return
		}
		r.telemetry.Reconnect(ctx)
		wait = min(2*wait, resubscribeMax)
	}
}

// daemonPollInterval spaces the pings that tell when an unreachable daemon answers again.
const daemonPollInterval = 250 * time.Millisecond

// waitForDaemon waits d before subscribing again, but no longer than until an unreachable daemon answers
// again: a backoff that grew while the daemon was down must not delay reading once it is back. A daemon that
// answers from the start is waited for the whole d, so a subscription that keeps failing still backs off.
// It returns false when ctx ended first.
func (r *Tracker) waitForDaemon(ctx context.Context, d time.Duration) bool {
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
func (r *Tracker) pingOnce(ctx context.Context) error {
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
