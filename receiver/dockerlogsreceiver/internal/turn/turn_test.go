package turn

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// fakeEntry is one entry of a simulated container log.
type fakeEntry struct {
	stream  decode.Stream
	ts      int64
	body    string
	partial bool // a 16 KiB piece of a longer line: no newline
	raw     bool // body is the frame's whole payload, no timestamp: a malformed entry
}

// fakeLog answers log requests the way the daemon does: tail first, then since (inclusive), as frames.
type fakeLog struct {
	mu       sync.Mutex
	entries  []fakeEntry
	requests []docker.LogsRequest
	follow   bool // keep a Follow request's stream open after the history until its context ends
	closed   int  // followed streams whose context ended
	// behind, when positive, ends a Follow stream after that many entries, as one that fell behind ends at its container's stop.
	behind int
	// skipFirst, when its end is positive, drops the entries [skipFirst[0], skipFirst[1]) from the first stream, as
	// Docker's follower skips a file that rotated while it sent the history.
	skipFirst [2]int
	// resendFirst, when its end is positive, sends the entries [resendFirst[0], resendFirst[1]) again right after
	// them in the first stream, as Docker 20.10's follower sends a rotated json-file file again from its start.
	resendFirst [2]int
	// tty writes the entries as a TTY container's log: one raw stream, each line ended by the terminal's "\r\n".
	tty bool
}

func (f *fakeLog) open(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	window := f.entries
	if req.Tail > 0 && req.Tail < len(window) {
		window = window[len(window)-req.Tail:]
	}
	if f.behind > 0 && req.Follow && f.behind < len(window) {
		window = window[:f.behind]
	}
	if f.skipFirst[1] > 0 && len(f.requests) == 1 {
		window = append(append([]fakeEntry(nil), window[:f.skipFirst[0]]...), window[f.skipFirst[1]:]...)
	}
	if r := f.resendFirst; r[1] > 0 && len(f.requests) == 1 {
		window = append(append(append([]fakeEntry(nil), window[:r[1]]...), window[r[0]:r[1]]...), window[r[1]:]...)
	}
	var buf bytes.Buffer
	for _, e := range window {
		if e.ts < req.Since {
			continue
		}
		payload := fmt.Sprintf("%s %s\n", time.Unix(0, e.ts).UTC().Format("2006-01-02T15:04:05.000000000Z07:00"), e.body)
		if e.partial {
			payload = strings.TrimSuffix(payload, "\n")
		}
		if e.raw {
			payload = e.body
		}
		if f.tty {
			buf.WriteString(strings.Replace(payload, "\n", "\r\n", 1))
			continue
		}
		var hdr [8]byte
		hdr[0] = byte(e.stream)
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
		buf.Write(hdr[:])
		buf.WriteString(payload)
	}
	f.mu.Unlock()
	if !f.follow || !req.Follow {
		return io.NopCloser(&buf), nil
	}
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(buf.Bytes())
		<-ctx.Done()
		f.mu.Lock()
		f.closed++
		f.mu.Unlock()
		pw.CloseWithError(ctx.Err())
	}()
	return pr, nil
}

// sink collects delivered batches; hold, if set, runs first and refuses the batch when it returns an error.
type sink struct {
	mu    sync.Mutex
	lines []Line
	calls int
	hold  func(ctx context.Context) error
}

func (s *sink) deliver(ctx context.Context, lines []Line) error {
	s.mu.Lock()
	s.calls++
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		if err := hold(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, lines...)
	return nil
}

