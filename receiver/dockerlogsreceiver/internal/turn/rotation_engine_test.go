package turn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// TestEngineLineThatStartsANewJSONFileArrivesOnce has a real engine rotate a json-file log just before a long line
// and the writer stop halfway through it: Docker 20.10's follower reaches the new file's end after the line's first
// piece and sends the file again from its start, that piece included. The line arrives once and whole, plain and
// on a TTY, and so do the lines around it; also with max-file 1, where the daemon keeps no file before the line's,
// so that only the stream saw the line begin. There the line is the last: a line after it would rotate it away at
// once, and a line the daemon no longer keeps cannot be told from the pieces sent again.
func TestEngineLineThatStartsANewJSONFileArrivesOnce(t *testing.T) {
	cli := dockertest.Engine(t)
	for _, c := range []struct {
		tty      bool
		maxFiles string
		lines    int
	}{{false, "3", 3}, {true, "3", 3}, {false, "1", 2}, {true, "1", 2}} {
		tty := c.tty
		t.Run(fmt.Sprintf("tty=%v/max-file=%s", tty, c.maxFiles), func(t *testing.T) {
			const size = 60000
			// Line 0 takes four entries, over 50 KB: the daemon rotates before line 1, which starts the second file.
			id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{TTY: tty,
				LogOpts: map[string]string{"max-size": "50k", "max-file": c.maxFiles},
				Cmd:     []string{"-count", fmt.Sprint(c.lines), "-size", fmt.Sprint(size), "-pause-after", "1", "-pause-mid"}})
			dc, err := docker.NewClient(docker.Settings{Endpoint: cli.DaemonHost(), Timeout: 30 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = dc.Close() })
			open := func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) { return dc.Logs(ctx, id, req) }

			var want []string
			for seq := range c.lines {
				want = append(want, string(loggenline.Append(nil, "loggen", seq, loggenline.Stdout, size)))
			}
			// A follower of the test's own shows what the daemon sends.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			raw := watchRaw(t, ctx, open)

			s := &sink{}
			spec := Spec{Open: open, Deliver: s.deliver, TTY: tty, Driver: "json-file", MaxLineBytes: 20000, MaxBatch: 64,
				FlushInterval: 10 * time.Millisecond}
			ended := make(chan Outcome, 1)
			go func() { ended <- Run(ctx, spec, nil) }()

			delivered := func() string {
				s.mu.Lock()
				defer s.mu.Unlock()
				var b strings.Builder
				for _, l := range s.lines {
					b.WriteString(l.Body)
				}
				return b.String()
			}
			waitUntil(t, "line 0 delivered", func() bool { return len(delivered()) >= size })
			require.NoError(t, cli.ContainerKill(ctx, id, "USR1"))
			// The first half of line 1 is stored: its first piece, and the daemon sends it again to a follower that
			// read it from the new file before the rest was written.
			start := want[1][:40]
			waitUntil(t, "the first piece of line 1 read", func() bool { return raw.count(start) >= 1 })
			again := waitFor(30*time.Second, func() bool { return raw.count(start) >= 2 })
			t.Logf("the daemon sent the first piece of line 1 again: %v", again)
			require.NoError(t, cli.ContainerKill(ctx, id, "USR1"))

			var out Outcome
			select {
			case out = <-ended:
			case <-time.After(2 * time.Minute):
				t.Fatal("the turn did not end with the container")
			}
			assert.Equal(t, EndStreamClosed, out.End)
			got := delivered()
			assert.Equal(t, len(strings.Join(want, "")), len(got), "every byte once")
			assert.True(t, strings.Join(want, "") == got, "the lines in order, whole")
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, l := range s.lines {
				assert.LessOrEqual(t, len(l.Body), spec.MaxLineBytes)
			}
			assert.Empty(t, out.Gaps)
		})
	}
}

// rawLog is what a follower of the test's own read, unparsed.
type rawLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *rawLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// count says how many times text was sent.
func (r *rawLog) count(text string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Count(r.buf.Bytes(), []byte(text))
}

// watchRaw follows the container's whole log into a rawLog until ctx ends.
func watchRaw(t *testing.T, ctx context.Context, open Opener) *rawLog {
	t.Helper()
	body, err := open(ctx, docker.LogsRequest{Follow: true})
	require.NoError(t, err)
	raw := &rawLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(raw, body)
	}()
	t.Cleanup(func() {
		body.Close()
		<-done
	})
	return raw
}

// waitUntil polls cond until it holds, failing the test after a deadline that only a broken run reaches.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !waitFor(2*time.Minute, cond) {
		t.Fatalf("not within 2m: %s", what)
	}
}

// waitFor polls cond until it holds or d passes, and says whether it held.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestEngineRunOfOneByteArrivesWhole has a real engine store a line of one byte repeated, whose 16 KiB pieces are
// equal: they are content, and the line arrives whole, plain and on a TTY.
func TestEngineRunOfOneByteArrivesWhole(t *testing.T) {
	cli := dockertest.Engine(t)
	image := dockertest.PrintLinesImage(t, cli)
	run := strings.Repeat("=", 100000)
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Image: image, TTY: tty,
				LogOpts: map[string]string{"max-size": "1m", "max-file": "3", "compress": "1"},
				Cmd:     []string{"stdout:before", "stdout:" + run, "stdout:after"}})
			dockertest.WaitExit(t, cli, id, 2*time.Minute)
			dc, err := docker.NewClient(docker.Settings{Endpoint: cli.DaemonHost(), Timeout: 30 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = dc.Close() })
			s := &sink{}
			spec := Spec{Open: func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) { return dc.Logs(ctx, id, req) },
				Deliver: s.deliver, TTY: tty, Driver: "json-file", MaxLineBytes: 20000, MaxBatch: 64, FlushInterval: 10 * time.Millisecond}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out := Run(ctx, spec, nil)
			assert.Equal(t, EndStreamClosed, out.End)
			var b strings.Builder
			for _, l := range s.lines {
				b.WriteString(l.Body)
			}
			assert.True(t, b.String() == "before"+run+"after", "got %d bytes, want %d", b.Len(), len("before"+run+"after"))
		})
	}
}
