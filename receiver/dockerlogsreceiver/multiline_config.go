package dockerlogsreceiver

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
)

// Defaults of the multiline keys left out of a multiline section or of a container's labels.
const (
	defaultMultilineMaxLines     = 500
	defaultMultilineMaxBytes     = 1 << 20
	defaultMultilineFlushTimeout = time.Second
)

// multilineLabel prefixes the container labels that set or override the multiline rule of one container.
const multilineLabel = "io.otelcol.docker_logs.multiline."

// MultilineConfig joins the lines of one event (a stack trace, pretty-printed JSON) into one record, per output.
type MultilineConfig struct {
	// LineStartPattern matches the first line of a record; the lines that do not match continue it.
	LineStartPattern string `mapstructure:"line_start_pattern"`
	// LineEndPattern matches the last line of a record.
	LineEndPattern string `mapstructure:"line_end_pattern"`
	// MaxLines and MaxBytes bound a record: one that reaches either is handed on as it is.
	MaxLines int `mapstructure:"max_lines"`
	MaxBytes int `mapstructure:"max_bytes"`
	// FlushTimeout is how long an unfinished record waits for its next line before it is handed on as it is.
	FlushTimeout time.Duration `mapstructure:"flush_timeout"`
}

var _ confmap.Unmarshaler = (*MultilineConfig)(nil)

// defaultMultiline is a multiline section with its bounds and no pattern.
func defaultMultiline() MultilineConfig {
	return MultilineConfig{MaxLines: defaultMultilineMaxLines, MaxBytes: defaultMultilineMaxBytes, FlushTimeout: defaultMultilineFlushTimeout}
}

// Unmarshal fills the keys a multiline section leaves out with their defaults.
func (m *MultilineConfig) Unmarshal(conf *confmap.Conf) error {
	*m = defaultMultiline()
	return conf.Unmarshal(m)
}

// validate checks the section; key prefixes every problem's name ("multiline" or the label prefix).
func (m *MultilineConfig) validate(key string, maxBufferedBytes int) error {
	var errs []error
	if (m.LineStartPattern == "") == (m.LineEndPattern == "") {
		errs = append(errs, fmt.Errorf("%s: exactly one of line_start_pattern and line_end_pattern must be set", key))
	}
	for name, p := range map[string]string{"line_start_pattern": m.LineStartPattern, "line_end_pattern": m.LineEndPattern} {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: invalid regular expression %q: %w", key, name, p, err))
		}
	}
	if m.MaxLines < 1 {
		errs = append(errs, fmt.Errorf("%s.max_lines must be at least 1", key))
	}
	if m.MaxBytes < 1 || m.MaxBytes > maxBufferedBytes {
		errs = append(errs, fmt.Errorf("%s.max_bytes must be between 1 and max_buffered_bytes (%d)", key, maxBufferedBytes))
	}
	if m.FlushTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s.flush_timeout must be positive", key))
	}
	return errors.Join(errs...)
}

// rule compiles a valid section.
func (m *MultilineConfig) rule() *multiline.Rule {
	r := &multiline.Rule{MaxLines: m.MaxLines, MaxBytes: m.MaxBytes, FlushTimeout: m.FlushTimeout}
	if m.LineStartPattern != "" {
		r.Start = regexp.MustCompile(m.LineStartPattern)
	} else {
		r.End = regexp.MustCompile(m.LineEndPattern)
	}
	return r
}

// ruleOrNil compiles the receiver's section, if there is one.
func (m *MultilineConfig) ruleOrNil() *multiline.Rule {
	if m == nil {
		return nil
	}
	return m.rule()
}

// validateMultiline checks the multiline section, when there is one.
func (cfg *Config) validateMultiline() error {
	if cfg.Multiline == nil {
		return nil
	}
	return cfg.Multiline.validate("multiline", cfg.MaxBufferedBytes)
}

// multilineOf returns the multiline rule of a container: the receiver's, changed by the container's labels
// (multilineLabel + a key of the multiline section, or + "disabled"). nil reads every line as a record.
func (cfg *Config) multilineOf(labels map[string]string) (*multiline.Rule, error) {
	var set map[string]string
	for k, v := range labels {
		if key, ok := strings.CutPrefix(k, multilineLabel); ok {
			if set == nil {
				set = map[string]string{}
			}
			set[key] = v
		}
	}
	if set == nil {
		if cfg.Multiline == nil {
			return nil, nil
		}
		return cfg.Multiline.rule(), nil
	}
	if off, err := strconv.ParseBool(set["disabled"]); set["disabled"] != "" && (err != nil || off) {
		if err != nil {
			return nil, fmt.Errorf("label %sdisabled: %q is not true or false", multilineLabel, set["disabled"])
		}
		return nil, nil
	}
	m := defaultMultiline()
	if cfg.Multiline != nil {
		m = *cfg.Multiline
	}
	// A pattern label replaces the receiver's pattern, whichever kind it is.
	start, hasStart := set["line_start_pattern"]
	end, hasEnd := set["line_end_pattern"]
	if hasStart || hasEnd {
		m.LineStartPattern, m.LineEndPattern = start, end
	}
	var errs []error
	for key, v := range set {
		var err error
		switch key {
		case "line_start_pattern", "line_end_pattern", "disabled":
		case "max_lines":
			m.MaxLines, err = strconv.Atoi(v)
		case "max_bytes":
			m.MaxBytes, err = strconv.Atoi(v)
		case "flush_timeout":
			m.FlushTimeout, err = time.ParseDuration(v)
		default:
			err = errors.New("not a multiline key")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("label %s%s: %q: %w", multilineLabel, key, v, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := m.validate("label "+strings.TrimSuffix(multilineLabel, "."), cfg.MaxBufferedBytes); err != nil {
		return nil, err
	}
	return m.rule(), nil
}