// refuseUntilCancelled blocks like a full exporter queue: the batch is refused when ctx ends.
func refuseUntilCancelled(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// acceptWhenCancelled blocks until ctx ends and then accepts the batch anyway, as a consumer racing the cancellation may.
func acceptWhenCancelled(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (s *sink) setHold(hold func(ctx context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = hold
}

// called returns how many times Deliver was called.
func (s *sink) called() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func (s *sink) bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.lines {
		out = append(out, l.Body)
	}
	return out
}

const base = int64(1_700_000_000_000_000_000)

// probe is the request a turn from a non-zero cursor starts with: the newest entry, to see whether the clock went back.
var probe = docker.LogsRequest{Tail: 1}

// sec spaces the entries by the cursor's inversion margin, so that its floor trails its positions by one.
const sec = checkpoint.InversionMargin

// makeLog writes n entries alternating stdout and stderr, two per second, sharing its timestamp.
func makeLog(n int) []fakeEntry {
	var out []fakeEntry
	for i := range n {
		out = append(out, fakeEntry{stream: decode.Stream(i%2 + 1), ts: base + int64(i/2)*sec, body: fmt.Sprintf("line %d", i)})
	}
	return out
}

// rotateAfter runs a turn from the start of f until n lines were delivered, then rotates it.
func rotateAfter(t *testing.T, f *fakeLog, s *sink, n int) Outcome {
	t.Helper()
	yield := make(chan pool.Reason, 1)
	done := make(chan Outcome)
	go func() { done <- Run(context.Background(), turnFor(f, s, checkpoint.Cursor{}, 0), yield) }()
	require.Eventually(t, func() bool { return len(s.bodies()) == n }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned
	return <-done
}

// deliveredUpTo returns the cursor after the first n entries were delivered.
func deliveredUpTo(entries []fakeEntry, n int) checkpoint.Cursor {
	var c checkpoint.Cursor
	for _, e := range entries[:n] {
		c.Advance(e.stream, e.ts, 0)
	}
	return c
}

func turnFor(f *fakeLog, s *sink, c checkpoint.Cursor, tail int) Spec {
	return Spec{Open: f.open, Deliver: s.deliver, Cursor: c, TailHint: tail, MaxBatch: 3, FlushInterval: 5 * time.Millisecond}
}

func bodies(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("line %d", i))
	}
	return out
}

func TestRunReadsEverythingFromAZeroCursor(t *testing.T) {
	f := &fakeLog{entries: makeLog(10)}
	s := &sink{}
	var advanced []checkpoint.Cursor
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.OnAdvance = func(c checkpoint.Cursor) { advanced = append(advanced, c) }
	out := Run(context.Background(), turn, nil)
	assert.Equal(t, EndStreamClosed, out.End)
	assert.Equal(t, bodies(0, 10), s.bodies())
	assert.Equal(t, deliveredUpTo(f.entries, 10), out.Cursor)
	assert.Equal(t, checkpoint.Position{Time: base + 4*sec, Count: 1}, out.Cursor.Stdout)
	assert.Equal(t, base+3*sec, out.Cursor.Floor, "the newest delivered line the margin older than the positions")
	assert.Equal(t, decode.PerStream[int]{5, 5}, out.Lines)
	assert.Equal(t, 10, out.Entries)
	assert.Len(t, advanced, 4, "batches of 3, 3, 3, 1")
	assert.Equal(t, []docker.LogsRequest{{Follow: true}}, f.requests)
}

func TestRunResumesWithABoundedTailAndDropsRepeats(t *testing.T) {
	f := &fakeLog{entries: makeLog(20)}
	s := &sink{}
	// Lines 0..9 were delivered (up to base+4sec on both outputs); the floor is base+3sec, where line 6 stands.
	out := Run(context.Background(), turnFor(f, s, deliveredUpTo(f.entries, 10), 14), nil)
	assert.Equal(t, bodies(10, 20), s.bodies())
	assert.False(t, out.WindowMissed)
	assert.Empty(t, out.Gaps)
	assert.Equal(t, 4, out.Duplicates, "lines 6..9, from the floor to the positions")
	assert.Equal(t, []docker.LogsRequest{probe, {Since: base + 3*sec, Tail: 14, Follow: true}}, f.requests)
}

func TestRunGrowsATailThatMissesTheCursor(t *testing.T) {
	f := &fakeLog{entries: makeLog(100)}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, deliveredUpTo(f.entries, 10), 10), nil)
	assert.False(t, out.WindowMissed, "a grown tail reached the floor line")
	assert.Empty(t, out.Gaps)
	assert.Equal(t, bodies(10, 100), s.bodies(), "nothing lost although the first tail was too short")
	assert.Equal(t, []docker.LogsRequest{probe, {Since: base + 3*sec, Tail: 10, Follow: true}, {Since: base + 3*sec, Tail: 80, Follow: true},
		{Since: base + 3*sec, Tail: 640, Follow: true}}, f.requests)
}

