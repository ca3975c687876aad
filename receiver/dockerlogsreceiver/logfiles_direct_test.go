package dockerlogsreceiver

import (
	"context"
	"fmt"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/memstorage"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

func TestLogFilesConfigIsValidated(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.LogFiles = LogFilesConfig{Enabled: true, Directory: "containers", PollInterval: time.Minute}
	assert.EqualError(t, cfg.Validate(), `log_files.directory "containers" must be an absolute path`+"\n"+
		"log_files.poll_interval must be between 1ms and 10s")
	cfg.LogFiles = LogFilesConfig{Enabled: true}
	assert.NoError(t, cfg.Validate())
	assert.Equal(t, DefaultLogFilesDirectory, cfg.LogFiles.dir())
}

// containersDir returns the directory of a container's log files as the daemon reports it, and points cfg at it.
func containersDir(t *testing.T, cli *client.Client, id string, cfg *Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := cli.ContainerInspect(ctx, id)
	require.NoError(t, err)
	require.NotEmpty(t, info.LogPath)
	cfg.LogFiles.Directory = filepath.Dir(filepath.Dir(info.LogPath))
	if f, err := os.Open(info.LogPath); err != nil {
		t.Skipf("the engine's log files cannot be read here: %v", err)
	} else {
		f.Close()
	}
}

// readsFiles waits until the receiver reads the container from its files.
func readsFiles(t *testing.T, r *logsReceiver, id string) {
	t.Helper()
	require.Eventually(t, func() bool { return r.tracker.View().ReadsFiles(id) }, 30*time.Second, 10*time.Millisecond,
		"the container is read from its files")
}

// logFileCount counts a container's json-file files now.
func logFileCount(t *testing.T, cli *client.Client, id string) int {
	info, err := cli.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Errorf("inspect container %s: %v", id, err)
		return 0
	}
	names, _ := filepath.Glob(info.LogPath + "*")
	return len(names)
}

// assertOnce checks that the container's lines arrived exactly once each and in order per output.
func assertOnce(t *testing.T, sink *collector, id string, lines int) {
	t.Helper()
	byStream := seqsByStream(t, sink.of(id))
	assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "stdout: every line once, in order")
	assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "stderr: every line once, in order")
}

// TestLogFilesEveryLineOnceAcrossRotations reads a container whose json-file log rotates many times from its
// files, through streams rotated every second: every line arrives once. The container writes until both have
// rotated often enough, however long that takes on a busy machine.
func TestLogFilesEveryLineOnceAcrossRotations(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.StartAt = StartAtBeginning
	cfg.RotationInterval = time.Second
	cfg.LogFiles.Enabled = true
	// About 500 lines a file: a thousand files keep minutes of writing, so that no file is deleted unread.
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		LogOpts: map[string]string{"max-size": "50k", "max-file": "1000"},
		Cmd:     []string{"-rate", "3000", "-streams", "both", "-delay", "1s"}})
	containersDir(t, cli, id, cfg)
	sink := &collector{}
	turns := newTurnLog()
	r := startReceiver(t, cfg, sink, turns)
	readsFiles(t, r, id)
	const wantFiles, wantRotations = 21, 11
	var files atomic.Int64
	if !assert.Eventually(t, func() bool {
		files.Store(int64(logFileCount(t, cli, id)))
		return files.Load() >= wantFiles && turns.rotations() >= wantRotations
	}, 5*time.Minute, 100*time.Millisecond) {
		t.Fatalf("%d json-file files and %d stream rotations wanted; %d and %d after 5 minutes", wantFiles, wantRotations, files.Load(), turns.rotations())
	}
	checked, _ := checkAllOnce(t, cli, sink, []string{id})
	t.Logf("%d lines once each, from %d json-file files, across %d stream rotations", checked, logFileCount(t, cli, id), turns.rotations())
}

// missingSeqs describes which of the sequence numbers from, from+step, ... below to are missing from seqs.
func missingSeqs(seqs []int, from, to, step int) string {
	seen := map[int]bool{}
	for _, s := range seqs {
		seen[s] = true
	}
	var runs []string
	for i := from; i < to; i += step {
		if seen[i] {
			continue
		}
		j := i
		for j+step < to && !seen[j+step] {
			j += step
		}
		runs = append(runs, fmt.Sprintf("%d-%d", i, j))
		i = j
	}
	if len(runs) > 10 {
		runs = append(runs[:10], "...")
	}
	return fmt.Sprintf("%d lines, last %d, missing %v", len(seqs), lastOf(seqs), runs)
}

