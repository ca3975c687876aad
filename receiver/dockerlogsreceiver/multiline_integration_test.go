package dockerlogsreceiver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// TestMultilineTracesArriveWholeAcrossRotations runs one receiver for two services: a "Java" container printing
// 1,000 numbered stack traces of 20 to 40 lines (even ones on stdout, odd ones on stderr, one line per write),
// grouped by the receiver's line_start_pattern, and a "Go" container whose label turns multiline off (its lines
// do not match that pattern: without the label they would be joined). Both share
// one stream rotated every 200 ms and handed over every 150 ms, so records are cut by rotations and handovers
// again and again. The Java container lingers after its last trace, so that each output's last trace, which no
// next trace ends, is flushed by its timeout (1 s, longer than a turn). Every trace must arrive as exactly one
// record, whole, on its own output, and every line of the Go container as a record of its own.
func TestMultilineTracesArriveWholeAcrossRotations(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.LoggenImage(t, cli)

	cfg := testConfig()
	cfg.RotationInterval = 200 * time.Millisecond
	cfg.TimeSlice = 150 * time.Millisecond
	cfg.MaxConcurrentStreams = 1
	cfg.Multiline = &MultilineConfig{LineStartPattern: `^java trace=`, MaxLines: 500, MaxBytes: 1 << 20, FlushTimeout: time.Second}
	labels := isolate(t, cfg)
	sink := &collector{}
	turns := newTurnLog()
	startReceiver(t, cfg, sink, turns)

	const traces = 1000
	java := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: labels,
		Cmd: []string{"-traces", "-count", "1000", "-rate", "50", "-streams", "both", "-prefix", "java", "-linger", "5s"}})
	goLabels := map[string]string{"io.otelcol.docker_logs.multiline.disabled": "true"}
	for k, v := range labels {
		goLabels[k] = v
	}
	const goLines = 2000
	gosvc := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, Labels: goLabels,
		Cmd: []string{"-count", "2000", "-rate", "100", "-streams", "both", "-prefix", "go"}})

	started := time.Now()
	traceLines := 0
	for n := range traces {
		traceLines += loggenline.TraceLines(n)
	}
	waitFor(t, 5*time.Minute, 100*time.Millisecond, func() (bool, string) {
		j, g := linesOf(sink.of(java)), sink.count(gosvc)
		return j >= traceLines && g >= goLines, fmt.Sprintf("java: %d of %d lines, go: %d of %d; rotations %d, ends %v",
			j, traceLines, g, goLines, turns.rotations(), turns.endCounts())
	})
	arrived := time.Since(started)
	dockertest.WaitExit(t, cli, java, time.Minute)
	// Anything repeated late would show up now.
	time.Sleep(2 * time.Second)

	seen := map[int]int{}
	var splits []record
	lines := 0
	for _, r := range sink.of(java) {
		n, err := loggenline.ParseTrace("java", r.body)
		if err != nil {
			splits = append(splits, r)
			continue
		}
		seen[n]++
		lines += strings.Count(r.body, "\n") + 1
		want := "stdout"
		if n%2 == 1 {
			want = "stderr"
		}
		assert.Equal(t, want, r.stream, "trace %d", n)
	}
	bad, joined := joinSplits(t, cli, java, splits, cfg.Multiline.FlushTimeout)
	for _, n := range joined {
		seen[n]++
	}
	duplicates := 0
	for _, c := range seen {
		duplicates += c - 1
	}
	rotations := turns.rotations()
	t.Logf("java: %d records (%d traces whole, %d lines), %d duplicates, %d split; go: %d records; rotations: %d (planned %d, handover %d); ends: %v; all records in %v",
		sink.count(java), len(seen), lines, duplicates, len(splits), sink.count(gosvc), rotations,
		turns.snapshot().yields["planned"], turns.snapshot().yields["handover"], turns.snapshot().ends, arrived.Round(time.Second))
	require.Empty(t, bad, "records that are not one whole trace")
	require.Zero(t, duplicates)
	require.Len(t, seen, traces)
	assert.Equal(t, traces+len(splits)-len(joined), sink.count(java))
	assert.GreaterOrEqual(t, rotations, 50)

	byStream := seqsByStream(t, sink.of(gosvc))
	assert.Equal(t, wantSeqs(0, goLines, 2), byStream["stdout"])
	assert.Equal(t, wantSeqs(1, goLines, 2), byStream["stderr"])
	assert.Empty(t, turns.snapshot().gaps)
}

// joinSplits checks the records that are not one whole trace: a trace may be cut only where its writer left more
// than the flush timeout between two of its lines, by the daemon's own timestamps (a loaded machine can pause a
// container that long), and its pieces must then make the trace whole, once. It returns what is wrong and the
// traces the pieces made whole.
func joinSplits(t *testing.T, cli *client.Client, id string, splits []record, timeout time.Duration) (bad []string, whole []int) {
	if len(splits) == 0 {
		return nil, nil
	}
	stamps := daemonStamps(t, cli, id)
	pieces := map[int][]record{}
	for _, r := range splits {
		first, _, _ := strings.Cut(r.body, "\n")
		var frame, n int
		if _, err := fmt.Sscanf(first, "java trace=%d", &n); err == nil {
			pieces[n] = append(pieces[n], r)
			continue
		}
		if _, err := fmt.Sscanf(first, "\tat com.example.Service.frame%d(Service.java:%d)", &frame, &n); err != nil || frame < 1 {
			bad = append(bad, fmt.Sprintf("record starting %q", first))
			continue
		}
		pieces[n] = append(pieces[n], r)
		before := string(loggenline.AppendTraceLine(nil, "java", n, frame-1))
		pause := stamps[first].Sub(stamps[before])
		t.Logf("trace %d cut before frame %d: the writer left %v between the two lines (flush timeout %v)", n, frame, pause, timeout)
		if stamps[first].IsZero() || stamps[before].IsZero() || pause < timeout {
			bad = append(bad, fmt.Sprintf("trace %d cut before frame %d, %v after the line before it", n, frame, pause))
		}
	}
	for n, rs := range pieces {
		sort.Slice(rs, func(i, j int) bool { return rs[i].timestamp.Before(rs[j].timestamp) })
		bodies := make([]string, len(rs))
		for i, r := range rs {
			bodies[i] = r.body
		}
		if _, err := loggenline.ParseTrace("java", strings.Join(bodies, "\n")); err != nil {
			bad = append(bad, fmt.Sprintf("trace %d in %d records: %v", n, len(rs), err))
			continue
		}
		whole = append(whole, n)
	}
	return bad, whole
}

// daemonStamps returns the timestamp the daemon gave each line of a container's log, by the line's text.
func daemonStamps(t *testing.T, cli *client.Client, id string) map[string]time.Time {
	rc, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	require.NoError(t, err)
	defer rc.Close()
	var stdout, stderr strings.Builder
	_, err = stdcopy.StdCopy(&stdout, &stderr, rc)
	require.NoError(t, err)
	stamps := map[string]time.Time{}
	for _, line := range strings.Split(stdout.String()+stderr.String(), "\n") {
		stamp, text, ok := strings.Cut(line, " ")
		if ts, err := time.Parse(time.RFC3339Nano, stamp); ok && err == nil {
			stamps[text] = ts
		}
	}
	return stamps
}

// linesOf counts the lines of the records.
func linesOf(records []record) int {
	n := 0
	for _, r := range records {
		n += strings.Count(r.body, "\n") + 1
	}
	return n
}
