package turn

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
)

// traceStart is the line-start pattern of the traces traceLog writes.
var traceStart = regexp.MustCompile(`^trace `)

// traceLog writes n traces of 2 to 5 lines, alternating stdout and stderr by trace, with interleaved lines of
// the two outputs and a few lines sharing a timestamp.
func traceLog(n int) []fakeEntry {
	var out []fakeEntry
	ts := base
	var open decode.PerStream[[]string]
	for i := range n {
		s := decode.Stream(i%2 + 1)
		*open.At(s) = append(*open.At(s), fmt.Sprintf("trace %d", i))
		for k := range 1 + i%4 {
			*open.At(s) = append(*open.At(s), fmt.Sprintf("\tat frame %d.%d", i, k))
		}
		// Write the other output's pending lines and this one's alternately, so that records interleave.
		for len(open[0])+len(open[1]) > 0 && (i%3 != 0 || i == n-1) {
			for _, st := range []decode.Stream{decode.Stdout, decode.Stderr} {
				if pending := open.At(st); len(*pending) > 0 {
					out = append(out, fakeEntry{stream: st, ts: ts, body: (*pending)[0]})
					*pending = (*pending)[1:]
					if len(out)%5 != 0 {
						ts += int64(time.Millisecond)
					}
				}
			}
		}
	}
	return out
}

// traceRecords returns the records traceLog(n) holds, each trace's lines joined.
func traceRecords(n int) map[string]bool {
	want := map[string]bool{}
	for i := range n {
		lines := []string{fmt.Sprintf("trace %d", i)}
		for k := range 1 + i%4 {
			lines = append(lines, fmt.Sprintf("\tat frame %d.%d", i, k))
		}
		want[strings.Join(lines, "\n")] = true
	}
	return want
}

func traceTurn(f *fakeLog, s *sink, c checkpoint.Cursor) Spec {
	t := turnFor(f, s, c, 10_000)
	t.Multiline = &multiline.Rule{Start: traceStart, FlushTimeout: time.Hour}
	return t
}

func TestMultilineRecordsAreWholeAndStampedWithTheirFirstLine(t *testing.T) {
	f := &fakeLog{entries: traceLog(30)}
	s := &sink{}
	out := Run(context.Background(), traceTurn(f, s, checkpoint.Cursor{}), nil)
	assert.Equal(t, EndStreamClosed, out.End)
	got := map[string]bool{}
	for _, l := range s.lines {
		require.False(t, got[l.Body], "repeated: %q", l.Body)
		got[l.Body] = true
		first := strings.SplitN(l.Body, "\n", 2)[0]
		for _, e := range f.entries {
			if e.body == first {
				assert.Equal(t, e.ts, l.Timestamp, "a record carries its first line's time")
			}
		}
	}
	assert.Equal(t, traceRecords(30), got, "the last traces are complete: the stream ended with the log")
	assert.Equal(t, len(f.entries), out.Lines[0]+out.Lines[1], "lines, not records, are counted")
	assert.Equal(t, deliveredUpTo(f.entries, len(f.entries)), out.Cursor)
}

// TestMultilineRecordsSurviveRotationsWhole grows the log by a few lines per turn, cutting records anywhere,
// and rotates each turn once it delivered every record complete so far (every fifth as a restart would): every record arrives once and whole,
// since an open record is never delivered in part, and is read again from its first line by the next turn.
func TestMultilineRecordsSurviveRotationsWhole(t *testing.T) {
	const traces = 60
	all := traceLog(traces)
	f := &fakeLog{follow: true}
	s := &sink{}
	var cur checkpoint.Cursor
	written, turns, reread := 0, 0, 0
	for written < len(all) {
		turns++
		written = min(written+1+(turns*7)%11, len(all))
		f.mu.Lock()
		f.entries = all[:written]
		f.mu.Unlock()
		want := completeRecords(all[:written])
		yield := make(chan pool.Reason, 1)
		done := make(chan Outcome)
		go func() { done <- Run(context.Background(), traceTurn(f, s, cur), yield) }()
		require.Eventually(t, func() bool { return len(s.bodies()) >= want }, 5*time.Second, time.Millisecond)
		yield <- pool.ReasonPlanned
		out := <-done
		cur = out.Cursor
		reread += out.Undelivered
		if turns%5 == 0 {
			// A collector restart: the cursor comes back from storage, and nothing else does.
			data, err := json.Marshal(cur)
			require.NoError(t, err)
			cur = checkpoint.Cursor{}
			require.NoError(t, json.Unmarshal(data, &cur))
		}
	}
	// The last turn's stream ends with the log: the record open on each output is complete.
	f.follow = false
	Run(context.Background(), traceTurn(f, s, cur), nil)
	got := map[string]int{}
	for _, b := range s.bodies() {
		got[b]++
		require.True(t, traceRecords(traces)[b], "not a whole trace: %q", b)
	}
	for b, n := range got {
		assert.Equal(t, 1, n, "delivered %d times: %q", n, b)
	}
	assert.Len(t, got, traces)
	assert.Greater(t, turns, 30)
	assert.Positive(t, reread, "open records were read again")
}

// completeRecords counts the traces of entries that the next trace of their output has ended.
func completeRecords(entries []fakeEntry) int {
	var starts decode.PerStream[int]
	for _, e := range entries {
		if traceStart.MatchString(e.body) {
			*starts.At(e.stream)++
		}
	}
	return max(starts[0]-1, 0) + max(starts[1]-1, 0)
}

