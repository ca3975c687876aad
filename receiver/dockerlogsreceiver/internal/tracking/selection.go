package tracking

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
)

// metaOf collects what the rules and the records need from an inspected container.
//
// Only the environment variables named in env_vars_to_attributes are read: environments often hold secrets.
func (r *core) metaOf(info container.InspectResponse) records.Meta {
	m := records.Meta{ID: info.ID, Name: strings.TrimPrefix(info.Name, "/")}
	if info.Config == nil {
		return m
	}
	m.Image = info.Config.Image
	m.Labels = info.Config.Labels
	r.labelMapping.Apply(info.Config.Labels, m.SetExtra)
	if len(r.cfg.EnvVarsToAttributes) > 0 {
		for _, kv := range info.Config.Env {
			name, value, _ := strings.Cut(kv, "=")
			if attr, ok := r.cfg.EnvVarsToAttributes[name]; ok {
				m.SetExtra(attr, value)
			}
		}
	}
	return m
}

// selects applies the container's enabled label, then the include and exclude rules.
//
// The label is the application team's word on its own container: false leaves it out whatever the rules, and
// with include_by_label_only nothing but true lets it in. A value that is not a boolean is warned once and
// taken as absent.
func (r *core) selects(m records.Meta) bool {
	enabled, set, bad := labelOptIn(m.Labels)
	if bad != "" {
		r.labelWarnings.Once(r.logger, m, enabledLabel, bad,
			"A container label has a value that is not true or false; it is ignored")
	}
	switch {
	case set && !enabled:
		return false
	case r.cfg.IncludeByLabelOnly && !enabled:
		return false
	}
	return r.filter.Selects(selection.Container{Name: m.Name, Image: m.Image, Labels: m.Labels})
}

// excludedSet remembers the containers the rules excluded, so that a reconcile does not inspect them again.
type excludedSet struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

func newExcludedSet() *excludedSet {
	return &excludedSet{ids: map[string]struct{}{}}
}

func (s *excludedSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids[id] = struct{}{}
}

func (s *excludedSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
}

func (s *excludedSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

// list returns the IDs of the excluded containers.
func (s *excludedSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.ids))
	for id := range s.ids {
		ids = append(ids, id)
	}
	return ids
}

func (s *excludedSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// renamed applies the rules to the new name: a container may come into or fall out of the selection.
func (r *Tracker) renamed(ctx context.Context, id, name string) {
	r.excluded.remove(id)
	c := r.containers.get(id)
	if c == nil {
		if r.admit.track(ctx, id, nil) {
			r.pool.Add(id)
		}
		return
	}
	r.containers.rename(id, name)
	switch selected := r.selects(c.metadata()); {
	case !selected && c.is(readable):
		// Kept with its position: renamed back, it resumes where it stopped.
		c.setState(deselected)
		r.pool.Remove(id)
	case selected && c.is(deselected):
		c.setState(readable)
		r.pool.Add(id)
	}
}

// labelOptIn reads a container's enabled label: set says it is there with a valid value.
func labelOptIn(labels map[string]string) (enabled, set bool, bad string) {
	v, ok := labels[enabledLabel]
	if !ok {
		return false, false, ""
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, false, v
	}
	return b, true, ""
}
