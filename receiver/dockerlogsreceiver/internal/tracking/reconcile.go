package tracking

import (
	"context"
	"slices"

	"go.uber.org/zap"
)

// reconcile lists the running containers and makes sure each is known and has turns, then forgets the containers
// that are gone; it reports whether the list of running containers worked.
func (r *Tracker) reconcile(ctx context.Context) bool {
	list, err := r.client.ListRunning(ctx, r.filter.EngineLabelFilters())
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("Listing containers failed", zap.Error(err))
			r.health.DaemonFailed(err)
		}
		return false
	}
	r.health.DaemonAnswered()
	if r.identity.pending() {
		r.identity.read(ctx)
	}
	for _, s := range list {
		if r.admit.trackListed(ctx, s) {
			r.pool.Add(s.ID)
		}
	}
	// Containers whose start event could not be handled: one that already exited is in no list.
	for _, msg := range r.early.deferredStarts() {
		if r.admit.track(ctx, msg.Actor.ID, &msg) {
			r.pool.Again(msg.Actor.ID)
		}
	}
	r.prune(ctx)
	return true
}

// resumeExited finishes reading the containers that exited while no receiver ran, from their saved positions;
// it reports whether the daemon answered. An exited container without a saved position is history, not read.
func (r *Tracker) resumeExited(ctx context.Context) bool {
	if !r.cfg.Storage {
		return true
	}
	list, err := r.client.ListExited(ctx, r.filter.EngineLabelFilters())
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("Listing exited containers failed", zap.Error(err))
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
		if r.admit.track(ctx, s.ID, nil) {
			r.pool.Add(s.ID)
		}
	}
	return true
}

// prune forgets every container the daemon no longer has: its saved position and what the receiver keeps of it.
//
// A destroy event does this as it happens; prune repairs the events that were missed and the containers removed
// while no receiver ran. Only a list that worked counts, and it is the daemon's full list, whatever the rules
// select: a container that exists keeps its position, excluded or renamed out of the rules, so that it resumes
// if it comes back.
func (r *Tracker) prune(ctx context.Context) {
	// Taken before the list: an ID known before the list and missing from it was removed, while one learnt
	// after it may be a container created since.
	known := slices.Concat(r.store.IDs(), r.containers.ids(), r.excluded.list())
	if len(known) == 0 {
		return
	}
	list, err := r.client.ListAll(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("Listing all containers failed; saved positions are not pruned", zap.Error(err))
		}
		return
	}
	exists := make(map[string]bool, len(list))
	for _, s := range list {
		exists[s.ID] = true
	}
	for _, id := range known {
		if !exists[id] && ctx.Err() == nil {
			r.logger.Info("Forgetting a container the daemon no longer has", zap.String("container.id", id))
			r.forget(ctx, id)
		}
	}
}
