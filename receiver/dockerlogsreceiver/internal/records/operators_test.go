package records

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	yaml "go.yaml.in/yaml/v3"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// newTestRunner builds and starts the operators of operatorsYAML.
func newTestRunner(t *testing.T, operatorsYAML string) *Runner {
	r, _ := newObservedRunner(t, operatorsYAML)
	return r
}

// newObservedRunner builds and starts the operators of operatorsYAML and returns their logs at debug level.
func newObservedRunner(t *testing.T, operatorsYAML string) (*Runner, *observer.ObservedLogs) {
	t.Helper()
	ops, err := parseOperators(t, operatorsYAML)
	require.NoError(t, err)
	require.NoError(t, CheckOperators("operators", ops))
	core, logs := observer.New(zapcore.DebugLevel)
	r, err := NewRunner(component.TelemetrySettings{Logger: zap.New(core)}, "operators", ops)
	require.NoError(t, err)
	require.NoError(t, r.Start())
	t.Cleanup(func() { require.NoError(t, r.Stop()) })
	return r, logs
}

var testMeta = Meta{ID: "c0ffee", Name: "shop-web-1", Image: "shop/web:1.2",
	Labels: map[string]string{ComposeServiceKey: "web"}}

// testLines are lines of one container as the stream reader delivers them, one nanosecond apart.
func testLines(bodies ...string) []turn.Line {
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	lines := make([]turn.Line, len(bodies))
	for i, b := range bodies {
		lines[i] = turn.Line{Timestamp: base + int64(i), Body: b, Stream: decode.Stdout}
	}
	return lines
}

// testResource is testMeta's resource with the default resource_attributes.
func testResource() pcommon.Resource {
	return NewResource(metadata.DefaultResourceAttributesConfig(), Daemon{}, testMeta)
}

var testObserved = time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC)

// apply builds the records of lines and runs r on them.
func (r *Runner) applyTo(lines []turn.Line) plog.Logs {
	logs, _ := r.Apply(context.Background(), Build(testResource(), "1.2.3", lines, testObserved))
	return logs
}

// allRecords lists the records of logs in order.
func allRecords(logs plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for i := range logs.ResourceLogs().Len() {
		sls := logs.ResourceLogs().At(i).ScopeLogs()
		for j := range sls.Len() {
			for k := range sls.At(j).LogRecords().Len() {
				out = append(out, sls.At(j).LogRecords().At(k))
			}
		}
	}
	return out
}

func TestOperatorsRoundTripKeepsEveryField(t *testing.T) {
	r := newTestRunner(t, `[{type: noop}]`)
	lines := testLines("plain line", `{"a":1}`)
	lines[1].Stream = decode.Stderr
	want := Build(testResource(), "1.2.3", lines, testObserved)
	got := r.applyTo(lines)

	require.Equal(t, 1, got.ResourceLogs().Len(), "one container, one resource")
	assert.Equal(t, want.ResourceLogs().At(0).Resource().Attributes().AsRaw(), got.ResourceLogs().At(0).Resource().Attributes().AsRaw())
	require.Equal(t, 1, got.ResourceLogs().At(0).ScopeLogs().Len())
	scope := got.ResourceLogs().At(0).ScopeLogs().At(0).Scope()
	assert.Equal(t, metadata.ScopeName, scope.Name())
	assert.Equal(t, "1.2.3", scope.Version())
	wantRecs, gotRecs := allRecords(want), allRecords(got)
	require.Len(t, gotRecs, 2)
	for i := range wantRecs {
		assert.Equal(t, wantRecs[i].Body().AsRaw(), gotRecs[i].Body().AsRaw())
		assert.Equal(t, wantRecs[i].Timestamp(), gotRecs[i].Timestamp())
		assert.Equal(t, wantRecs[i].ObservedTimestamp(), gotRecs[i].ObservedTimestamp())
		assert.Equal(t, wantRecs[i].Attributes().AsRaw(), gotRecs[i].Attributes().AsRaw())
		assert.Equal(t, plog.SeverityNumberUnspecified, gotRecs[i].SeverityNumber())
		assert.Empty(t, gotRecs[i].SeverityText())
	}
	assert.Equal(t, "stderr", gotRecs[1].Attributes().AsRaw()[AttrIOStream])
}

