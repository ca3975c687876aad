package selection

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var web = Container{Name: "shop-web-1", Image: "registry:5000/shop/web:1.2", Labels: map[string]string{"team": "payments", "env": "prod"}}
var db = Container{Name: "shop-db-1", Image: "postgres:16", Labels: map[string]string{"team": "platform"}}

func TestFilterRules(t *testing.T) {
	for _, tc := range []struct {
		name             string
		include, exclude Rules
		web, db          bool
	}{
		{"no rules read everything", Rules{}, Rules{}, true, true},
		{"include name literal", Rules{Names: []string{"shop-db-1"}}, Rules{}, false, true},
		{"include name glob", Rules{Names: []string{"shop-w*"}}, Rules{}, true, false},
		{"include name regex", Rules{Names: []string{"/^shop-(web|api)-[0-9]+$/"}}, Rules{}, true, false},
		{"include name negated", Rules{Names: []string{"!shop-web-*"}}, Rules{}, false, true},
		{"include image glob across slashes", Rules{Images: []string{"registry:5000/*"}}, Rules{}, true, false},
		{"include image literal", Rules{Images: []string{"postgres:16"}}, Rules{}, false, true},
		{"include label literal", Rules{Labels: map[string]string{"team": "payments"}}, Rules{}, true, false},
		{"include label negated matches absent labels", Rules{Labels: map[string]string{"env": "!prod"}}, Rules{}, false, true},
		{"include kinds are ANDed", Rules{Names: []string{"shop-*"}, Labels: map[string]string{"team": "platform"}}, Rules{}, false, true},
		{"exclude name", Rules{}, Rules{Names: []string{"*-db-*"}}, true, false},
		{"exclude image regex", Rules{}, Rules{Images: []string{"/^postgres:/"}}, true, false},
		{"exclude label", Rules{}, Rules{Labels: map[string]string{"env": "prod"}}, false, true},
		{"exclude negated", Rules{}, Rules{Images: []string{"!postgres:*"}}, false, true},
		{"exclude wins over include", Rules{Names: []string{"shop-*"}}, Rules{Names: []string{"shop-web-1"}}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFilter(tc.include, tc.exclude)
			require.NoError(t, err)
			assert.Equal(t, tc.web, f.Selects(web), "web")
			assert.Equal(t, tc.db, f.Selects(db), "db")
		})
	}
}

func TestFilterErrorsNameTheKey(t *testing.T) {
	_, err := NewFilter(Rules{Names: []string{"ok", "/[/"}}, Rules{})
	assert.EqualError(t, err, "include.names[1]: invalid regular expression \"/[/\": error parsing regexp: missing closing ]: `[`")

	_, err = NewFilter(Rules{}, Rules{Images: []string{"app[:1"}})
	assert.EqualError(t, err, `exclude.images[0]: invalid glob "app[:1": unexpected end of input`)

	_, err = NewFilter(Rules{Labels: map[string]string{"team": "!"}}, Rules{Names: []string{""}})
	assert.EqualError(t, err, "include.labels[team]: empty pattern\nexclude.names[0]: empty pattern")
}

func TestEngineLabelFiltersPushOnlyLiterals(t *testing.T) {
	f, err := NewFilter(Rules{Names: []string{"x"}, Labels: map[string]string{"team": "payments", "env": "!dev", "tier": "web*", "app": "shop"}}, Rules{})
	require.NoError(t, err)
	assert.Equal(t, []string{"app=shop", "team=payments"}, f.EngineLabelFilters())
	f, err = NewFilter(Rules{}, Rules{Labels: map[string]string{"team": "payments"}})
	require.NoError(t, err)
	assert.Empty(t, f.EngineLabelFilters(), "exclude rules cannot be pushed")
}

func FuzzPatternNeverPanics(f *testing.F) {
	for _, s := range []string{"a", "!a*", "/a+/", "[", "{a,b}", "/", "!/x/"} {
		f.Add(s, "abc")
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		p, err := compilePattern(pat)
		if err != nil {
			return
		}
		neg := p
		neg.negated = !neg.negated
		assert.NotEqual(t, p.matches(s), neg.matches(s), "negation inverts")
	})
}
