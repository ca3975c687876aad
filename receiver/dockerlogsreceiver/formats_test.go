package dockerlogsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	yaml "go.yaml.in/yaml/v3"
)

// configWithFormats unmarshals a YAML formats map the way the collector does, over the defaults.
func configWithFormats(t *testing.T, formatsYAML string) *Config {
	t.Helper()
	var raw any
	require.NoError(t, yaml.Unmarshal([]byte(formatsYAML), &raw))
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"formats": raw}).Unmarshal(cfg))
	return cfg
}

func TestFormatsConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad regex", `{access: [{type: regex_parser, regex: '(?P<x'}]}`,
			"formats[access][0]: compiling regex: error parsing regexp: invalid named capture: `(?P<x`"},
		{"output", `{json: [{type: stdout}]}`,
			`formats[json][0]: type "stdout" is an output, which would take records out of the pipeline; use an exporter`},
		{"empty", `{nothing: []}`, "formats[nothing]: a format needs at least one operator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, configWithFormats(t, tc.yaml).Validate(), tc.want)
		})
	}
}