func TestOperatorsParseJSONAndSeverity(t *testing.T) {
	r := newTestRunner(t, `
- type: json_parser
  if: 'body matches "^\\s*\\{"'
- type: severity_parser
  if: 'attributes.level != nil'
  parse_from: attributes.level
`)
	recs := allRecords(r.applyTo(testLines(`{"level":"error","msg":"boom","n":3}`, "a plain line")))
	require.Len(t, recs, 2)
	assert.Equal(t, map[string]any{AttrIOStream: "stdout", "level": "error", "msg": "boom", "n": float64(3)}, recs[0].Attributes().AsRaw())
	assert.Equal(t, `{"level":"error","msg":"boom","n":3}`, recs[0].Body().Str(), "the body stays the line")
	assert.Equal(t, plog.SeverityNumberError, recs[0].SeverityNumber())
	assert.Equal(t, "error", recs[0].SeverityText())
	assert.Equal(t, map[string]any{AttrIOStream: "stdout"}, recs[1].Attributes().AsRaw())
	assert.Equal(t, "a plain line", recs[1].Body().Str())
	assert.Zero(t, r.failed.Load(), "if kept the parser off the plain line")
}

func TestOperatorsFilterDrops(t *testing.T) {
	r := newTestRunner(t, `[{type: filter, expr: 'body contains "health"'}]`)
	recs := allRecords(r.applyTo(testLines("GET /health 200", "GET /cart 200", "GET /health 200")))
	require.Len(t, recs, 1)
	assert.Equal(t, "GET /cart 200", recs[0].Body().Str())

	assert.Zero(t, r.applyTo(testLines("GET /health 200")).LogRecordCount(), "a batch can be dropped whole")
}

// An operator that fails on a record, with stanza's default on_error (send), hands it on unchanged by itself,
// to the next operators; the failure is counted and logged at debug level only.
func TestOperatorErrorKeepsTheRecord(t *testing.T) {
	r, logs := newObservedRunner(t, `
- type: regex_parser
  regex: '^(?P<method>[A-Z]+) (?P<path>\S+)$'
- type: add
  field: attributes.seen
  value: yes
`)
	recs := allRecords(r.applyTo(testLines("GET /cart", "secret-token=abc not a request")))
	require.Len(t, recs, 2)
	assert.Equal(t, map[string]any{AttrIOStream: "stdout", "method": "GET", "path": "/cart", "seen": "yes"}, recs[0].Attributes().AsRaw())
	assert.Equal(t, map[string]any{AttrIOStream: "stdout", "seen": "yes"}, recs[1].Attributes().AsRaw(), "unparsed, and the later operators ran")
	assert.Equal(t, "secret-token=abc not a request", recs[1].Body().Str())
	assert.Equal(t, int64(1), r.failed.Load())

	require.NotZero(t, logs.Len(), "stanza logs the failure")
	for _, e := range logs.All() {
		assert.Equal(t, zapcore.DebugLevel, e.Level, "%s: every operator log is at debug level", e.Message)
	}
}

// on_error: drop is the user's choice to drop a record an operator fails on, like a filter.
func TestOperatorErrorDropWhenAskedTo(t *testing.T) {
	r := newTestRunner(t, `[{type: json_parser, on_error: drop_quiet}]`)
	recs := allRecords(r.applyTo(testLines(`{"a":"b"}`, "not json")))
	require.Len(t, recs, 1)
	assert.Equal(t, map[string]any{AttrIOStream: "stdout", "a": "b"}, recs[0].Attributes().AsRaw())
}

