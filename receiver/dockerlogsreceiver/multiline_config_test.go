package dockerlogsreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// loadMultilineConfig reads one receiver's section of testdata/multiline.yaml over the defaults.
func loadMultilineConfig(t *testing.T, name string) *Config {
	t.Helper()
	return loadConfigFrom(t, "multiline.yaml", name)
}

func TestMultilineConfigDefaults(t *testing.T) {
	assert.Nil(t, loadConfig(t, "").Multiline, "off unless configured")
	cfg := loadMultilineConfig(t, "defaults")
	assert.Equal(t, &MultilineConfig{LineStartPattern: `^\S`, MaxLines: 500, MaxBytes: 1 << 20, FlushTimeout: time.Second}, cfg.Multiline)
	require.NoError(t, confmap.Validate(cfg))
}

func TestMultilineConfigEveryKey(t *testing.T) {
	cfg := loadMultilineConfig(t, "all_keys")
	assert.Equal(t, &MultilineConfig{LineEndPattern: `^}$`, MaxLines: 200, MaxBytes: 65536, FlushTimeout: 3 * time.Second}, cfg.Multiline)
	require.NoError(t, confmap.Validate(cfg))
}

func TestMultilineConfigErrorsNameTheKey(t *testing.T) {
	err := confmap.Validate(loadMultilineConfig(t, "both_patterns"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "multiline: exactly one of line_start_pattern and line_end_pattern must be set")

	err = confmap.Validate(loadMultilineConfig(t, "invalid"))
	require.Error(t, err)
	for _, want := range []string{
		"multiline.line_start_pattern: invalid regular expression \"([\": error parsing regexp: missing closing ]: `[`",
		"multiline.max_lines must be at least 1",
		"multiline.max_bytes must be between 1 and max_buffered_bytes (1048576)",
		"multiline.flush_timeout must be positive",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestMultilineOfAContainer(t *testing.T) {
	receiverWide := &Config{MaxBufferedBytes: 64 << 20, Multiline: &MultilineConfig{LineStartPattern: `^\S`, MaxLines: 50, MaxBytes: 4096, FlushTimeout: 2 * time.Second}}
	none := &Config{MaxBufferedBytes: 64 << 20}
	const p = "io.otelcol.docker_logs.multiline."
	tests := []struct {
		name   string
		cfg    *Config
		labels map[string]string
		start  string
		end    string
		lines  int
		bytes  int
		wait   time.Duration
		off    bool
		err    string
	}{
		{name: "no labels: the receiver's rule", cfg: receiverWide, start: `^\S`, lines: 50, bytes: 4096, wait: 2 * time.Second},
		{name: "no labels, no rule: line by line", cfg: none, off: true},
		{name: "a pattern label replaces the receiver's pattern, its bounds stay", cfg: receiverWide,
			labels: map[string]string{p + "line_end_pattern": `^}$`}, end: `^}$`, lines: 50, bytes: 4096, wait: 2 * time.Second},
		{name: "labels alone, with the defaults", cfg: none,
			labels: map[string]string{p + "line_start_pattern": `^\d{4}-`, p + "flush_timeout": "250ms"}, start: `^\d{4}-`, lines: 500, bytes: 1 << 20, wait: 250 * time.Millisecond},
		{name: "bounds alone change the receiver's rule", cfg: receiverWide,
			labels: map[string]string{p + "max_lines": "7", p + "max_bytes": "100"}, start: `^\S`, lines: 7, bytes: 100, wait: 2 * time.Second},
		{name: "disabled", cfg: receiverWide, labels: map[string]string{p + "disabled": "true"}, off: true},
		{name: "disabled: false keeps the rule", cfg: receiverWide, labels: map[string]string{p + "disabled": "false"}, start: `^\S`, lines: 50, bytes: 4096, wait: 2 * time.Second},
		{name: "bounds without a pattern", cfg: none, labels: map[string]string{p + "max_lines": "7"},
			err: "label io.otelcol.docker_logs.multiline: exactly one of line_start_pattern and line_end_pattern must be set"},
		{name: "a bad number", cfg: receiverWide, labels: map[string]string{p + "max_lines": "many"},
			err: `label io.otelcol.docker_logs.multiline.max_lines: "many": strconv.Atoi: parsing "many": invalid syntax`},
		{name: "an unknown key", cfg: receiverWide, labels: map[string]string{p + "max_line": "5"},
			err: `label io.otelcol.docker_logs.multiline.max_line: "5": not a multiline key`},
		{name: "a bad pattern", cfg: none, labels: map[string]string{p + "line_start_pattern": "(["},
			err: "label io.otelcol.docker_logs.multiline.line_start_pattern: invalid regular expression \"([\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, err := tt.cfg.multilineOf(tt.labels)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			if tt.off {
				assert.Nil(t, rule)
				return
			}
			require.NotNil(t, rule)
			if tt.start != "" {
				assert.Equal(t, tt.start, rule.Start.String())
				assert.Nil(t, rule.End)
			} else {
				assert.Equal(t, tt.end, rule.End.String())
				assert.Nil(t, rule.Start)
			}
			assert.Equal(t, []any{tt.lines, tt.bytes, tt.wait}, []any{rule.MaxLines, rule.MaxBytes, rule.FlushTimeout})
		})
	}
}
