package dockerlogsreceiver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// record is one received log record, flattened for checks.
type record struct {
	containerID string
	name        string
	stream      string
	body        string
	timestamp   time.Time
	resource    map[string]any
}

// collector is a consumer that keeps every record and can refuse some calls.
type collector struct {
	mu      sync.Mutex
	records []record
	calls   atomic.Int64
	// failEvery, when positive, refuses every failEvery-th call.
	failEvery int64
	refused   atomic.Int64
}

func (c *collector) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *collector) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if n := c.calls.Add(1); c.failEvery > 0 && n%c.failEvery == 0 {
		c.refused.Add(1)
		return errors.New("refused on purpose")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		res := rl.Resource().Attributes().AsRaw()
		id, _ := res[attrContainerID].(string)
		name, _ := res[attrContainerName].(string)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				stream, _ := lr.Attributes().Get(records.AttrIOStream)
				c.records = append(c.records, record{
					containerID: id, name: name, stream: stream.Str(), body: lr.Body().Str(),
					timestamp: lr.Timestamp().AsTime(), resource: res,
				})
			}
		}
	}
	return nil
}

// of returns the records of one container.
func (c *collector) of(id string) []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []record
	for _, r := range c.records {
		if r.containerID == id {
			out = append(out, r)
		}
	}
	return out
}

func (c *collector) count(id string) int {
	return len(c.of(id))
}

// turnLog counts how the receiver's turns ended.
type turnLog struct {
	mu sync.Mutex
	turnCounts
	closedAt map[string]time.Time
	// failedOpens counts, per container, the turns whose stream could not be opened.
	failedOpens map[string]int
}

func newTurnLog() *turnLog {
	return &turnLog{turnCounts: turnCounts{ends: map[turn.End]int{}, yields: map[pool.Reason]int{}},
		closedAt: map[string]time.Time{}, failedOpens: map[string]int{}}
}

func (l *turnLog) observe(id string, out turn.Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends[out.End]++
	if out.End == turn.EndOpenFailed {
		l.failedOpens[id]++
	}
	if out.End == turn.EndYielded {
		l.yields[out.Yield]++
	}
	if out.WindowMissed {
		l.missed++
	}
	if out.End == turn.EndStreamClosed {
		l.closedAt[id] = time.Now()
	}
	l.dups += out.Duplicates
	l.stalls += out.Stalls
	l.behind += out.FellBehind
	l.jumps += out.Jumps
	l.gaps = append(l.gaps, out.Gaps...)
}

// yieldsOf counts the turns the pool ended for reason.
func (l *turnLog) yieldsOf(reason pool.Reason) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.yields[reason]
}

// rotations counts the turns the pool ended: planned rotations and handovers.
func (l *turnLog) rotations() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.yields[pool.ReasonPlanned] + l.yields[pool.ReasonHandover]
}

// openFailures counts the turns of the container whose stream could not be opened.
func (l *turnLog) openFailures(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failedOpens[id]
}

// String sums up the turns seen, for failure messages.
func (l *turnLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("ends %v, yields %v, stalls %d, fell behind %d, jumps %d, duplicates dropped %d, re-reads missed %d, gaps %d, failed opens %v",
		l.ends, l.yields, l.stalls, l.behind, l.jumps, l.dups, l.missed, len(l.gaps), l.failedOpens)
}

func (l *turnLog) streamClosedAt(id string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.closedAt[id]
	return at, ok
}

// turnCounts is what a turnLog counts; a snapshot of it is safe to read while the receiver runs on.
type turnCounts struct {
	ends   map[turn.End]int
	yields map[pool.Reason]int
	missed int
	stalls int
	// behind and jumps count the streams reopened because the reading fell behind, or the lines jumped ahead.
	behind, jumps int
	dups          int
	gaps          []turn.Gap
}

// snapshot copies the counts under the log's lock: turns keep ending while a test reads them.
func (l *turnLog) snapshot() turnCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return turnCounts{ends: maps.Clone(l.ends), yields: maps.Clone(l.yields), missed: l.missed, stalls: l.stalls, behind: l.behind, jumps: l.jumps, dups: l.dups,
		gaps: append([]turn.Gap(nil), l.gaps...)}
}

// endCounts copies the count of turns per end, for reading while turns still end.
func (l *turnLog) endCounts() map[turn.End]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.ends)
}

// waitFor calls done every tick until it reports true, and fails the test with the progress done last reported
// once wait has passed.
func waitFor(t *testing.T, wait, tick time.Duration, done func() (bool, string)) {
	t.Helper()
	// Polled here rather than in a goroutine as require.Eventually does, so that done shares the test's goroutine; and
	// the progress is taken at each check, since Eventually's message arguments are evaluated once, before the wait.
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		ok, progress := done()
		if ok {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%s (after %v)", progress, wait)
		case <-ticker.C:
		}
	}
}

// testConfig is the default configuration pointed at the test engine, with fast timings.
func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		cfg.Endpoint = host
	}
	cfg.FlushInterval = 20 * time.Millisecond
	cfg.ReconcileInterval = 2 * time.Second
	return cfg
}

// startReceiver creates and starts the receiver; it is shut down when the test ends.
func startReceiver(t *testing.T, cfg *Config, next consumer.Logs, turns *turnLog) *logsReceiver {
	t.Helper()
	require.NoError(t, cfg.Validate())
	rcv, err := NewFactory().CreateLogs(context.Background(), receiverSettings(t), cfg, next)
	require.NoError(t, err)
	r := rcv.(*logsReceiver)
	if turns != nil {
		r.onTurnEnd = turns.observe
	}
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r
}

// seqsByStream parses loggen bodies and returns their sequence numbers per stream, in arrival order.
func seqsByStream(t *testing.T, recs []record) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range recs {
		_, seq, stream, err := loggenline.ParseLine(r.body)
		require.NoError(t, err, "body %.80q", r.body)
		require.Equal(t, stream, r.stream, "a %s line arrived as %s", stream, r.stream)
		out[stream] = append(out[stream], seq)
	}
	return out
}

// wantSeqs lists the sequence numbers loggen writes to one stream: from, from+step, ... below to.
func wantSeqs(from, to, step int) []int {
	var s []int
	for i := from; i < to; i += step {
		s = append(s, i)
	}
	return s
}

// firstDuplicate returns a sequence number seen twice, or -1.
func firstDuplicate(seqs []int) int {
	sorted := append([]int(nil), seqs...)
	sort.Ints(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return sorted[i]
		}
	}
	return -1
}

// receiverSettings logs the receiver's warnings into the test's output.
func receiverSettings(t *testing.T) receiver.Settings {
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	return set
}

func nopHost() component.Host { return componenttest.NewNopHost() }

// splitLines yields the newline-terminated lines of s.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// Resource attributes the checks read.
const (
	attrContainerID   = "container.id"
	attrContainerName = "container.name"
	attrRuntime       = "container.runtime"
	attrImageName     = "container.image.name"
	attrImageTags     = "container.image.tags"
)

// Labels and times of internal/tracking the engine tests name.
const (
	enabledLabel = "io.otelcol.docker_logs.enabled"
	// startSlack is how far before its recorded start a run's first line may be stamped (tracking's startSlack).
	startSlack = 500 * time.Millisecond
)

// sleep waits d; it returns false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
