package selection

import (
	"errors"
)

// Filter decides whether a container is read.
//
// A container is read when it passes every kind of include rule that is set (its name matches one of the
// names, its image one of the images, and every label rule matches) and matches no exclude rule at all.
// Exclude wins over include.
type Filter struct {
	include, exclude compiled
}

// NewFilter compiles the include and exclude rules; its error names the key of each bad pattern.
func NewFilter(include, exclude Rules) (*Filter, error) {
	in, inErr := include.compile("include")
	ex, exErr := exclude.compile("exclude")
	if err := errors.Join(inErr, exErr); err != nil {
		return nil, err
	}
	return &Filter{include: in, exclude: ex}, nil
}

// Selects reports whether the container is read.
func (f *Filter) Selects(c Container) bool {
	return f.included(c) && !f.excluded(c)
}

func (f *Filter) included(c Container) bool {
	in := f.include
	if len(in.names) > 0 && !in.names.matchesAny(c.Name) {
		return false
	}
	if len(in.images) > 0 && !in.images.matchesAny(c.Image) {
		return false
	}
	for key, p := range in.labels {
		if !p.matches(c.Labels[key]) {
			return false
		}
	}
	return true
}

func (f *Filter) excluded(c Container) bool {
	ex := f.exclude
	if ex.empty() {
		return false
	}
	if ex.names.matchesAny(c.Name) || ex.images.matchesAny(c.Image) {
		return true
	}
	for key, p := range ex.labels {
		if p.matches(c.Labels[key]) {
			return true
		}
	}
	return false
}

// EngineLabelFilters returns the include label rules the engine can apply itself, as "key=value" filters.
//
// Only literal label values are pushed: the engine ANDs label filters exactly as the include rules do, so
// the engine's answer is the same set. Names and images are always matched here: the engine's name filter
// matches substrings, and its image filters match descendants (list) or the create-time reference (events).
func (f *Filter) EngineLabelFilters() []string {
	var out []string
	for _, key := range f.include.labelKeys {
		if p := f.include.labels[key]; p.isLiteral() {
			out = append(out, key+"="+p.literal)
		}
	}
	return out
}
