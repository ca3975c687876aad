package records

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/adapter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/entry"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/pipeline"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
)

// Runner runs the stanza operators of the operators key on the records of one batch, synchronously,
// before the batch is handed on. It keeps the receiver's guarantee: whatever the operators make of a batch is
// handed on as that batch, so a line's position still advances only once the next consumer accepted it.
//
// Entries enter at the first operator, in the batch's order, one Process call each; every operator of the
// stanza packages it accepts (CheckOperators) writes its output entries to its outputs within that call.
// What reaches the end of the pipeline is collected by an output operator into a list that travels in the
// call's context, so one pipeline serves every stream at once.
type Runner struct {
	pipe  *pipeline.DirectedPipeline
	first operator.Operator

	startOnce sync.Once
	stopOnce  sync.Once

	// failed counts the records on which an operator reported an error (on_error send or drop).
	failed atomic.Int64
}

// Failed returns how many records an operator reported an error on, since the runner was built.
func (r *Runner) Failed() int64 {
	return r.failed.Load()
}

// NewRunner builds the operators of the list at key; their logs go to set's logger at debug level (see debugOnly).
func NewRunner(set component.TelemetrySettings, key string, cfgs []operator.Config) (*Runner, error) {
	if len(cfgs) == 0 {
		return nil, ErrNoOperators
	}
	set.Logger = set.Logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return debugOnly{c} }))
	pipe, err := pipeline.Config{Operators: cfgs, DefaultOutput: &collectOutput{logger: set.Logger}}.Build(set)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	// The pipeline numbered repeated types without an id (json_parser, json_parser1): the configs carry the names.
	firstID := cfgs[0].ID()
	for _, op := range pipe.Operators() {
		if op.ID() == firstID {
			return &Runner{pipe: pipe, first: op}, nil
		}
	}
	return nil, fmt.Errorf("%s[0]: operator %q not found in the built pipeline", key, firstID)
}

// Start starts the operators; none of the accepted types keeps state in a persister.
func (r *Runner) Start() error {
	err := errAlreadyStarted
	r.startOnce.Do(func() { err = r.pipe.Start(nopPersister{}) })
	return err
}

// Stop stops the operators; it is safe without start and twice.
func (r *Runner) Stop() error {
	var err error
	r.stopOnce.Do(func() { err = r.pipe.Stop() })
	return err
}

var errAlreadyStarted = fmt.Errorf("operators already started")

// Apply runs the operators on every record of logs and returns what came out of them: records changed,
// dropped (filter, on_error: drop), or more of them (an operator with several outputs).
//
// A record on which an operator fails follows that operator's on_error: with stanza's default, send, it goes
// on unchanged by that operator; the failure is counted and logged at debug level only.
//
// failed is how many records an operator failed on (docker_logs_operator_errors).
func (r *Runner) Apply(ctx context.Context, logs plog.Logs) (_ plog.Logs, failed int) {
	in := toEntries(logs)
	out := &collected{entries: make([]*entry.Entry, 0, len(in))}
	ctx = context.WithValue(ctx, collectedKey{}, out)
	for _, e := range in {
		if err := r.first.Process(ctx, e); err != nil {
			failed++
		}
	}
	r.failed.Add(int64(failed))
	return fromEntries(out.entries, logs), failed
}

// toEntries converts the records of logs into stanza entries, each with its own copy of its resource.
func toEntries(logs plog.Logs) []*entry.Entry {
	entries := make([]*entry.Entry, 0, logs.LogRecordCount())
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		resource := rl.Resource().Attributes().AsRaw()
		for j := range rl.ScopeLogs().Len() {
			sl := rl.ScopeLogs().At(j)
			records := sl.LogRecords()
			for k := range records.Len() {
				lr := records.At(k)
				e := &entry.Entry{
					ObservedTimestamp: lr.ObservedTimestamp().AsTime(),
					Body:              lr.Body().AsRaw(),
					Attributes:        lr.Attributes().AsRaw(),
					// Operators may change one record's resource (move to resource.x): each gets its own map.
					Resource:     maps.Clone(resource),
					SeverityText: lr.SeverityText(),
					Severity:     entry.Severity(lr.SeverityNumber()), // stanza numbers severities as OpenTelemetry does
					ScopeName:    sl.Scope().Name(),
				}
				if lr.Timestamp() != 0 {
					e.Timestamp = lr.Timestamp().AsTime()
				}
				entries = append(entries, e)
			}
		}
	}
	return entries
}

