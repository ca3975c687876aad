package docker

import (
	"context"

	"github.com/docker/docker/api/types/events"
)

// Podman's Docker-compatible API names some container events otherwise than Docker, and filters by its own names.
const (
	// podmanActionDied is the name Podman's event filter knows a container's exit by: it answers event=die
	// with nothing, though the events it sends say "die".
	podmanActionDied events.Action = "died"
	// podmanActionRemove is Podman's container removal, Docker's destroy; Podman never sends destroy.
	podmanActionRemove events.Action = events.ActionRemove
)

// eventFilterActions are the container events the receiver subscribes to, in both daemons' names.
var eventFilterActions = []events.Action{
	events.ActionStart, events.ActionDie, events.ActionDestroy, events.ActionRename, events.ActionRestart,
	podmanActionDied, podmanActionRemove,
}

// NormalizeAction returns Docker's name for a container event action: Podman's "remove" is "destroy".
func NormalizeAction(a events.Action) events.Action {
	if a == podmanActionRemove {
		return events.ActionDestroy
	}
	return a
}

// Podman's answer to a follow request with a tail: it sends the last entries, then follows the log from where
// the file ends when it starts following, so the lines written in between are never sent (seen with Podman
// 4.3.1: 5 to 10 lines at 400 lines/s, on every such request). Without a tail it follows from the entries it
// sent. So a follow request to Podman asks for everything since its time instead: the first entry returned is
// then the same one a tail that reached back far enough starts with, at the cost of Podman reading the log
// from its start.

// daemon kinds, as remembered by Client.kind.
const (
	kindUnknown int32 = iota
	kindDocker
	kindPodman
)

// IsPodman reports whether the daemon is Podman's Docker-compatible service, whose version lists a "Podman
// Engine" component. The answer is asked once and remembered; a daemon that does not answer is taken for Docker
// and asked again next time.
func (c *Client) IsPodman(ctx context.Context) bool {
	switch c.kind.Load() {
	case kindDocker:
		return false
	case kindPodman:
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := c.api.ServerVersion(ctx)
	if err != nil {
		return false
	}
	for _, comp := range v.Components {
		if comp.Name == "Podman Engine" {
			c.kind.Store(kindPodman)
			return true
		}
	}
	c.kind.Store(kindDocker)
	return false
}
