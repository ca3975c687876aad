package dockerlogsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
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

// TestContainerFormatLabelChoosesTheOperators delivers one batch per container: the format label picks the
// built-in json or logfmt, a configured format, or (unknown, or none) the operators key's list.
func TestContainerFormatLabelChoosesTheOperators(t *testing.T) {
	cfg := configWithFormats(t, `{access: [{type: regex_parser, regex: '^(?P<method>[A-Z]+) (?P<path>\S+)'}]}`)
	ops, err := configWithOperators(t, `[{type: add, field: attributes.parsed_by, value: operators}]`)
	require.NoError(t, err)
	cfg.Operators = ops.Operators
	require.NoError(t, cfg.Validate())
	core, logs := observer.New(zapcore.WarnLevel)
	set := receiverSettings(t)
	set.Logger = zap.New(core)
	r, err := newLogsReceiver(set, cfg, &collector{})
	require.NoError(t, err)
	r.formats, err = newFormatRunners(set.TelemetrySettings, cfg.Formats)
	require.NoError(t, err)
	for _, ops := range r.operatorRunners() {
		require.NoError(t, ops.start())
		t.Cleanup(func() { require.NoError(t, ops.stop()) })
	}
	apply := func(format string, body string) map[string]any {
		m := testMeta
		m.Labels = map[string]string{}
		if format != "" {
			m.Labels[formatLabel] = format
		}
		ops := r.operatorsFor(m)
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
	cfg := configWithFormats(t, `{json: [{type: add, field: attributes.mine, value: "yes"}]}`)
	require.NoError(t, cfg.Validate())
	formats, err := newFormatRunners(receiverSettings(t).TelemetrySettings, cfg.Formats)
	require.NoError(t, err)
	ops := formats["json"]
	require.NoError(t, ops.start())
	t.Cleanup(func() { require.NoError(t, ops.stop()) })
	out := allRecords(ops.applyTo(testLines(`{"level":"info"}`)))
	require.Len(t, out, 1)
	assert.Equal(t, map[string]any{"log.iostream": "stdout", "mine": "yes"}, out[0].Attributes().AsRaw())
}

func TestEnabledLabel(t *testing.T) {
	for _, tc := range []struct {
		value        string
		present      bool
		enabled, set bool
		bad          string
	}{
		{present: false},
		{value: "false", present: true, set: true},
		{value: "0", present: true, set: true},
		{value: "True", present: true, enabled: true, set: true},
		{value: "1", present: true, enabled: true, set: true},
		{value: "nope", present: true, bad: "nope"},
	} {
		labels := map[string]string{}
		if tc.present {
			labels[enabledLabel] = tc.value
		}
		enabled, set, bad := labelOptIn(labels)
		assert.Equal(t, []any{tc.enabled, tc.set, tc.bad}, []any{enabled, set, bad}, "value %q", tc.value)
	}
}
