package dockerlogsreceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// rotationsSeen watches a container's current json-file file and counts its rotations: a new file under the name
// (max-file 2 and more) or the file getting smaller (max-file 1 truncates it in place). A rotation between two
// looks may go uncounted, so the count is at most the true one.
type rotationsSeen struct {
	path string
	ino  uint64
	size int64
	n    int
}

func (r *rotationsSeen) look() int {
	fi, err := os.Stat(r.path)
	if err != nil {
		return r.n // between the rename and the new file
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	if (r.ino != 0 && ino != r.ino) || fi.Size() < r.size {
		r.n++
	}
	r.ino, r.size = ino, fi.Size()
	return r.n
}

// driveUntilRotated waits until the container's log rotated n times, then stops it.
func driveUntilRotated(t *testing.T, cli *client.Client, id string, n int) {
	t.Helper()
	info, err := cli.ContainerInspect(context.Background(), id)
	require.NoError(t, err)
	seen := &rotationsSeen{path: info.LogPath}
	require.Eventually(t, func() bool { return seen.look() >= n }, 3*time.Minute, 2*time.Millisecond,
		"the log rotates %d times", n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, cli.ContainerStop(ctx, id, container.StopOptions{}))
}

// lastWritten returns the sequence numbers of the last line of each output, from what the log still holds.
func lastWritten(t *testing.T, cli *client.Client, id string) map[string]int {
	t.Helper()
	stdout, stderr := dockertest.Logs(t, cli, id)
	last := map[string]int{}
	for stream, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		_, seq, _, err := loggenline.ParseLine(lines[len(lines)-1])
		require.NoError(t, err, "%s: %.80q", stream, lines[len(lines)-1])
		last[stream] = seq
	}
	return last
}

// assertEveryLineOnce waits for the container's lines up to the last ones written and checks each arrived once,
// in order, and that no gap was counted.
func assertEveryLineOnce(t *testing.T, cli *client.Client, sink *collector, turns *turnLog, id string) {
	t.Helper()
	last := lastWritten(t, cli, id)
	waitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
		byStream := seqsByStream(t, sink.of(id))
		return lastOf(byStream["stdout"]) == last["stdout"] && lastOf(byStream["stderr"]) == last["stderr"],
			"the last lines arrive: " + seqRanges(t, sink.of(id))
	})
	time.Sleep(500 * time.Millisecond) // a late duplicate would show now
	byStream := seqsByStream(t, sink.of(id))
	assert.Equal(t, wantSeqs(0, last["stdout"]+1, 2), byStream["stdout"], "stdout: every line once, in order")
	assert.Equal(t, wantSeqs(1, last["stderr"]+1, 2), byStream["stderr"], "stderr: every line once, in order")
	turns.mu.Lock()
	gaps := turns.gaps
	turns.mu.Unlock()
	assert.Empty(t, gaps, "no gap: nothing was lost")
	t.Logf("%d lines once each; turns: %s", sink.count(id), turns)
}

// TestLogFilesMaxFileOneIsExact reads a container whose json-file log has max-file 1 from its files, through
// streams reopened every second: every line arrives once and no gap is counted, rotation after rotation. Docker
// 20.10 renames the full file over <id>-json.log.1 then; later engines truncate it in place, which the jsonfile
// package's tests reproduce.
func TestLogFilesMaxFileOneIsExact(t *testing.T) {
	cli := dockertest.Engine(t)
	cfg := testConfig()
	labels := isolate(t, cfg)
	cfg.StartAt = StartAtBeginning
	cfg.LogFiles.Enabled = true
	cfg.RotationInterval = time.Second // reopened often too, at any point of a file
	// Seconds of writing per file: room for a reader on a busy machine, which must read a file before it goes.
	id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
		LogOpts: map[string]string{"max-size": "500k", "max-file": "1"},
		Cmd:     []string{"-rate", "1000", "-streams", "both", "-delay", "1s"}})
	containersDir(t, cli, id, cfg)
	sink := &collector{}
	turns := newTurnLog()
	r := startReceiver(t, cfg, sink, turns)
	readsFiles(t, r, id)
	driveUntilRotated(t, cli, id, 4)
	assertEveryLineOnce(t, cli, sink, turns, id)
	assert.True(t, r.tracker.View().ReadsFiles(id), "read from its files throughout")
}

// TestLogFilesCompressedLogIsExact reads a container whose json-file log compresses its rotated files, compress
// spelt each of three ways Docker accepts (strconv.ParseBool), from its files: it writes 20,000 lines at 1,000 a
// second through about 20 rotations, every line arrives once, no gap is counted, and the files, not the API, are
// read; with True the stream is also reopened every second, so reopens land in the compressed files (a tail
// counted across .gz files, since applied to them). One container at a time: the log keeps about 3 s of lines, and three at once on a loaded 2-core machine
// with the race detector fall behind that, compressed or not.
func TestLogFilesCompressedLogIsExact(t *testing.T) {
	cli := dockertest.Engine(t)
	for _, v := range []string{"1", "true", "True"} {
		t.Run("compress="+v, func(t *testing.T) {
			cfg := testConfig()
			labels := isolate(t, cfg)
			cfg.StartAt = StartAtBeginning
			cfg.LogFiles.Enabled = true
			if v == "True" {
				cfg.RotationInterval = time.Second // reopened often too, at any point of a file, compressed or not
			}
			const lines = 20000
			id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: labels,
				LogOpts: map[string]string{"max-size": "100k", "max-file": "3", "compress": v},
				Cmd:     []string{"-count", fmt.Sprint(lines), "-rate", "1000", "-streams", "both", "-delay", "1s"}})
			containersDir(t, cli, id, cfg)
			sink := &collector{}
			turns := newTurnLog()
			r := startReceiver(t, cfg, sink, turns)
			readsFiles(t, r, id)
			dockertest.WaitExit(t, cli, id, 3*time.Minute)
			info, err := cli.ContainerInspect(context.Background(), id)
			require.NoError(t, err)
			gz, err := filepath.Glob(info.LogPath + ".*.gz")
			require.NoError(t, err)
			assert.NotEmpty(t, gz, "the rotated files are compressed")
			waitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
				byStream := seqsByStream(t, sink.of(id))
				return lastOf(byStream["stdout"]) == lines-2 && lastOf(byStream["stderr"]) == lines-1,
					"the last lines arrive: " + seqRanges(t, sink.of(id))
			})
			time.Sleep(500 * time.Millisecond) // a late duplicate would show now
			byStream := seqsByStream(t, sink.of(id))
			assert.Equal(t, wantSeqs(0, lines, 2), byStream["stdout"], "stdout: every line once, in order")
			assert.Equal(t, wantSeqs(1, lines, 2), byStream["stderr"], "stderr: every line once, in order")
			assert.True(t, r.tracker.View().ReadsFiles(id), "read from its files throughout")
			turns.mu.Lock()
			gaps := turns.gaps
			turns.mu.Unlock()
			assert.Empty(t, gaps, "no gap: nothing was lost")
			t.Logf("%d lines once each; turns: %s", sink.count(id), turns)
		})
	}
}
