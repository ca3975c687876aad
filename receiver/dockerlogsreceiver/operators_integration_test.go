package dockerlogsreceiver

import (
	"context"
	"fmt"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/memstorage"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// recordSink keeps every record it receives with its attributes and severity.
type recordSink struct {
	mu      sync.Mutex
	records []sunkRecord
}

type sunkRecord struct {
	containerID string
	body        string
	attrs       map[string]any
	severity    plog.SeverityNumber
	sevText     string
}

func (s *recordSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *recordSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		id, _ := rl.Resource().Attributes().Get(attrContainerID)
		for _, lr := range allRecordsOf(rl) {
			s.records = append(s.records, sunkRecord{containerID: id.Str(), body: lr.Body().Str(),
				attrs: lr.Attributes().AsRaw(), severity: lr.SeverityNumber(), sevText: lr.SeverityText()})
		}
	}
	return nil
}

func (s *recordSink) of(id string) []sunkRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunkRecord
	for _, r := range s.records {
		if r.containerID == id {
			out = append(out, r)
		}
	}
	return out
}

// byBody indexes records by body; stdout and stderr lines need not arrive in the order they were written.
func byBody(t *testing.T, recs []sunkRecord) map[string]sunkRecord {
	t.Helper()
	out := map[string]sunkRecord{}
	for _, r := range recs {
		_, dup := out[r.body]
		require.False(t, dup, "%q delivered twice", r.body)
		out[r.body] = r
	}
	return out
}

// TestOperatorsOnARealContainer runs operators on the lines of a container that writes JSON and plain lines on
// both outputs, each output ending with a line a filter drops, and checks the records; then a receiver without
// operators, over the same saved positions, reads the container's next run: the dropped lines counted as
// delivered, so nothing of the first run comes again.
func TestOperatorsOnARealContainer(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.PrintLinesImage(t, cli)
	cfg := testConfig()
	labels := isolate(t, cfg)
	withOps, err := configWithOperators(t, `
- type: json_parser
  if: 'body matches "^\\{"'
- type: severity_parser
  if: 'attributes.level != nil'
  parse_from: attributes.level
- type: filter
  expr: 'body contains "drop-me"'
`)
	require.NoError(t, err)
	cfg.Operators = withOps.Operators
	// Positions kept across the two receivers, as file_storage keeps them across restarts.
	storageID := component.MustNewID("memory_storage")
	host := storageHost{Host: nopHost(), id: storageID, ext: memstorage.New()}
	cfg.Storage = &storageID
	start := func(next consumer.Logs) *logsReceiver {
		require.NoError(t, cfg.Validate())
		r, err := newLogsReceiver(receiverSettings(t), cfg, next)
		require.NoError(t, err)
		require.NoError(t, r.Start(context.Background(), host))
		return r
	}
	sink := &recordSink{}
	written := []string{
		`stdout:{"level":"info","msg":"started","port":8080}`,
		"stdout:plain stdout line",
		`stderr:{"level":"error","msg":"db down"}`,
		"stderr:plain stderr line",
		"stdout:drop-me stdout",
		"stderr:drop-me stderr",
	}
	r := start(sink)
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels, Cmd: written})
	require.Zero(t, dockertest.WaitExit(t, cli, id, time.Minute))
	waitFor(t, time.Minute, 20*time.Millisecond, func() (bool, string) {
		n := len(sink.of(id))
		return n >= 4, fmt.Sprintf("%d of 4 records", n)
	})
	time.Sleep(time.Second) // anything more would show now

	got := byBody(t, sink.of(id))
	assert.Len(t, got, 4, "the two drop-me lines are filtered out")
	assert.Equal(t, sunkRecord{containerID: id, body: `{"level":"info","msg":"started","port":8080}`,
		attrs:    map[string]any{records.AttrIOStream: "stdout", "level": "info", "msg": "started", "port": float64(8080)},
		severity: plog.SeverityNumberInfo, sevText: "info"}, got[`{"level":"info","msg":"started","port":8080}`])
	assert.Equal(t, sunkRecord{containerID: id, body: `{"level":"error","msg":"db down"}`,
		attrs:    map[string]any{records.AttrIOStream: "stderr", "level": "error", "msg": "db down"},
		severity: plog.SeverityNumberError, sevText: "error"}, got[`{"level":"error","msg":"db down"}`])
	assert.Equal(t, sunkRecord{containerID: id, body: "plain stdout line", attrs: map[string]any{records.AttrIOStream: "stdout"}},
		got["plain stdout line"])
	assert.Equal(t, sunkRecord{containerID: id, body: "plain stderr line", attrs: map[string]any{records.AttrIOStream: "stderr"}},
		got["plain stderr line"])
	require.NoError(t, r.Shutdown(context.Background()))

	// The same storage, no operators: a line the filter dropped would now arrive.
	cfg.Operators = nil
	plain := &recordSink{}
	r = start(plain)
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, cli.ContainerStart(ctx, id, container.StartOptions{}))
	require.Zero(t, dockertest.WaitExit(t, cli, id, time.Minute))
	waitFor(t, time.Minute, 20*time.Millisecond, func() (bool, string) {
		n := len(plain.of(id))
		return n >= len(written), fmt.Sprintf("%d of %d records of the second run", n, len(written))
	})
	time.Sleep(time.Second)
	second := byBody(t, plain.of(id)) // each body once: the first run's lines did not come again
	assert.Len(t, second, len(written))
	for _, rec := range second {
		assert.Equal(t, map[string]any{records.AttrIOStream: rec.attrs[records.AttrIOStream]}, rec.attrs, "no operators: %q unparsed", rec.body)
	}
}

// allRecordsOf returns the records of one resource, of every scope.
func allRecordsOf(rl plog.ResourceLogs) []plog.LogRecord {
	var out []plog.LogRecord
	for j := range rl.ScopeLogs().Len() {
		for k := range rl.ScopeLogs().At(j).LogRecords().Len() {
			out = append(out, rl.ScopeLogs().At(j).LogRecords().At(k))
		}
	}
	return out
}