// fromEntries converts entries back to records, grouped by resource and scope in their order; the scopes of
// the receiver's name get the version they had in orig.
func fromEntries(entries []*entry.Entry, orig plog.Logs) plog.Logs {
	version := ""
	if rls := orig.ResourceLogs(); rls.Len() > 0 && rls.At(0).ScopeLogs().Len() > 0 {
		version = rls.At(0).ScopeLogs().At(0).Scope().Version()
	}
	logs := adapter.ConvertEntries(entries, metadata.ScopeName, version)
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			if s := sls.At(j).Scope(); s.Name() == metadata.ScopeName && s.Version() == "" {
				s.SetVersion(version)
			}
		}
	}
	return logs
}

// collected is the output of one apply call.
type collected struct {
	entries []*entry.Entry
}

type collectedKey struct{}

// collectOutput is the pipeline's last operator: it adds each entry that reaches it to the list in the context.
type collectOutput struct {
	logger *zap.Logger
}

var _ operator.Operator = (*collectOutput)(nil)

// collectOutputID is the output's name in the pipeline; a user's operator of that id would be refused as a duplicate.
const collectOutputID = "docker_logs_records"

func (*collectOutput) ID() string                     { return collectOutputID }
func (*collectOutput) Type() string                   { return collectOutputID }
func (*collectOutput) Start(operator.Persister) error { return nil }
func (*collectOutput) Stop() error                    { return nil }
func (*collectOutput) CanOutput() bool                { return false }
func (*collectOutput) Outputs() []operator.Operator   { return nil }
func (*collectOutput) GetOutputIDs() []string         { return nil }
func (*collectOutput) SetOutputs([]operator.Operator) error {
	return nil
}
func (*collectOutput) SetOutputIDs([]string) {}
func (*collectOutput) CanProcess() bool      { return true }
func (o *collectOutput) Logger() *zap.Logger { return o.logger }
func (o *collectOutput) Process(ctx context.Context, e *entry.Entry) error {
	return o.ProcessBatch(ctx, []*entry.Entry{e})
}

func (*collectOutput) ProcessBatch(ctx context.Context, entries []*entry.Entry) error {
	out, ok := ctx.Value(collectedKey{}).(*collected)
	if !ok {
		// Only apply calls the pipeline; an operator that processed later, from a goroutine of its own, is refused
		// by CheckOperators.
		return fmt.Errorf("%d entries reached the end of the operators outside a batch", len(entries))
	}
	out.entries = append(out.entries, entries...)
	return nil
}

// debugOnly writes every entry of the operators' loggers at debug level. Stanza operators log each failed entry
// at error level with its attributes, which after a parser hold the container's output: the collector's log
// carries none of it unless debug logging is on.
type debugOnly struct {
	zapcore.Core
}

func (c debugOnly) Enabled(zapcore.Level) bool { return c.Core.Enabled(zapcore.DebugLevel) }

func (c debugOnly) With(fields []zapcore.Field) zapcore.Core { return debugOnly{c.Core.With(fields)} }

func (c debugOnly) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	e.Level = zapcore.DebugLevel
	return c.Core.Check(e, ce)
}

// nopPersister is handed to the operators' Start: the accepted types keep no state across restarts.
type nopPersister struct{}

func (nopPersister) Get(context.Context, string) ([]byte, error) { return nil, nil }
func (nopPersister) Set(context.Context, string, []byte) error   { return nil }
func (nopPersister) Delete(context.Context, string) error        { return nil }
func (nopPersister) Batch(context.Context, ...*storage.Operation) error {
	return nil
}
