package docker

import (
	"context"
	"fmt"
	"sync"

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

// daemon kinds, as remembered by engine.kind.
const (
	kindUnknown int32 = iota
	kindDocker
	kindPodman
)

// engine is what the client knows of the daemon that answers it.
type engine struct {
	mu sync.Mutex
	// id is the daemon's ID as Info last read it, empty before.
	id string
	// kind is whether the daemon is Docker or Podman, once read; a failed read leaves it as it was.
	kind int32
	// api is the newest Engine API version the daemon speaks, read with kind.
	api string
	// generation counts the daemons seen, so that a kind read from one is not kept for the next.
	generation uint64
}

// seen notes the ID of the daemon that answered: another than before means another daemon, whose kind is read again.
func (e *engine) seen(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id == "" || id == e.id {
		return
	}
	if e.id != "" {
		e.kind = kindUnknown
		e.generation++
	}
	e.id = id
}

// known returns the kind remembered, and the generation it belongs to.
func (e *engine) known() (int32, uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.kind, e.generation
}

// learn remembers kind and api, unless another daemon was seen since generation.
func (e *engine) learn(kind int32, api string, generation uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.generation == generation {
		e.kind, e.api = kind, api
	}
}

// apiVersion returns the API version remembered with the kind.
func (e *engine) apiVersion() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.api
}

// IsPodman reports whether the daemon is Podman's Docker-compatible service, whose version lists a "Podman
// Engine" component, or an error when that is not known yet and the daemon's version cannot be read. The
// answer, once read, holds for the daemon: a failed read never changes it, and it is read again only after Info
// found another daemon (another ID) answering, as after a reconnect to a replaced one.
func (c *Client) IsPodman(ctx context.Context) (bool, error) {
	kind, generation := c.engine.known()
	if kind != kindUnknown {
		return kind == kindPodman, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := c.api.ServerVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("read the daemon's version: %w", err)
	}
	kind = kindDocker
	for _, comp := range v.Components {
		if comp.Name == "Podman Engine" {
			kind = kindPodman
			break
		}
	}
	c.engine.learn(kind, v.APIVersion, generation)
	return kind == kindPodman, nil
}

// DaemonAPIVersion returns the newest Engine API version the daemon speaks (its own, not the one negotiated), read
// once with its kind (IsPodman), or an error when it is not known yet and cannot be read.
func (c *Client) DaemonAPIVersion(ctx context.Context) (string, error) {
	if _, err := c.IsPodman(ctx); err != nil {
		return "", err
	}
	return c.engine.apiVersion(), nil
}

// knownDocker reports whether the daemon is known to be Docker: one that may be Podman is treated as Podman.
func (c *Client) knownDocker(ctx context.Context) bool {
	podman, err := c.IsPodman(ctx)
	return err == nil && !podman
}
