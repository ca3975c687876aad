package dockerlogsreceiver

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/events"
)

// lifecycleActions are the container events that lifecycle_events can turn into records, by the name
// lifecycle_events.events takes (the daemon's action name), in the order a container's life goes through them.
var lifecycleActions = []events.Action{
	events.ActionStart,
	events.ActionRestart,
	events.ActionHealthStatus,
	events.ActionOOM,
	events.ActionDie,
	events.ActionDestroy,
}

// LifecycleEventsConfig turns container lifecycle events into log records of the same pipeline.
type LifecycleEventsConfig struct {
	// Enabled turns the records on; off by default.
	Enabled bool `mapstructure:"enabled"`
	// Events lists the events to emit (start, restart, health_status, oom, die, destroy); empty means all of them.
	Events []string `mapstructure:"events"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// validate names the key of every event it does not know.
func (c LifecycleEventsConfig) validate() error {
	var errs []error
	for i, e := range c.Events {
		if !slices.Contains(lifecycleActions, events.Action(e)) {
			errs = append(errs, fmt.Errorf("lifecycle_events.events[%d]: unknown event %q (want one of %s)", i, e, actionList()))
		}
	}
	return errors.Join(errs...)
}

// actions returns the daemon actions to subscribe to and emit: none when disabled.
func (c LifecycleEventsConfig) actions() []events.Action {
	if !c.Enabled {
		return nil
	}
	if len(c.Events) == 0 {
		return lifecycleActions
	}
	out := make([]events.Action, 0, len(c.Events))
	for _, e := range c.Events {
		out = append(out, events.Action(e))
	}
	return out
}

func actionList() string {
	names := make([]string, len(lifecycleActions))
	for i, a := range lifecycleActions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}