func TestRunFallsBackToAFullReadWhenNoGrownTailReachesTheCursor(t *testing.T) {
	f := &fakeLog{entries: makeLog(6000)}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, deliveredUpTo(f.entries, 10), 10), nil)
	assert.True(t, out.WindowMissed)
	assert.Empty(t, out.Gaps, "the full read starts at the floor line: nothing rotated away")
	assert.Equal(t, bodies(10, 6000), s.bodies(), "nothing lost although every tail was too short")
	assert.Equal(t, []docker.LogsRequest{probe, {Since: base + 3*sec, Tail: 10, Follow: true}, {Since: base + 3*sec, Tail: 80, Follow: true},
		{Since: base + 3*sec, Tail: 640, Follow: true}, {Since: base + 3*sec, Tail: 5120, Follow: true}, {Since: base + 3*sec, Follow: true}}, f.requests)
}

func TestRunYieldsAfterDeliveringWhatWasRead(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{}
	out := rotateAfter(t, f, s, 7)
	assert.Equal(t, EndYielded, out.End)
	assert.Equal(t, pool.ReasonPlanned, out.Yield)
	assert.Equal(t, base+3*sec, out.Cursor.Stdout.Time)
	assert.NoError(t, out.Err)
	assert.Zero(t, out.Undelivered, "everything read was delivered before the yield")
}

func TestRunStopsOnCancelWithoutAdvancing(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{hold: refuseUntilCancelled}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Outcome)
	go func() { done <- Run(ctx, turnFor(f, s, checkpoint.Cursor{}, 0), make(chan pool.Reason, 1)) }()
	require.Eventually(t, func() bool { return s.called() > 0 }, 5*time.Second, time.Millisecond)
	cancel()
	out := <-done
	assert.Equal(t, EndCancelled, out.End)
	assert.True(t, out.Cursor.IsZero(), "nothing was accepted, so the cursor did not move")
}

func TestRunReportsOpenAndReadFailures(t *testing.T) {
	s := &sink{}
	failing := func(context.Context, docker.LogsRequest) (io.ReadCloser, error) { return nil, docker.ErrNotReadable }
	out := Run(context.Background(), Spec{Open: failing, Deliver: s.deliver, MaxBatch: 1, FlushInterval: time.Millisecond}, nil)
	assert.Equal(t, EndOpenFailed, out.End)
	assert.ErrorIs(t, out.Err, docker.ErrNotReadable)

	cut := func(context.Context, docker.LogsRequest) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader([]byte{1, 0, 0, 0, 0, 0, 0, 50, 'x'})), nil
	}
	out = Run(context.Background(), Spec{Open: cut, Deliver: s.deliver, MaxBatch: 1, FlushInterval: time.Millisecond}, nil)
	assert.Equal(t, EndReadFailed, out.End)
	assert.True(t, errors.Is(out.Err, io.ErrUnexpectedEOF), "%v", out.Err)
}

func TestLastTimestamp(t *testing.T) {
	f := &fakeLog{entries: makeLog(5)}
	ts, err := LastTimestamp(context.Background(), f.open, false)
	require.NoError(t, err)
	assert.Equal(t, base+2*sec, ts)
	assert.Equal(t, []docker.LogsRequest{{Tail: 1}}, f.requests)

	ts, err = LastTimestamp(context.Background(), (&fakeLog{}).open, false)
	require.NoError(t, err)
	assert.Zero(t, ts, "an empty log")

	unfinished := &fakeLog{entries: []fakeEntry{{stream: decode.Stdout, ts: base + 7, body: strings.Repeat("x", 16384), partial: true}}}
	ts, err = LastTimestamp(context.Background(), unfinished.open, false)
	require.NoError(t, err)
	assert.Equal(t, base+7, ts, "the last entry is a piece of an unfinished line")
	e, err := LastEntry(context.Background(), unfinished.open, false)
	require.NoError(t, err)
	assert.Equal(t, Entry{Timestamp: base + 7, Unfinished: true}, e)
}

