package records

import (
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	yaml "go.yaml.in/yaml/v3"
)

// TestContainerFormatLabelChoosesTheOperators delivers one batch per container: the format label picks the
// built-in json or logfmt, a configured format, or (unknown, or none) the operators key's list.
func TestContainerFormatLabelChoosesTheOperators(t *testing.T) {
	formats := parseFormats(t, `{access: [{type: regex_parser, regex: '^(?P<method>[A-Z]+) (?P<path>\S+)'}]}`)
	ops, err := parseOperators(t, `[{type: add, field: attributes.parsed_by, value: operators}]`)
	require.NoError(t, err)
	core, logs := observer.New(zapcore.WarnLevel)
	r, err := NewOperators(component.TelemetrySettings{Logger: zap.New(core)}, ops, formats, &LabelWarnings{})
	require.NoError(t, err)
	require.NoError(t, r.Start())
	t.Cleanup(func() { require.NoError(t, r.Stop()) })
	apply := func(format string, body string) map[string]any {
		m := testMeta
		m.Labels = map[string]string{}
		if format != "" {
			m.Labels[FormatLabel] = format
		}
		ops := r.For(m)
		if ops == nil {
			return nil
		}
		out := allRecords(ops.applyTo(testLines(body)))
		require.Len(t, out, 1)
		return out[0].Attributes().AsRaw()
	}
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "level": "info", "n": float64(3)}, apply("json", `{"level":"info","n":3}`))
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "level": "warn", "msg": "slow disk"}, apply("logfmt", `level=warn msg="slow disk"`))
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "method": "GET", "path": "/cart"}, apply("access", "GET /cart 200"))
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "parsed_by": "operators"}, apply("", "no label"))
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "parsed_by": "operators"}, apply("yaml", "unknown format"))
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "parsed_by": "operators"}, apply("yaml", "unknown format again"))
	warned := logs.FilterMessageSnippet("names a format").All()
	require.Len(t, warned, 1, "an unknown format is warned once per container")
	assert.Equal(t, "yaml", warned[0].ContextMap()["value"])
}

func TestConfiguredFormatReplacesTheBuiltInOne(t *testing.T) {
	formats, err := newFormatRunners(component.TelemetrySettings{Logger: zap.NewNop()},
		parseFormats(t, `{json: [{type: add, field: attributes.mine, value: "yes"}]}`))
	require.NoError(t, err)
	ops := formats["json"]
	require.NoError(t, ops.Start())
	t.Cleanup(func() { require.NoError(t, ops.Stop()) })
	out := allRecords(ops.applyTo(testLines(`{"level":"info"}`)))
	require.Len(t, out, 1)
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "mine": "yes"}, out[0].Attributes().AsRaw())
}

// parseFormats unmarshals a YAML formats map the way the collector does.
func parseFormats(t *testing.T, formatsYAML string) map[string][]operator.Config {
	t.Helper()
	var raw any
	require.NoError(t, yaml.Unmarshal([]byte(formatsYAML), &raw))
	var parsed struct {
		Formats map[string][]operator.Config `mapstructure:"formats"`
	}
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"formats": raw}).Unmarshal(&parsed))
	return parsed.Formats
}

func TestNoOperatorsNoRunner(t *testing.T) {
	ops, err := NewOperators(component.TelemetrySettings{Logger: zap.NewNop()}, nil, nil, &LabelWarnings{})
	require.NoError(t, err)
	assert.Nil(t, ops.For(Meta{ID: "c1"}), "the hot path checks one nil pointer")
}