func TestMultilineOpenRecordIsFlushedAfterItsTimeout(t *testing.T) {
	f := &fakeLog{entries: traceLog(4), follow: true}
	s := &sink{}
	turn := traceTurn(f, s, checkpoint.Cursor{})
	turn.Multiline.FlushTimeout = 20 * time.Millisecond
	yield := make(chan pool.Reason, 1)
	done := make(chan Outcome)
	go func() { done <- Run(context.Background(), turn, yield) }()
	require.Eventually(t, func() bool { return len(s.bodies()) == 4 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned
	out := <-done
	assert.Equal(t, decode.PerStream[Waiting]{}, decode.PerStream[Waiting]{{Last: out.Waiting[0].Last}, {Last: out.Waiting[1].Last}}, "nothing left open")
	assert.Equal(t, deliveredUpTo(f.entries, len(f.entries)), out.Cursor)
}

// TestMultilineTimeoutCarriesAcrossShortTurns: turns shorter than the flush timeout still flush a record that
// waits, because the wait counts from when an earlier turn first read its last line.
func TestMultilineTimeoutCarriesAcrossShortTurns(t *testing.T) {
	f := &fakeLog{entries: traceLog(4), follow: true}
	s := &sink{}
	var cur checkpoint.Cursor
	var waiting decode.PerStream[Waiting]
	for turns := 0; len(s.bodies()) < 4; turns++ {
		require.Less(t, turns, 1000, "the last record is never flushed")
		turn := traceTurn(f, s, cur)
		turn.Multiline.FlushTimeout = 100 * time.Millisecond
		turn.Waiting = waiting
		yield := make(chan pool.Reason, 1)
		done := make(chan Outcome)
		go func() { done <- Run(context.Background(), turn, yield) }()
		time.Sleep(5 * time.Millisecond)
		yield <- pool.ReasonPlanned
		out := <-done
		cur, waiting = out.Cursor, out.Waiting
	}
	assert.Equal(t, traceRecords(4), func() map[string]bool {
		m := map[string]bool{}
		for _, b := range s.bodies() {
			m[b] = true
		}
		return m
	}())
}

// TestMultilineStreamEndedBeforeTheLogKeepsTheRecordOpen: a stream that fell behind ends before the end of the
// log when its container stops; its last record may go on in the log, so it is read again, whole, next turn.
func TestMultilineStreamEndedBeforeTheLogKeepsTheRecordOpen(t *testing.T) {
	f := &fakeLog{entries: traceLog(4)}
	// traceLog(4) writes trace 3's frames last; end the stream two lines before the end of the log.
	f.behind = len(f.entries) - 2
	s := &sink{}
	out := Run(context.Background(), traceTurn(f, s, checkpoint.Cursor{}), nil)
	assert.Equal(t, EndStreamClosed, out.End)
	for _, b := range s.bodies() {
		assert.True(t, traceRecords(4)[b], "not whole: %q", b)
	}
	assert.Positive(t, out.Undelivered)

	f.behind = 0
	out = Run(context.Background(), traceTurn(f, s, out.Cursor), nil)
	got := map[string]int{}
	for _, b := range s.bodies() {
		got[b]++
	}
	for b := range traceRecords(4) {
		assert.Equal(t, 1, got[b], "%q", b)
	}
}

// TestMultilineFloorStaysBeforeAnOpenRecord: the other output's lines move the cursor on, but its floor must not
// pass the first line of an open record of an output with no position yet.
func TestMultilineFloorStaysBeforeAnOpenRecord(t *testing.T) {
	entries := []fakeEntry{{stream: decode.Stdout, ts: base, body: "trace 0"}}
	for i := range 20 {
		entries = append(entries,
			fakeEntry{stream: decode.Stdout, ts: base + int64(i+1)*sec, body: fmt.Sprintf("\tat %d", i)},
			fakeEntry{stream: decode.Stderr, ts: base + int64(i+1)*sec + 1, body: fmt.Sprintf("single %d", i)})
	}
	f := &fakeLog{entries: entries, follow: true}
	s := &sink{}
	turn := turnFor(f, s, checkpoint.Cursor{}, 0)
	turn.Multiline = &multiline.Rule{Start: regexp.MustCompile(`^(trace|single)`), FlushTimeout: time.Hour}
	yield := make(chan pool.Reason, 1)
	done := make(chan Outcome)
	go func() { done <- Run(context.Background(), turn, yield) }()
	require.Eventually(t, func() bool { return len(s.bodies()) == 19 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned
	out := <-done
	assert.Zero(t, out.Cursor.Stdout.Time, "stdout's record is open")
	assert.Less(t, out.Cursor.Floor, base, "the floor precedes the open record's first line")

	// The next turn reads the open record again from its first line.
	f.entries = append(f.entries, fakeEntry{stream: decode.Stdout, ts: base + 30*sec, body: "trace 1"})
	go func() { done <- Run(context.Background(), traceTurn(f, s, out.Cursor), yield) }()
	require.Eventually(t, func() bool { return len(s.bodies()) == 20 }, 5*time.Second, time.Millisecond)
	yield <- pool.ReasonPlanned
	<-done
	assert.True(t, strings.HasPrefix(s.bodies()[19], "trace 0\n\tat 0\n"), s.bodies()[19])
	assert.Equal(t, 21, strings.Count(s.bodies()[19], "\n")+1)
}
