package dockerlogsreceiver

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
	waitFor(t, 5*time.Minute, 100*time.Millisecond, func() (bool, string) {
		j, g := sink.count(java), sink.count(gosvc)
		return j >= traces && g >= goLines, fmt.Sprintf("java: %d of %d records, go: %d of %d; rotations %d, ends %v",
			j, traces, g, goLines, turns.rotations(), turns.endCounts())
	})
	arrived := time.Since(started)
	dockertest.WaitExit(t, cli, java, time.Minute)
	// Anything repeated late would show up now.
	time.Sleep(2 * time.Second)

	seen := map[int]int{}
	var splits []string
	lines := 0
	for _, r := range sink.of(java) {
		n, err := loggenline.ParseTrace("java", r.body)
		if err != nil {
			splits = append(splits, err.Error())
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
	duplicates := 0
	for _, c := range seen {
		duplicates += c - 1
	}
	rotations := turns.rotations()
	t.Logf("java: %d records (%d traces whole, %d lines), %d duplicates, %d split; go: %d records; rotations: %d (planned %d, handover %d); ends: %v; all records in %v",
		sink.count(java), len(seen), lines, duplicates, len(splits), sink.count(gosvc), rotations,
		turns.snapshot().yields["planned"], turns.snapshot().yields["handover"], turns.snapshot().ends, arrived.Round(time.Second))
	require.Empty(t, splits, "records that are not one whole trace")
	require.Zero(t, duplicates)
	require.Len(t, seen, traces)
	assert.Equal(t, traces, sink.count(java))
	assert.GreaterOrEqual(t, rotations, 50)

	byStream := seqsByStream(t, sink.of(gosvc))
	assert.Equal(t, wantSeqs(0, goLines, 2), byStream["stdout"])
	assert.Equal(t, wantSeqs(1, goLines, 2), byStream["stderr"])
	assert.Empty(t, turns.snapshot().gaps)
}
