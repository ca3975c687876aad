package records

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// labelWildcard is the one character of container_labels_to_attributes that is not literal.
const labelWildcard = "*"

// LabelMapping copies container labels to resource attributes, as container_labels_to_attributes says.
//
// A key is a label key, or a pattern with one "*" that matches any non-empty part of a label key
// (com.example.* matches com.example.team). The value names the attribute: empty for the label's own key; for a
// pattern, a name with one "*" stands for the part the key's "*" matched (com.example.*: team.* gives team.team).
// Only "*" is special: label keys may hold any other character.
type LabelMapping struct {
	literal     map[string]string // label key -> attribute name
	literalKeys []string          // the keys of literal, sorted
	patterns    []labelPattern    // sorted by key, so that the outcome does not depend on map order
}

// labelPattern is one key with a "*", split around it.
type labelPattern struct {
	prefix, suffix string
	// attrPrefix and attrSuffix surround the matched part in the attribute name; own is set when the attribute
	// takes the label's own key.
	attrPrefix, attrSuffix string
	own                    bool
}

// CompileLabelMapping checks container_labels_to_attributes and prepares it; errors name the entry.
func CompileLabelMapping(m map[string]string) (LabelMapping, error) {
	lm := LabelMapping{literal: map[string]string{}}
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(m)) {
		attr := m[key]
		entry := fmt.Sprintf("container_labels_to_attributes[%s]", key)
		switch keyStars, attrStars := strings.Count(key, labelWildcard), strings.Count(attr, labelWildcard); {
		case key == "":
			errs = append(errs, errors.New("container_labels_to_attributes has an empty label key"))
		case keyStars > 1:
			errs = append(errs, fmt.Errorf("%s: a pattern has one %q", entry, labelWildcard))
		case keyStars == 0 && attrStars > 0:
			errs = append(errs, fmt.Errorf("%s: attribute name %q has a %q, but the label key is not a pattern", entry, attr, labelWildcard))
		case keyStars == 0:
			if attr == "" {
				attr = key
			}
			lm.literal[key] = attr
			lm.literalKeys = append(lm.literalKeys, key)
		case attrStars > 1:
			errs = append(errs, fmt.Errorf("%s: attribute name %q has more than one %q", entry, attr, labelWildcard))
		case attr != "" && attrStars == 0:
			errs = append(errs, fmt.Errorf("%s: attribute name %q must have a %q, standing for what the key's %q matched, or be empty for the label's own key",
				entry, attr, labelWildcard, labelWildcard))
		default:
			p := labelPattern{own: attr == ""}
			p.prefix, p.suffix, _ = strings.Cut(key, labelWildcard)
			p.attrPrefix, p.attrSuffix, _ = strings.Cut(attr, labelWildcard)
			lm.patterns = append(lm.patterns, p)
		}
	}
	return lm, errors.Join(errs...)
}

// match returns the part of key the pattern's "*" matched, and whether it matched.
func (p labelPattern) match(key string) (string, bool) {
	if len(key) <= len(p.prefix)+len(p.suffix) || !strings.HasPrefix(key, p.prefix) || !strings.HasSuffix(key, p.suffix) {
		return "", false
	}
	return key[len(p.prefix) : len(key)-len(p.suffix)], true
}

// apply calls set with each attribute the labels map to. Patterns come first, in the order of their keys, then
// the literal keys: a label named exactly wins over a pattern that gives the same attribute.
func (lm LabelMapping) Apply(labels map[string]string, set func(attr, value string)) {
	if len(lm.patterns) > 0 {
		keys := slices.Sorted(maps.Keys(labels))
		for _, p := range lm.patterns {
			for _, key := range keys {
				part, ok := p.match(key)
				switch {
				case !ok:
				case p.own:
					set(key, labels[key])
				default:
					set(p.attrPrefix+part+p.attrSuffix, labels[key])
				}
			}
		}
	}
	for _, key := range lm.literalKeys {
		if v, ok := labels[key]; ok {
			set(lm.literal[key], v)
		}
	}
}