// TestLongLineInterleavedWithTheOtherOutputIsNotLostAtARotation writes the first piece of a long stdout
// line, then a stderr line, and ends the turn before the long line's last piece: the stderr line is
// delivered, and the next turn, which finds the last piece, delivers the long line and not the stderr line again.
func TestLongLineInterleavedWithTheOtherOutputIsNotLostAtARotation(t *testing.T) {
	piece := strings.Repeat("x", 16384)
	f := &fakeLog{follow: true, entries: []fakeEntry{
		{stream: decode.Stdout, ts: base, body: "before"},
		{stream: decode.Stdout, ts: base + 1, body: piece, partial: true},
		{stream: decode.Stderr, ts: base + 2, body: "meanwhile"},
	}}
	s := &sink{}
	out := rotateAfter(t, f, s, 2)
	assert.Equal(t, []string{"before", "meanwhile"}, s.bodies())
	assert.Equal(t, checkpoint.Position{Time: base, Count: 1}, out.Cursor.Stdout, "stdout stays before the unfinished line")

	f.mu.Lock()
	f.entries = append(f.entries, fakeEntry{stream: decode.Stdout, ts: base + 1, body: "end"})
	f.follow = false
	f.mu.Unlock()
	Run(context.Background(), turnFor(f, s, out.Cursor, 0), nil)
	assert.Equal(t, []string{"before", "meanwhile", piece + "end"}, s.bodies())
}

// TestLineWrittenAfterANewerLineOfTheOtherOutputIsNotLost reproduces the daemon's cross-output order: a
// stderr line stamped later is written before a stdout line stamped earlier, and a turn ends between them.
func TestLineWrittenAfterANewerLineOfTheOtherOutputIsNotLost(t *testing.T) {
	f := &fakeLog{entries: []fakeEntry{
		{stream: decode.Stdout, ts: base + 100, body: "a"},
		{stream: decode.Stderr, ts: base + 200, body: "b"},
		{stream: decode.Stdout, ts: base + 150, body: "c"},
	}}
	s := &sink{}
	out := Run(context.Background(), turnFor(f, s, deliveredUpTo(f.entries, 2), 1000), nil)
	assert.Equal(t, []string{"c"}, s.bodies(), "c is new, a and b are not")
	assert.Equal(t, EndStreamClosed, out.End)
}

// TestRunHandsOnTheFirstLinesOfAnOpeningOnceTheStreamIsQuiet opens a following stream that sends its history and
// then nothing: its lines are handed on long before the flush interval, and none twice when the turn ends.
func TestRunHandsOnTheFirstLinesOfAnOpeningOnceTheStreamIsQuiet(t *testing.T) {
	f := &fakeLog{entries: makeLog(7), follow: true}
	s := &sink{}
	spec := turnFor(f, s, checkpoint.Cursor{}, 0)
	spec.MaxBatch, spec.FlushInterval = 100, time.Minute
	yield := make(chan pool.Reason, 1)
	done := make(chan Outcome)
	go func() { done <- Run(context.Background(), spec, yield) }()
	require.Eventually(t, func() bool { return s.called() > 0 }, 45*time.Second, time.Millisecond,
		"the first lines are handed on before the minute of the flush interval")
	got := s.bodies()
	assert.Equal(t, bodies(0, len(got)), got, "the first batch is the start of the history")
	yield <- pool.ReasonPlanned
	out := <-done
	assert.Equal(t, bodies(0, 7), s.bodies(), "every line once")
	assert.Equal(t, EndYielded, out.End)
}
