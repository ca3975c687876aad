package dockerlogsreceiver

import (
	"strings"

	"github.com/docker/docker/api/types/events"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// eventMeta returns the resource of an event's container and whether its events are to be emitted: those of
// a container the receiver reads, or, for one it does not know (yet, or any more), one the rules select.
func (r *logsReceiver) eventMeta(msg events.Message) (records.Meta, bool) {
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
func (r *logsReceiver) emitLifecycle(msg events.Message) {
	if !r.lifecycle.Wants(msg) {
		return
	}
	if meta, ok := r.eventMeta(msg); ok {
		r.lifecycle.Offer(meta, msg)
	}
}
