package dockerlogsreceiver

import (
	"context"
	"testing"
	"time"

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

// configWithOperators unmarshals a YAML operators list the way the collector does, over the defaults.
func configWithOperators(t *testing.T, operatorsYAML string) (*Config, error) {
	t.Helper()
	var raw any
	require.NoError(t, yaml.Unmarshal([]byte(operatorsYAML), &raw))
	cfg := createDefaultConfig().(*Config)
	err := confmap.NewFromStringMap(map[string]any{"operators": raw}).Unmarshal(cfg)
	return cfg, err
}

// newTestRunner builds and starts the operators of operatorsYAML.
func newTestRunner(t *testing.T, operatorsYAML string) *operatorRunner {
	r, _ := newObservedRunner(t, operatorsYAML)
	return r
}

// newObservedRunner builds and starts the operators of operatorsYAML and returns their logs at debug level.
func newObservedRunner(t *testing.T, operatorsYAML string) (*operatorRunner, *observer.ObservedLogs) {
	t.Helper()
	cfg, err := configWithOperators(t, operatorsYAML)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	core, logs := observer.New(zapcore.DebugLevel)
	r, err := newOperatorRunner(component.TelemetrySettings{Logger: zap.New(core)}, "operators", cfg.Operators)
	require.NoError(t, err)
	require.NoError(t, r.start())
	t.Cleanup(func() { require.NoError(t, r.stop()) })
	return r, logs
}

var testMeta = containerMeta{ID: "c0ffee", Name: "shop-web-1", Image: "shop/web:1.2",
	Labels: map[string]string{composeServiceKey: "web"}}

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
	return containerResource(metadata.DefaultResourceAttributesConfig(), daemonIdentity{}, testMeta)
}

var testObserved = time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC)

// apply builds the records of lines and runs r on them.
func (r *operatorRunner) applyTo(lines []turn.Line) plog.Logs {
	logs, _ := r.apply(context.Background(), buildLogs(testResource(), "1.2.3", lines, testObserved))
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
	want := buildLogs(testResource(), "1.2.3", lines, testObserved)
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
	assert.Equal(t, "stderr", gotRecs[1].Attributes().AsRaw()[attrIOStream])
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
	assert.Equal(t, map[string]any{attrIOStream: "stdout", "level": "error", "msg": "boom", "n": float64(3)}, recs[0].Attributes().AsRaw())
	assert.Equal(t, `{"level":"error","msg":"boom","n":3}`, recs[0].Body().Str(), "the body stays the line")
	assert.Equal(t, plog.SeverityNumberError, recs[0].SeverityNumber())
	assert.Equal(t, "error", recs[0].SeverityText())
	assert.Equal(t, map[string]any{attrIOStream: "stdout"}, recs[1].Attributes().AsRaw())
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
	assert.Equal(t, map[string]any{attrIOStream: "stdout", "method": "GET", "path": "/cart", "seen": "yes"}, recs[0].Attributes().AsRaw())
	assert.Equal(t, map[string]any{attrIOStream: "stdout", "seen": "yes"}, recs[1].Attributes().AsRaw(), "unparsed, and the later operators ran")
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
	assert.Equal(t, map[string]any{attrIOStream: "stdout", "a": "b"}, recs[0].Attributes().AsRaw())
}

// The operators' logs stay out of an info-level log: they can carry the container's output.
func TestOperatorLogsAreDebugOnly(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	cfg, err := configWithOperators(t, `[{type: json_parser}]`)
	require.NoError(t, err)
	r, err := newOperatorRunner(component.TelemetrySettings{Logger: zap.New(core)}, "operators", cfg.Operators)
	require.NoError(t, err)
	require.NoError(t, r.start())
	defer func() { require.NoError(t, r.stop()) }()
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

func allRecordsOf(rl plog.ResourceLogs) []plog.LogRecord {
	logs := plog.NewLogs()
	rl.CopyTo(logs.ResourceLogs().AppendEmpty())
	return allRecords(logs)
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

// One pipeline serves every stream: concurrent batches each get back exactly their own records.
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

func TestNoOperatorsNoRunner(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Empty(t, cfg.Operators)
	rcv, err := newLogsReceiver(receiverSettings(t), cfg, &collector{})
	require.NoError(t, err)
	assert.Nil(t, rcv.operators, "the hot path checks one nil pointer")
}
