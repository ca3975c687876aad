package tracking

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// eventBacklog is how many events openAhead may have passed on before they are handled.
const eventBacklog = 1024

// followEvents handles events until the stream fails or ctx ends; since advances with each event.
func (r *Tracker) followEvents(ctx context.Context, msgs <-chan events.Message, errs <-chan error, since *time.Time) error {
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
func (r *Tracker) handleEvent(ctx context.Context, msg events.Message) {
	id := msg.Actor.ID
	msg.Action = docker.NormalizeAction(msg.Action)
	r.telemetry.Event(ctx, msg)
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
		if r.admit.track(ctx, id, &msg) {
			r.pool.Again(id)
		}
	case events.ActionDestroy:
		r.forget(ctx, id)
	case events.ActionRename:
		r.renamed(ctx, id, strings.TrimPrefix(msg.Actor.Attributes["name"], "/"))
	case events.ActionDie:
		// The container's stream ends by itself; its log's last entry, read as the event arrived (openAhead),
		// is waited for, so that the destroy that may follow at once finds it.
		r.awaitDieRead(ctx, id)
	}
}

// openAhead opens the stream of each new container as soon as its start event arrives, under streamCtx, and
// starts reading the log's last entry of a tracked container as soon as its die event arrives (died.go), then
// passes every event on in order; create events are only remembered. It returns when ctx ends.
func (r *Tracker) openAhead(ctx, streamCtx context.Context, msgs <-chan events.Message, out chan<- events.Message) {
	for {
		var msg events.Message
		select {
		case <-ctx.Done():
			return
		case msg = <-msgs:
		}
		if msg.TimeNano < r.startedAt.UnixNano() {
			// History replayed after a resubscription (followEvents).
			continue
		}
		id := msg.Actor.ID
		switch docker.NormalizeAction(msg.Action) {
		case events.ActionCreate:
			r.early.sawCreate(id)
			continue
		case events.ActionDie:
			r.readAtDie(ctx, msg)
		case events.ActionStart, events.ActionRestart:
			if c := r.containers.get(id); c != nil {
				c.startedAgain()
			}
			if id != r.ownID && r.containers.get(id) == nil && !r.excluded.has(id) {
				if m, selected := r.eventMeta(msg); selected {
					since := r.admit.newRunStart(ctx, msg, nil).Start
					r.early.open(streamCtx, m.ID, docker.LogsRequest{Since: since, Follow: true}, r.cfg.MaxConcurrentStreams, r.openLogs)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case out <- msg:
		}
	}
}

// eventMeta returns the resource of an event's container and whether its events are to be emitted: those of
// a container the receiver reads, or, for one it does not know (yet, or any more), one the rules select.
func (r *core) eventMeta(msg events.Message) (records.Meta, bool) {
	id := msg.Actor.ID
	if id == r.ownID || r.excluded.has(id) {
		return records.Meta{}, false
	}
	if c := r.containers.get(id); c != nil {
		return c.metadata(), !c.is(deselected)
	}
	// The event carries the container's name, image and labels among its attributes.
	m := records.Meta{ID: id, Name: strings.TrimPrefix(msg.Actor.Attributes["name"], "/"), Image: msg.Actor.Attributes["image"],
		Labels: map[string]string{}}
	for k, v := range msg.Actor.Attributes {
		switch k {
		case "name", "image", "exitCode", "signal", "execDuration":
			continue
		}
		m.Labels[k] = v
	}
	// The mapping of the container's lines (metaOf): its records carry the same attributes.
	r.labelMapping.Apply(m.Labels, m.SetExtra)
	return m, r.selects(m)
}

// emitLifecycle queues the record of msg when lifecycle_events asks for it.
func (r *core) emitLifecycle(msg events.Message) {
	if !r.lifecycle.Wants(msg) {
		return
	}
	if meta, ok := r.eventMeta(msg); ok {
		r.lifecycle.Offer(meta, msg)
	}
}
