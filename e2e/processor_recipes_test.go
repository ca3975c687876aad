package e2e

import (
	"fmt"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// processedLine is a line a container writes and what a processor recipe should make of it.
type processedLine struct {
	stream, body string
	// want is the body that should arrive; dropped says none should.
	want    string
	dropped bool
	// attrs are record attributes the arriving record must carry (besides log.iostream), absent ones it must not.
	attrs  map[string]any
	absent []string
}

// processedContainer is one container of a processor recipe's test: its labels, its lines, and resource
// attributes its records must carry.
type processedContainer struct {
	labels   map[string]string
	lines    []processedLine
	resource map[string]any
}

// TestProcessorRecipes runs bin/otelcol-dockerlogs with the shipped collector-config.yaml and each processor
// recipe of recipes/ (transform, redaction, filter, resource, attributes), against containers that write sample
// lines, and checks what reaches the OTLP endpoint: masked bodies, dropped lines, set and renamed attributes.
func TestProcessorRecipes(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	image := dockertest.PrintLinesImage(t, cli)
	runMake(t, "otelcol")
	for _, tc := range []struct {
		recipe     string
		containers []processedContainer
	}{
		{"mask-secrets.yaml", []processedContainer{{lines: []processedLine{
			{stream: "stdout", body: "GET /api Authorization: Bearer eyJhbGciOi.J9x-y_z== 200", want: "GET /api Authorization: **** 200"},
			{stream: "stderr", body: "login user=ann password=hunter2&next=/home", want: "login user=ann password=****&next=/home"},
			{stream: "stdout", body: `{"user":"ann","Password":"s3cr3t","api_key":"k-123"}`, want: `{"user":"ann","Password":"****","api_key":"****"}`},
			{stream: "stdout", body: "token=abc123; retry", want: "token=****; retry"},
			{stream: "stdout", body: "nothing secret here", want: "nothing secret here"},
		}}}},
		{"drop-health-checks.yaml", []processedContainer{{lines: []processedLine{
			{stream: "stdout", body: `10.0.0.1 - - "GET /healthz HTTP/1.1" 200`, dropped: true},
			{stream: "stdout", body: "HEAD /ready 200", dropped: true},
			{stream: "stdout", body: `10.0.0.1 - - "GET /health?full=1 HTTP/1.1" 200`, dropped: true},
			{stream: "stdout", body: `10.0.0.1 - - "GET /healthcare/records HTTP/1.1" 200`, want: `10.0.0.1 - - "GET /healthcare/records HTTP/1.1" 200`},
			{stream: "stderr", body: "POST /health 405", want: "POST /health 405"},
		}}}},
		{"deployment-environment.yaml", []processedContainer{{
			lines:    []processedLine{{stream: "stdout", body: "ready", want: "ready"}},
			resource: map[string]any{"deployment.environment.name": "production"},
		}}},
		{"warn-and-above.yaml", []processedContainer{
			{labels: map[string]string{"com.example.logs.min-severity": "warn"}, lines: []processedLine{
				{stream: "stdout", body: "INFO started", dropped: true},
				{stream: "stdout", body: "[debug] tick", dropped: true},
				{stream: "stdout", body: "no level word", dropped: true},
				{stream: "stderr", body: "WARN slow disk", want: "WARN slow disk"},
				{stream: "stderr", body: `{"level":"error","msg":"db down"}`, want: `{"level":"error","msg":"db down"}`},
			}, resource: map[string]any{"logs.min_severity": "warn"}},
			{lines: []processedLine{
				{stream: "stdout", body: "INFO started", want: "INFO started"},
				{stream: "stdout", body: "no level word", want: "no level word"},
			}},
		}},
		{"rename-attributes.yaml", []processedContainer{{lines: []processedLine{
			{stream: "stdout", body: `{"msg":"GET /cart","lvl":"info","status":200}`, want: `{"msg":"GET /cart","lvl":"info","status":200}`,
				attrs: map[string]any{"message": "GET /cart", "level": "info", "status": float64(200)}, absent: []string{"msg", "lvl"}},
			{stream: "stdout", body: `{"message":"kept","msg":"dropped"}`, want: `{"message":"kept","msg":"dropped"}`,
				attrs: map[string]any{"message": "kept"}, absent: []string{"msg"}},
			{stream: "stdout", body: "plain line", want: "plain line"},
		}}}},
	} {
		t.Run(tc.recipe, func(t *testing.T) {
			label := runName(t) + "proc"
			sink := startRecipeRun(t, cli, image, tc.recipe, label)
			for i, c := range tc.containers {
				name := fmt.Sprintf("%s-%d", label, i)
				args := make([]string, len(c.lines))
				for j, l := range c.lines {
					args[j] = l.stream + ":" + l.body
				}
				labels := map[string]string{recipeLabel: label}
				maps.Copy(labels, c.labels)
				dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: name, Image: image, Cmd: args, Labels: labels})
			}
			for i, c := range tc.containers {
				checkProcessed(t, sink, fmt.Sprintf("%s-%d", label, i), c)
			}
		})
	}
}

// checkProcessed waits for the records a container's kept lines should give, then checks each one and that no
// dropped line arrived.
func checkProcessed(t *testing.T, sink *recordSink, name string, c processedContainer) {
	t.Helper()
	kept := 0
	for _, l := range c.lines {
		if !l.dropped {
			kept++
		}
	}
	eventually(t, 2*time.Minute, 200*time.Millisecond, name+"'s records at the OTLP endpoint", func() error {
		if n := len(sink.got(name)); n < kept {
			return fmt.Errorf("%w: %d of %d records", errNotYet, n, kept)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // a dropped line that arrived after all would show now
	bodies := map[string]int{}
	records := sink.got(name)
	for _, lr := range records {
		bodies[lr.Body().Str()]++
	}
	if len(records) != kept {
		t.Errorf("%s: %d records, want %d: %v", name, len(records), kept, bodies)
	}
	for _, l := range c.lines {
		if l.dropped {
			if bodies[l.body] > 0 {
				t.Errorf("%s: %q arrived, the recipe should drop it", name, l.body)
			}
			continue
		}
		if bodies[l.want] != 1 {
			t.Errorf("%s: %q arrived %d times as %q, want once (bodies: %v)", name, l.body, bodies[l.want], l.want, bodies)
			continue
		}
		for _, lr := range records {
			if lr.Body().Str() != l.want {
				continue
			}
			got := lr.Attributes().AsRaw()
			for k, v := range l.attrs {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s: %q: attribute %s = %v, want %v (attributes %v)", name, l.body, k, got[k], v, got)
				}
			}
			for _, k := range l.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s: %q: attribute %s should be gone (attributes %v)", name, l.body, k, got)
				}
			}
		}
	}
	res := sink.resource(name)
	for k, v := range c.resource {
		if !reflect.DeepEqual(res[k], v) {
			t.Errorf("%s: resource %s = %v, want %v (resource %v)", name, k, res[k], v, res)
		}
	}
}
