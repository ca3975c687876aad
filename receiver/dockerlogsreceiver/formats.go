package dockerlogsreceiver

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
)

// builtinFormats are the formats a container can name without any configuration: a JSON object's top-level fields,
// or logfmt's key=value pairs, become record attributes; a line that is not of the format passes unchanged.
var builtinFormats = map[string][]any{
	"json": {map[string]any{
		"type": "json_parser", "id": "format_json", "if": `body matches "^\\s*\\{"`,
		"parse_from": "body", "parse_to": "attributes", "on_error": "send_quiet",
	}},
	"logfmt": {map[string]any{
		"type": "key_value_parser", "id": "format_logfmt", "delimiter": "=", "pair_delimiter": " ",
		"parse_from": "body", "parse_to": "attributes", "on_error": "send_quiet",
	}},
}

// formatOperators returns the operator lists of every format: the configured ones, and the built-in ones that the
// configuration does not define again.
func formatOperators(configured map[string][]operator.Config) (map[string][]operator.Config, error) {
	all := map[string][]operator.Config{}
	for name, raw := range builtinFormats {
		var parsed struct {
			Operators []operator.Config `mapstructure:"operators"`
		}
		if err := confmap.NewFromStringMap(map[string]any{"operators": raw}).Unmarshal(&parsed); err != nil {
			return nil, fmt.Errorf("built-in format %q: %w", name, err)
		}
		all[name] = parsed.Operators
	}
	for name, ops := range configured {
		all[name] = ops
	}
	return all, nil
}

// validateFormats checks each format's name and operators, naming the key: formats[json][0]: ...
func (cfg *Config) validateFormats() error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(cfg.Formats)) {
		key := fmt.Sprintf("formats[%s]", name)
		switch {
		case name == "":
			errs = append(errs, errors.New("formats: a format needs a name"))
		case len(cfg.Formats[name]) == 0:
			errs = append(errs, fmt.Errorf("%s: a format needs at least one operator", key))
		default:
			errs = append(errs, validateOperators(key, cfg.Formats[name]))
		}
	}
	return errors.Join(errs...)
}

// newFormatRunners builds a runner for each format.
func newFormatRunners(set component.TelemetrySettings, configured map[string][]operator.Config) (map[string]*operatorRunner, error) {
	all, err := formatOperators(configured)
	if err != nil {
		return nil, err
	}
	runners := make(map[string]*operatorRunner, len(all))
	for name, ops := range all {
		if runners[name], err = newOperatorRunner(set, fmt.Sprintf("formats[%s]", name), ops); err != nil {
			return nil, err
		}
	}
	return runners, nil
}

// operatorsFor returns the operators that run on a container's batches: those of the format its label names, else
// the operators key's (nil: none). A label naming no format is warned once and ignored.
func (r *logsReceiver) operatorsFor(m containerMeta) *operatorRunner {
	name, ok := m.Labels[formatLabel]
	if !ok {
		return r.operators
	}
	if ops, found := r.formats[name]; found {
		return ops
	}
	r.labelWarnings.once(r.settings.Logger, m, formatLabel, name,
		"A container label names a format that the receiver's formats do not define; its lines are read with the operators key")
	return r.operators
}

// operatorRunners returns every runner the receiver built: the operators key's and the formats'.
func (r *logsReceiver) operatorRunners() []*operatorRunner {
	var all []*operatorRunner
	if r.operators != nil {
		all = append(all, r.operators)
	}
	for _, name := range slices.Sorted(maps.Keys(r.formats)) {
		all = append(all, r.formats[name])
	}
	return all
}
