// Package selection decides which containers are read: include and exclude rules on name, image and label.
package selection

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gobwas/glob"
)

// pattern matches one string: a literal, a glob (with * ? [ or {) or a /regular expression/; a leading ! negates it.
type pattern struct {
	negated bool
	literal string
	glob    glob.Glob
	regex   *regexp.Regexp
}

// compilePattern parses one rule item; its error says what is wrong with the item.
func compilePattern(s string) (pattern, error) {
	var p pattern
	if strings.HasPrefix(s, "!") {
		p.negated = true
		s = s[1:]
	}
	switch {
	case s == "":
		return p, fmt.Errorf("empty pattern")
	case len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/"):
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return p, fmt.Errorf("invalid regular expression %q: %w", s, err)
		}
		p.regex = re
	case strings.ContainsAny(s, "*?[{"):
		g, err := glob.Compile(s)
		if err != nil {
			return p, fmt.Errorf("invalid glob %q: %w", s, err)
		}
		p.glob = g
	default:
		p.literal = s
	}
	return p, nil
}

// matches reports whether s matches the pattern, negation applied.
func (p pattern) matches(s string) bool {
	var m bool
	switch {
	case p.regex != nil:
		m = p.regex.MatchString(s)
	case p.glob != nil:
		m = p.glob.Match(s)
	default:
		m = p.literal == s
	}
	return m != p.negated
}

// isLiteral reports whether the pattern is a plain value that the engine can match itself.
func (p pattern) isLiteral() bool {
	return !p.negated && p.regex == nil && p.glob == nil
}

// patternList matches when any of its patterns matches.
type patternList []pattern

// compileList parses a rule list; errors name the key and the item's index.
func compileList(key string, items []string) (patternList, error) {
	list := make(patternList, 0, len(items))
	for i, s := range items {
		p, err := compilePattern(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		list = append(list, p)
	}
	return list, nil
}

func (l patternList) matchesAny(s string) bool {
	for _, p := range l {
		if p.matches(s) {
			return true
		}
	}
	return false
}
