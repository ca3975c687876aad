package dockerlogsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	yaml "go.yaml.in/yaml/v3"
)

// configWithOperators unmarshals a YAML operators list the way the collector does, over the defaults.
func configWithOperators(t *testing.T, operatorsYAML string) (*Config, error) {
	t.Helper()
	var raw any
	require.NoError(t, yaml.Unmarshal([]byte(operatorsYAML), &raw))
	cfg := createDefaultConfig().(*Config)
	err := confmap.NewFromStringMap(map[string]any{"operators": raw}).Unmarshal(cfg)
	return cfg, err
}

func TestOperatorsConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"bad regex", `[{type: noop}, {type: regex_parser, regex: '(?P<x'}]`,
			"operators[1]: compiling regex: error parsing regexp: invalid named capture: `(?P<x`"},
		{"recombine", `[{type: recombine, combine_field: body, is_first_entry: 'body matches "^x"'}]`,
			`operators[0]: type "recombine" cannot be used here: it holds records between batches; use the receiver's own line joining`},
		{"container", `[{type: container}]`, `operators[0]: type "container" cannot be used here: the receiver already decodes Docker's log format`},
		{"output", `[{type: stdout}]`, `operators[0]: type "stdout" is an output, which would take records out of the pipeline; use an exporter`},
		{"missing output", `[{type: noop, output: nowhere}]`, `operators: operator 'nowhere' does not exist: {"operator_id":"noop"}`},
		{"bad on_error", `[{type: json_parser, on_error: ignore}]`,
			"operators[0]: operator config has an invalid `on_error` field.: {\"on_error\":\"ignore\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := configWithOperators(t, tc.yaml)
			require.NoError(t, err)
			assert.EqualError(t, cfg.Validate(), tc.want)
		})
	}
	_, err := configWithOperators(t, `[{type: no_such_operator}]`)
	assert.ErrorContains(t, err, "unsupported type 'no_such_operator'")
}
