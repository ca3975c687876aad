package records

import (
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
)

// recipeRunner loads the operators of recipes/<name> and starts them (e2e checks each recipe as a whole configuration).
func recipeRunner(t *testing.T, name string) *Runner {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("..", "..", "..", "..", "recipes", name))
	require.NoError(t, err)
	sub, err := cm.Sub("receivers::docker_logs")
	require.NoError(t, err)
	var cfg struct {
		Operators []operator.Config `mapstructure:"operators"`
	}
	require.NoError(t, sub.Unmarshal(&cfg, confmap.WithIgnoreUnused()))
	require.NotEmpty(t, cfg.Operators)
	require.NoError(t, CheckOperators("operators", cfg.Operators))
	r, err := NewRunner(component.TelemetrySettings{Logger: zap.NewNop()}, "operators", cfg.Operators)
	require.NoError(t, err)
	require.NoError(t, r.Start())
	t.Cleanup(func() { require.NoError(t, r.Stop()) })
	return r
}

// sample is one line a container writes and what a recipe should make of it.
type recipeSample struct {
	stream decode.Stream
	body   string
	// attrs are the record's attributes besides log.iostream.
	attrs    map[string]any
	severity plog.SeverityNumber
	sevText  string
}

func checkRecipe(t *testing.T, name string, samples []recipeSample) {
	t.Helper()
	r := recipeRunner(t, name)
	bodies := make([]string, len(samples))
	for i, s := range samples {
		bodies[i] = s.body
	}
	lines := testLines(bodies...)
	for i, s := range samples {
		lines[i].Stream = s.stream
	}
	recs := allRecords(r.applyTo(lines))
	require.Len(t, recs, len(samples), "a recipe keeps every record")
	for i, s := range samples {
		want := map[string]any{AttrIOStream: s.stream.String()}
		for k, v := range s.attrs {
			want[k] = v
		}
		assert.Equal(t, s.body, recs[i].Body().Str(), "body of %q", s.body)
		assert.Equal(t, want, recs[i].Attributes().AsRaw(), "attributes of %q", s.body)
		assert.Equal(t, s.severity, recs[i].SeverityNumber(), "severity of %q", s.body)
		assert.Equal(t, s.sevText, recs[i].SeverityText(), "severity text of %q", s.body)
	}
	assert.Zero(t, r.Failed(), "the recipes fail quietly: nothing to count")
}

const onStdout, onStderr = decode.Stdout, decode.Stderr

func TestRecipeJSONAttributes(t *testing.T) {
	checkRecipe(t, "json-attributes.yaml", []recipeSample{
		{stream: onStdout, body: `{"level":"info","msg":"GET /cart","status":200,"user":{"id":"u1"}}`,
			attrs: map[string]any{"level": "info", "msg": "GET /cart", "status": float64(200), "user": map[string]any{"id": "u1"}}},
		{stream: onStderr, body: `  {"error":"timeout"}`, attrs: map[string]any{"error": "timeout"}},
		{stream: onStdout, body: "plain text line"},
		{stream: onStdout, body: `{"cut short":`},
		{stream: onStdout, body: `[1,2,3]`},
	})
}

func TestRecipeSeverity(t *testing.T) {
	checkRecipe(t, "severity.yaml", []recipeSample{
		{stream: onStdout, body: `{"level":"error","msg":"db down"}`, severity: plog.SeverityNumberError, sevText: "ERROR"},
		{stream: onStdout, body: `{"level":"Warning","msg":"slow"}`, severity: plog.SeverityNumberWarn, sevText: "WARN"},
		{stream: onStdout, body: `{"level":"notice","msg":"x"}`, sevText: "notice"},
		{stream: onStdout, body: `{"msg":"an error in a JSON line without level"}`},
		{stream: onStdout, body: "2026-12-01 10:00:00 ERROR payment failed", severity: plog.SeverityNumberError, sevText: "ERROR"},
		{stream: onStdout, body: "[warn] disk 91% full", severity: plog.SeverityNumberWarn, sevText: "WARN"},
		{stream: onStdout, body: "level=debug msg=tick", severity: plog.SeverityNumberDebug, sevText: "DEBUG"},
		{stream: onStderr, body: "Trace: entering f", severity: plog.SeverityNumberTrace, sevText: "TRACE"},
		{stream: onStdout, body: "FATAL: cannot bind :80", severity: plog.SeverityNumberFatal, sevText: "FATAL"},
		{stream: onStdout, body: "Info: ready", severity: plog.SeverityNumberInfo, sevText: "INFO"},
		{stream: onStderr, body: "no level here"},
		{stream: onStdout, body: "errors=0 information"},
	})
}

func TestRecipeStderrSeverity(t *testing.T) {
	checkRecipe(t, "stderr-severity.yaml", []recipeSample{
		{stream: onStderr, body: "panic: something odd", severity: plog.SeverityNumberWarn, sevText: "WARN"},
		{stream: onStderr, body: "ERROR cannot connect", severity: plog.SeverityNumberError, sevText: "ERROR"},
		{stream: onStderr, body: "info: listening on :8080", severity: plog.SeverityNumberInfo, sevText: "INFO"},
		{stream: onStderr, body: `{"level":"debug","msg":"x"}`, severity: plog.SeverityNumberDebug, sevText: "DEBUG"},
		{stream: onStderr, body: `{"msg":"json without level"}`, severity: plog.SeverityNumberWarn, sevText: "WARN"},
		{stream: onStdout, body: "no level on stdout"},
		{stream: onStdout, body: "WARN low memory", severity: plog.SeverityNumberWarn, sevText: "WARN"},
	})
}
