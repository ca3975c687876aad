package tracking

import (
	"slices"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// View is a look at what a Tracker tracks.
type View struct {
	c *core
}

// Known returns how many containers are tracked.
func (v View) Known() int {
	return v.c.containers.len()
}

// Tracks reports whether the container is tracked.
func (v View) Tracks(id string) bool {
	return v.c.containers.get(id) != nil
}

// IDs returns the tracked containers, sorted.
func (v View) IDs() []string {
	return slices.Sorted(slices.Values(v.c.containers.ids()))
}

// Excluded reports whether the rules excluded the container.
func (v View) Excluded(id string) bool {
	return v.c.excluded.has(id)
}

// ExcludedIDs returns the containers the rules excluded.
func (v View) ExcludedIDs() []string {
	return v.c.excluded.list()
}

// ReadToEnd reports whether the container is tracked and its log was read to the end after it stopped.
func (v View) ReadToEnd(id string) bool {
	c := v.c.containers.get(id)
	return c != nil && c.position().Ended
}

// Parked reports whether a stream opened at the container's start waits for its first turn.
func (v View) Parked(id string) bool {
	return v.c.early.parked(id)
}

// OnFiles returns how many containers are read from their log files.
func (v View) OnFiles() int {
	return v.c.files.count()
}

// ReadsFiles reports whether the container is read from its log files.
func (v View) ReadsFiles(id string) bool {
	return v.c.files.opener(id) != nil
}

// Seed puts in place what the events of two containers would have left, the first tracked and the second
// excluded by the rules, so that a test can play events that were missed.
func (v View) Seed(tracked, excluded string) {
	v.c.containers.add(&trackedContainer{meta: records.Meta{ID: tracked}})
	v.c.excluded.add(excluded)
}
