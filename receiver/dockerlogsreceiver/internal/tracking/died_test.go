package tracking

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// TestAContainerRemovedAfterItDiedIsDeliveredOrCountedLineByLine runs the tracker against the engine, with a
// container that writes 10 lines, which a turn reads, then waits; then it writes 10 more and exits, or is killed
// with nothing more to write, and is removed; or `docker rm -f` kills and removes it at once. While a turn reads
// it, its stream ends at the stop without the lines written meanwhile, as Docker 20.10's follower can; otherwise
// the turn had yielded before. Every line it wrote is either delivered or inside a removed_unread gap, and a
// container read to its log's end is not counted.
func TestAContainerRemovedAfterItDiedIsDeliveredOrCountedLineByLine(t *testing.T) {
	cli := dockertest.Engine(t)
	client := engineClient(t)
	for _, tc := range []struct {
		name   string
		end    string // "more": 10 more lines, then it exits; "kill": killed while it waits; "rm -f": removed so
		inTurn bool   // a turn reads it, and its stream ends at the stop, cut; otherwise no turn reads it
	}{
		{"lines left, stream ended at the stop", "more", true},
		{"lines left, waiting for a turn", "more", false},
		{"read whole, stream ended at the stop", "kill", true},
		{"read whole, waiting for a turn", "kill", false},
		{"rm -f, stream ended at the stop", "rm -f", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			label := "dlr-died-" + strings.NewReplacer(" ", "-", ",", "").Replace(tc.name)
			id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Labels: map[string]string{label: "1"},
				Cmd: []string{"-count", "20", "-pause-after", "10"}})
			tr, tel := testTracker(t, zaptest.NewLogger(t), client, Config{StartAtBeginning: true,
				ReconcileInterval: time.Hour, MaxConcurrentStreams: 4, TimeSlice: time.Hour, MaxLogSize: 16 * 1024,
				MaxBatchSize: 100, FlushInterval: 20 * time.Millisecond,
				Multiline:        func(map[string]string) (*multiline.Rule, error) { return nil, nil },
				DefaultMultiline: func() *multiline.Rule { return nil }})
			var err error
			tr.filter, err = selection.NewFilter(selection.Rules{Labels: map[string]string{label: "1"}}, selection.Rules{})
			require.NoError(t, err)
			tr.health = nopHealth{}
			got := &delivered{}
			tr.deliverer = got
			cut := newCutStreams(tr.openLogs)
			tr.openLogs = cut.open

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() {
				cancel()
				wg.Wait()
			}()
			wg.Go(func() { tr.Run(ctx) })
			require.Eventually(t, func() bool { return tr.containers.get(id) != nil }, time.Minute, 10*time.Millisecond,
				"the running container is tracked")

			yield := make(chan pool.Reason, 1)
			turnDone := make(chan struct{})
			go func() {
				defer close(turnDone)
				tr.Turn(ctx, id, yield)
			}()
			require.Eventually(t, func() bool { return got.count() == 10 }, time.Minute, 10*time.Millisecond,
				"the first 10 lines are delivered")
			if tc.inTurn {
				cut.cut()
			} else {
				yield <- pool.ReasonPlanned
				<-turnDone
			}
			c := tr.containers.get(id)
			stamps := map[int]int64{}
			switch tc.end {
			case "rm -f":
				stamps = logStamps(t, cli, id)
				require.NoError(t, cli.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true}))
				require.Eventually(t, func() bool { return dieReadReturned(c) }, time.Minute, 10*time.Millisecond)
			default:
				require.NoError(t, cli.ContainerKill(context.Background(), id, map[string]string{"more": "USR1", "kill": "KILL"}[tc.end]))
				dockertest.WaitExit(t, cli, id, time.Minute)
				stamps = logStamps(t, cli, id)
				// The die event is handled before the removal, as when a container is stopped, then removed.
				require.Eventually(t, func() bool { return dieReadReturned(c) }, time.Minute, 10*time.Millisecond,
					"the log's end is read at the die event")
				require.NoError(t, cli.ContainerRemove(context.Background(), id, container.RemoveOptions{}))
			}
			require.Len(t, stamps, map[bool]int{true: 20, false: 10}[tc.end == "more"])
			require.Eventually(t, func() bool { return c.is(forgotten) }, time.Minute, 10*time.Millisecond,
				"the destroy event is handled")
			cut.release()
			<-turnDone
			require.Eventually(t, func() bool { return tr.containers.get(id) == nil }, time.Minute, 10*time.Millisecond)

			gaps := tel.gapsSeen()
			seqs := got.seqs(t)
			var neither []int
			for seq, ts := range stamps {
				if !seqs[seq] && !inGap(gaps, ts) {
					neither = append(neither, seq)
				}
			}
			assert.Empty(t, neither, "lines neither delivered nor in a removed_unread gap (gaps %v)", gaps)
			if tc.end == "more" {
				require.Len(t, gaps, 1, "counted once")
				assert.Equal(t, stamps[19], gaps[0].To, "the gap ends at the log's last line")
			} else {
				assert.Empty(t, gaps, "a container read to the end of its log is not counted")
				assert.Len(t, seqs, 10)
			}
			if tc.end == "rm -f" {
				// The daemon refuses the log of a container whose removal began, and `rm -f` begins it before the
				// kill: the die event comes too late to read the log's end (died.go).
				_, _, ok := c.lastAtDie(ctx)
				assert.False(t, ok, "the log's end read at the die event of a container removed with rm -f")
			}
		})
	}
}

