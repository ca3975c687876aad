package records

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	// Registers the parsers and transformers that file_log users know (json_parser, regex_parser, move, router, ...).
	_ "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/adapter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
)

// refusedOperators are operator types that can be built but cannot run on a batch before it is handed on: each
// would hold records past the call or take them out of the receiver's records.
var refusedOperators = map[string]string{
	// recombine keeps entries across calls and flushes them from a timer: they would be neither delivered nor
	// retried with their batch.
	"recombine": "it holds records between batches; use the receiver's own line joining",
	// container decodes the log files of Docker, CRI-O and containerd: the receiver already reads Docker's API.
	"container": "the receiver already decodes Docker's log format",
}

// CheckOperators builds every operator of an operators list and their pipeline, and names the key of the
// first problem: operators[1]: ..., formats[json][0]: ...
func CheckOperators(key string, cfgs []operator.Config) error {
	if len(cfgs) == 0 {
		return nil
	}
	set := component.TelemetrySettings{Logger: zap.NewNop()}
	for i, c := range cfgs {
		if why, refused := refusedOperators[c.Type()]; refused {
			return fmt.Errorf("%s[%d]: type %q cannot be used here: %s", key, i, c.Type(), why)
		}
		op, err := c.Build(set)
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		stopErr := op.Stop()
		switch {
		case !op.CanProcess():
			return fmt.Errorf("%s[%d]: type %q is an input, which cannot process the receiver's records", key, i, c.Type())
		case !op.CanOutput():
			return fmt.Errorf("%s[%d]: type %q is an output, which would take records out of the pipeline; use an exporter", key, i, c.Type())
		case stopErr != nil:
			return fmt.Errorf("%s[%d]: %w", key, i, stopErr)
		}
	}
	runner, err := NewRunner(set, key, cfgs)
	if err != nil {
		return err
	}
	return runner.Stop()
}

// ErrNoOperators is a programming error: a runner is only made for a non-empty operators key.
var ErrNoOperators = errors.New("operators: empty")