// The operators' logs stay out of an info-level log: they can carry the container's output.
func TestOperatorLogsAreDebugOnly(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	ops, err := parseOperators(t, `[{type: json_parser}]`)
	require.NoError(t, err)
	r, err := NewRunner(component.TelemetrySettings{Logger: zap.New(core)}, "operators", ops)
	require.NoError(t, err)
	require.NoError(t, r.Start())
	defer func() { require.NoError(t, r.Stop()) }()
	recs := allRecords(r.applyTo(testLines("password=hunter2")))
	require.Len(t, recs, 1)
	assert.Equal(t, "password=hunter2", recs[0].Body().Str())
	assert.Equal(t, int64(1), r.failed.Load())
	assert.Zero(t, logs.Len(), "nothing above debug: %v", logs.All())
}

func TestOperatorsMoveToResourceSplitsResources(t *testing.T) {
	r := newTestRunner(t, `
- type: regex_parser
  regex: '^tenant=(?P<tenant>\w+)'
  on_error: send_quiet
- type: move
  if: 'attributes.tenant != nil'
  from: attributes.tenant
  to: resource.tenant
`)
	got := r.applyTo(testLines("tenant=a x", "tenant=b y", "tenant=a z", "no tenant"))
	require.Equal(t, 3, got.ResourceLogs().Len())
	byTenant := map[any][]string{}
	for i := range got.ResourceLogs().Len() {
		rl := got.ResourceLogs().At(i)
		res := rl.Resource().Attributes().AsRaw()
		assert.Equal(t, "c0ffee", res[attrContainerID], "every resource keeps the container's attributes")
		assert.Equal(t, "1.2.3", rl.ScopeLogs().At(0).Scope().Version())
		for _, lr := range allRecordsOf(rl) {
			byTenant[res["tenant"]] = append(byTenant[res["tenant"]], lr.Body().Str())
		}
	}
	assert.Equal(t, map[any][]string{"a": {"tenant=a x", "tenant=a z"}, "b": {"tenant=b y"}, nil: {"no tenant"}}, byTenant)
}

func TestOperatorsRouterAndSeveralOutputs(t *testing.T) {
	r := newTestRunner(t, `
- type: router
  routes:
    - expr: 'attributes["log.iostream"] == "stderr"'
      output: mark_stderr
  default: mark_stdout
- type: add
  id: mark_stderr
  field: attributes.via
  value: stderr_route
  output: end
- type: add
  id: mark_stdout
  field: attributes.via
  value: stdout_route
- type: noop
  id: end
`)
	lines := testLines("out", "err")
	lines[1].Stream = decode.Stderr
	recs := allRecords(r.applyTo(lines))
	require.Len(t, recs, 2)
	assert.Equal(t, "stdout_route", recs[0].Attributes().AsRaw()["via"])
	assert.Equal(t, "stderr_route", recs[1].Attributes().AsRaw()["via"])
}

// One pipeline serves every stream: concurrent batches each get back exactly their own
func TestOperatorsConcurrentBatchesStayApart(t *testing.T) {
	r := newTestRunner(t, `[{type: regex_parser, regex: '^(?P<n>\d+)$'}]`)
	done := make(chan error, 8)
	for w := range 8 {
		go func() {
			for range 200 {
				bodies := []string{string(rune('0' + w)), string(rune('0' + w))}
				recs := allRecords(r.applyTo(testLines(bodies...)))
				if len(recs) != 2 || recs[0].Attributes().AsRaw()["n"] != bodies[0] || recs[1].Attributes().AsRaw()["n"] != bodies[1] {
					done <- assert.AnError
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		require.NoError(t, <-done)
	}
}

func allRecordsOf(rl plog.ResourceLogs) []plog.LogRecord {
	logs := plog.NewLogs()
	rl.CopyTo(logs.ResourceLogs().AppendEmpty())
	return allRecords(logs)
}

// parseOperators unmarshals a YAML operators list the way the collector does.
func parseOperators(t *testing.T, operatorsYAML string) ([]operator.Config, error) {
	t.Helper()
	var raw any
	require.NoError(t, yaml.Unmarshal([]byte(operatorsYAML), &raw))
	var parsed struct {
		Operators []operator.Config `mapstructure:"operators"`
	}
	err := confmap.NewFromStringMap(map[string]any{"operators": raw}).Unmarshal(&parsed)
	return parsed.Operators, err
}