// TestReadToTheLogsEndOnlyWhenTheEntryReadAtTheDieEventProvesIt: a removal finds a container read to its log's
// end only from a die-time read that returned, of an entry not after the position, and not in the same whole second
// (Podman's stamps: a line after the position can share its time).
func TestReadToTheLogsEndOnlyWhenTheEntryReadAtTheDieEventProvesIt(t *testing.T) {
	const sec = int64(time.Second)
	var at checkpoint.Cursor
	at.Advance(decode.Stdout, 100*sec+5, 0)
	var atWhole checkpoint.Cursor
	atWhole.Advance(decode.Stdout, 100*sec, 0)
	returned := func(e turn.Entry, err error) *lastAtDie {
		d := &lastAtDie{done: make(chan struct{}), entry: e, err: err}
		close(d.done)
		return d
	}
	for _, tc := range []struct {
		name string
		cur  checkpoint.Cursor
		died *lastAtDie
		want bool
	}{
		{"no die event", at, nil, false},
		{"read under way", at, &lastAtDie{done: make(chan struct{})}, false},
		{"read failed", at, returned(turn.Entry{}, docker.ErrGone), false},
		{"empty log", checkpoint.Cursor{}, returned(turn.Entry{}, nil), true},
		{"last entry read", at, returned(turn.Entry{Timestamp: 100*sec + 5}, nil), true},
		{"older entry", at, returned(turn.Entry{Timestamp: 99 * sec}, nil), true},
		{"newer entry", at, returned(turn.Entry{Timestamp: 100*sec + 6}, nil), false},
		{"same whole second", atWhole, returned(turn.Entry{Timestamp: 100 * sec}, nil), false},
	} {
		c := &trackedContainer{cursor: tc.cur, died: tc.died}
		c.mu.Lock()
		assert.Equal(t, tc.want, c.readToDieLocked(), tc.name)
		c.mu.Unlock()
	}
}

// inGap reports whether a line stamped ts lies in a removed_unread gap.
func inGap(gaps []turn.Gap, ts int64) bool {
	for _, g := range gaps {
		if g.Cause == turn.GapRemovedUnread && g.From < ts && ts <= g.To {
			return true
		}
	}
	return false
}

// dieReadReturned reports whether the read of the log's end started at the container's die event returned.
func dieReadReturned(c *trackedContainer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.died == nil {
		return false
	}
	select {
	case <-c.died.done:
		return true
	default:
		return false
	}
}

// logStamps returns the daemon's timestamp of each line of the container's log, by its loggen sequence number.
func logStamps(t *testing.T, cli *client.Client, id string) map[int]int64 {
	t.Helper()
	rc, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	require.NoError(t, err)
	defer rc.Close()
	var out strings.Builder
	_, err = stdcopy.StdCopy(&out, &out, rc)
	require.NoError(t, err)
	stamps := map[int]int64{}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		stamp, body, ok := strings.Cut(sc.Text(), " ")
		require.True(t, ok, "%q", sc.Text())
		at, err := time.Parse(time.RFC3339Nano, stamp)
		require.NoError(t, err)
		_, seq, _, err := loggenline.ParseLine(body)
		require.NoError(t, err)
		stamps[seq] = at.UnixNano()
	}
	return stamps
}

// delivered is a Deliverer that keeps the lines it accepted.
type delivered struct {
	mu    sync.Mutex
	lines []turn.Line
}

func (d *delivered) Deliver(_ context.Context, _ records.Meta, lines []turn.Line) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lines = append(d.lines, lines...)
	return nil
}

func (d *delivered) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.lines)
}

// seqs returns the sequence numbers of the lines accepted, each once.
func (d *delivered) seqs(t *testing.T) map[int]bool {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[int]bool{}
	for _, l := range d.lines {
		_, seq, _, err := loggenline.ParseLine(l.Body)
		require.NoError(t, err)
		require.False(t, seen[seq], "line %d delivered twice", seq)
		seen[seq] = true
	}
	return seen
}

// nopHealth is a Health told nothing.
type nopHealth struct{}

func (nopHealth) DaemonFailed(error) {}
func (nopHealth) DaemonAnswered()    {}

// cutStreams opens follow streams that end the way Docker 20.10's follower can at a container's stop: once cut,
// whatever the daemon sends is dropped, and the stream ends when released (or closed).
type cutStreams struct {
	logs     func(ctx context.Context, id string, req docker.LogsRequest) (io.ReadCloser, error)
	cutting  chan struct{}
	released chan struct{}
}

func newCutStreams(logs func(context.Context, string, docker.LogsRequest) (io.ReadCloser, error)) *cutStreams {
	return &cutStreams{logs: logs, cutting: make(chan struct{}), released: make(chan struct{})}
}

func (s *cutStreams) cut()     { close(s.cutting) }
func (s *cutStreams) release() { close(s.released) }

func (s *cutStreams) open(ctx context.Context, id string, req docker.LogsRequest) (io.ReadCloser, error) {
	body, err := s.logs(ctx, id, req)
	if err != nil || !req.Follow {
		return body, err
	}
	return &cutStream{body: body, s: s, closed: make(chan struct{})}, nil
}

// cutStream is one stream of cutStreams.
type cutStream struct {
	body   io.ReadCloser
	s      *cutStreams
	once   sync.Once
	closed chan struct{}
}

func (c *cutStream) Read(p []byte) (int, error) {
	if c.isCut() {
		return c.end()
	}
	n, err := c.body.Read(p)
	if c.isCut() {
		return c.end()
	}
	return n, err
}

func (c *cutStream) isCut() bool {
	select {
	case <-c.s.cutting:
		return true
	default:
		return false
	}
}

func (c *cutStream) end() (int, error) {
	select {
	case <-c.s.released:
	case <-c.closed:
	}
	return 0, io.EOF
}

func (c *cutStream) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.body.Close()
}
