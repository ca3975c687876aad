package dockerlogsreceiver

import (
	"context"
	"slices"

	"go.uber.org/zap"
)

// prune forgets every container the daemon no longer has: its saved position and what the receiver keeps of it.
//
// A destroy event does this as it happens; prune repairs the events that were missed and the containers removed
// while no receiver ran. Only a list that worked counts, and it is the daemon's full list, whatever the rules
// select: a container that exists keeps its position, excluded or renamed out of the rules, so that it resumes
// if it comes back.
func (r *logsReceiver) prune(ctx context.Context) {
	// Taken before the list: an ID known before the list and missing from it was removed, while one learnt
	// after it may be a container created since.
	known := slices.Concat(r.store.IDs(), r.containers.ids(), r.excluded.list())
	if len(known) == 0 {
		return
	}
	list, err := r.client.ListAll(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.settings.Logger.Warn("Listing all containers failed; saved positions are not pruned", zap.Error(err))
		}
		return
	}
	exists := make(map[string]bool, len(list))
	for _, s := range list {
		exists[s.ID] = true
	}
	for _, id := range known {
		if !exists[id] && ctx.Err() == nil {
			r.settings.Logger.Info("Forgetting a container the daemon no longer has", zap.String("container.id", id))
			r.forget(ctx, id)
		}
	}
}
