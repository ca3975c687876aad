package docker

import "github.com/docker/docker/api/types/events"

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
