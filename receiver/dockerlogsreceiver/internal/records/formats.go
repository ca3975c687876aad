package records

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"

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

// newFormatRunners builds a runner for each format.
func newFormatRunners(set component.TelemetrySettings, configured map[string][]operator.Config) (map[string]*Runner, error) {
	all, err := formatOperators(configured)
	if err != nil {
		return nil, err
	}
	runners := make(map[string]*Runner, len(all))
	for name, ops := range all {
		if runners[name], err = NewRunner(set, fmt.Sprintf("formats[%s]", name), ops); err != nil {
			return nil, err
		}
	}
	return runners, nil
}

// Operators are the runners a receiver built: the operators key's, and one per format.
type Operators struct {
	main     *Runner
	formats  map[string]*Runner
	logger   *zap.Logger
	warnings *LabelWarnings
}

// NewOperators builds the runners of the operators key (none when it is empty) and of every format; a label
// naming no format is warned through warnings.
func NewOperators(set component.TelemetrySettings, operators []operator.Config, formats map[string][]operator.Config, warnings *LabelWarnings) (*Operators, error) {
	ops := &Operators{logger: set.Logger, warnings: warnings}
	var err error
	if len(operators) > 0 {
		if ops.main, err = NewRunner(set, "operators", operators); err != nil {
			return nil, err
		}
	}
	if ops.formats, err = newFormatRunners(set, formats); err != nil {
		return nil, err
	}
	return ops, nil
}

// For returns the operators that run on a container's batches: those of the format its label names, else the
// operators key's (nil: none). A label naming no format is warned once and ignored.
func (o *Operators) For(m Meta) *Runner {
	name, ok := m.Labels[FormatLabel]
	if !ok {
		return o.main
	}
	if r, found := o.formats[name]; found {
		return r
	}
	o.warnings.Once(o.logger, m, FormatLabel, name,
		"A container label names a format that the receiver's formats do not define; its lines are read with the operators key")
	return o.main
}

// Start starts every runner.
func (o *Operators) Start() error {
	for _, r := range o.all() {
		if err := r.Start(); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every runner; it is safe without Start and twice.
func (o *Operators) Stop() error {
	var errs []error
	for _, r := range o.all() {
		errs = append(errs, r.Stop())
	}
	return errors.Join(errs...)
}

// all returns every runner: the operators key's and the formats', in the order of their names.
func (o *Operators) all() []*Runner {
	var all []*Runner
	if o.main != nil {
		all = append(all, o.main)
	}
	for _, name := range slices.Sorted(maps.Keys(o.formats)) {
		all = append(all, o.formats[name])
	}
	return all
}