// seqRanges describes, per output, the runs of consecutive sequence numbers in recs, in arrival order.
func seqRanges(t *testing.T, recs []record) string {
	var out []string
	for stream, seqs := range seqsByStream(t, recs) {
		var runs []string
		for i := 0; i < len(seqs); {
			j := i
			for j+1 < len(seqs) && seqs[j+1] == seqs[j]+2 {
				j++
			}
			runs = append(runs, fmt.Sprintf("%d-%d", seqs[i], seqs[j]))
			i = j + 1
		}
		if len(runs) > 10 {
			runs = append(runs[:10], "...")
		}
		out = append(out, fmt.Sprintf("%s %v", stream, runs))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// TestLogFilesSwitchingPathsIsExactlyOnce reads one container through the API, then from its files, then through
// the API again, over the same saved positions, with the receiver stopped in between while the container writes.
func TestLogFilesSwitchingPathsIsExactlyOnce(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.StartAt = StartAtBeginning
	const lines = 16000
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		LogOpts: map[string]string{"max-size": "100k", "max-file": "50"},
		Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both", "-delay", "1s"}})
	containersDir(t, cli, id, cfg)
	sink := &collector{}
	turns := newTurnLog()
	start := restartableOver(t, cfg, sink, memstorage.New(), turns.observe)
	phases := []bool{false, true, false, true}
	for i, files := range phases {
		cfg.LogFiles.Enabled = files
		before := len(sink.of(id))
		defer func() {
			if t.Failed() {
				t.Logf("phase %d (files=%v) delivered %s", i, files, seqRanges(t, sink.of(id)[before:]))
			}
		}()
		r := start()
		if files {
			readsFiles(t, r, id)
		} else {
			assert.False(t, r.tracker.View().ReadsFiles(id), "read through the API")
		}
		if i < len(phases)-1 {
			want := sink.count(id) + 2000
			waitFor(t, 3*time.Minute, 10*time.Millisecond, func() (bool, string) {
				n := sink.count(id)
				return n >= want, fmt.Sprintf("phase %d: %d of %d lines", i, n, want)
			})
		} else {
			if !assert.Eventually(t, func() bool { return sink.count(id) >= lines }, 3*time.Minute, 10*time.Millisecond) {
				byStream := seqsByStream(t, sink.of(id))
				t.Fatalf("phase %d: %d of %d lines; stdout %s; stderr %s; turns: %s", i, sink.count(id), lines,
					missingSeqs(byStream["stdout"], 0, lines, 2), missingSeqs(byStream["stderr"], 1, lines, 2), turns)
			}
			time.Sleep(500 * time.Millisecond)
		}
		require.NoError(t, r.Shutdown(context.Background()))
		t.Logf("phase %d (files=%v): %d lines so far", i, files, sink.count(id))
		time.Sleep(700 * time.Millisecond) // the container writes on while no receiver runs
	}
	assertOnce(t, sink, id, lines)
	t.Logf("turns: %s", turns)
}

// TestLogFilesRotatedAwayIsAGap holds the pipeline while a container with a small json-file log writes on, so that
// Docker's rotation deletes files before they are read: the lines the log still holds arrive once, and the loss is
// reported as a rotated_away gap, as through the API.
func TestLogFilesRotatedAwayIsAGap(t *testing.T) {
	cli := dockertest.Engine(t)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.LogFiles.Enabled = true
	const lines = 20000
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		LogOpts: map[string]string{"max-size": "100k", "max-file": "2"},
		Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both", "-delay", "1s"}})
	containersDir(t, cli, id, cfg)
	sink := newPausingCollector(300)
	seen := &outcomes{}
	logs := startObserved(t, cfg, tt, sink, seen.observe)
	select {
	case <-sink.paused:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the pipeline never held a batch: %d records", sink.count(id))
	}
	dockertest.WaitExit(t, cli, id, 2*time.Minute)
	close(sink.released)
	require.Eventually(t, func() bool {
		byStream := seqsByStream(t, sink.of(id))
		return lastOf(byStream["stdout"]) == lines-2 && lastOf(byStream["stderr"]) == lines-1
	}, 2*time.Minute, 20*time.Millisecond, "the last lines arrive")

	byStream := seqsByStream(t, sink.of(id))
	for _, stream := range []string{"stdout", "stderr"} {
		seqs := byStream[stream]
		require.Equal(t, -1, firstDuplicate(seqs), "%s: every line at most once", stream)
		jumps := 0
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+2 {
				jumps++
			}
		}
		assert.Equal(t, 1, jumps, "%s: the lost lines are one run", stream)
	}
	seen.mu.Lock()
	var gaps []turn.Gap
	for _, out := range seen.all {
		gaps = append(gaps, out.Gaps...)
	}
	seen.mu.Unlock()
	require.Len(t, gaps, 1, "one gap, reported once")
	assert.Equal(t, turn.GapRotatedAway, gaps[0].Cause)
	assert.Len(t, logs.FilterMessageSnippet("log rotation deleted them").All(), 1)
	t.Logf("lines written %d, delivered %d, lost %d; gap of %v reported", lines, sink.count(id), lines-sink.count(id), gaps[0].Duration())
}
