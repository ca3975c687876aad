package selection

import (
	"errors"
	"fmt"
	"sort"
)

// Rules are the patterns of one side, include or exclude, as configured.
type Rules struct {
	// Names are patterns on the container name (without the leading /).
	Names []string `mapstructure:"names"`
	// Images are patterns on the image reference the container was created from.
	Images []string `mapstructure:"images"`
	// Labels map a label key to a pattern on its value; an absent label has the empty value.
	Labels map[string]string `mapstructure:"labels"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Container is what the rules look at.
type Container struct {
	Name   string
	Image  string
	Labels map[string]string
}

// compiled holds one side's parsed rules.
type compiled struct {
	names, images patternList
	labelKeys     []string
	labels        map[string]pattern
}

func (r Rules) compile(side string) (compiled, error) {
	var c compiled
	var errs []error
	var err error
	if c.names, err = compileList(side+".names", r.Names); err != nil {
		errs = append(errs, err)
	}
	if c.images, err = compileList(side+".images", r.Images); err != nil {
		errs = append(errs, err)
	}
	c.labels = map[string]pattern{}
	for key, value := range r.Labels {
		p, err := compilePattern(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.labels[%s]: %w", side, key, err))
			continue
		}
		c.labels[key] = p
		c.labelKeys = append(c.labelKeys, key)
	}
	// Map order is random: sorted keys keep errors and engine filters stable.
	sort.Strings(c.labelKeys)
	return c, errors.Join(errs...)
}

func (c compiled) empty() bool {
	return len(c.names) == 0 && len(c.images) == 0 && len(c.labels) == 0
}
