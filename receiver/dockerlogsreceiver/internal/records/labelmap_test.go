package records

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLabelMappingApply(t *testing.T) {
	labels := map[string]string{
		"com.example.team":               "payments",
		"com.example.tier":               "web",
		"com.example.":                   "empty part",
		"org.opencontainers.image.title": "shop",
		"maintainer":                     "ops@example.com",
		"a.b.version":                    "2",
	}
	for _, tc := range []struct {
		name    string
		mapping map[string]string
		want    map[string]string
	}{
		{"literal", map[string]string{"maintainer": "owner", "absent": "never"}, map[string]string{"owner": "ops@example.com"}},
		{"literal under its own key", map[string]string{"maintainer": ""}, map[string]string{"maintainer": "ops@example.com"}},
		{"pattern under the labels' own keys", map[string]string{"com.example.*": ""},
			map[string]string{"com.example.team": "payments", "com.example.tier": "web"}},
		{"pattern to a prefix", map[string]string{"com.example.*": "app.*"}, map[string]string{"app.team": "payments", "app.tier": "web"}},
		{"pattern to the matched part alone", map[string]string{"org.opencontainers.image.*": "*"}, map[string]string{"title": "shop"}},
		{"star in the middle", map[string]string{"a.*.version": "*_version"}, map[string]string{"b_version": "2"}},
		{"star alone copies every label", map[string]string{"*": "label.*"}, map[string]string{
			"label.com.example.team": "payments", "label.com.example.tier": "web", "label.com.example.": "empty part",
			"label.org.opencontainers.image.title": "shop", "label.maintainer": "ops@example.com", "label.a.b.version": "2",
		}},
		{"a literal wins over a pattern giving the same name", map[string]string{"com.example.*": "*", "maintainer": "team"},
			map[string]string{"team": "ops@example.com", "tier": "web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lm, err := CompileLabelMapping(tc.mapping)
			require.NoError(t, err)
			got := map[string]string{}
			lm.Apply(labels, func(attr, value string) { got[attr] = value })
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestLabelMappingErrorsNameTheEntry(t *testing.T) {
	for _, tc := range []struct {
		mapping map[string]string
		want    string
	}{
		{map[string]string{"com.*.team.*": "x.*"}, `container_labels_to_attributes[com.*.team.*]: a pattern has one "*"`},
		{map[string]string{"team": "team.*"}, `container_labels_to_attributes[team]: attribute name "team.*" has a "*", but the label key is not a pattern`},
		{map[string]string{"com.example.*": "team"}, `container_labels_to_attributes[com.example.*]: attribute name "team" must have a "*", standing for what the key's "*" matched, or be empty for the label's own key`},
		{map[string]string{"com.example.*": "*.*"}, `container_labels_to_attributes[com.example.*]: attribute name "*.*" has more than one "*"`},
		{map[string]string{"": "x"}, `container_labels_to_attributes has an empty label key`},
	} {
		_, err := CompileLabelMapping(tc.mapping)
		assert.EqualError(t, err, tc.want)
	}
	_, err := CompileLabelMapping(map[string]string{"b.*": "x", "a.*": "y"})
	assert.EqualError(t, err, `container_labels_to_attributes[a.*]: attribute name "y" must have a "*", standing for what the key's "*" matched, or be empty for the label's own key
container_labels_to_attributes[b.*]: attribute name "x" must have a "*", standing for what the key's "*" matched, or be empty for the label's own key`,
		"every entry is reported, in the order of the keys")
}
