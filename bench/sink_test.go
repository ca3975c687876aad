package bench

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/otlpsink"
)

// sinkPath is where the shipped otlp_http exporter posts: ${LOKI_ENDPOINT}/otlp plus /v1/logs.
const sinkPath = "/otlp/v1/logs"

// sink stands in for the log store: an OTLP/HTTP endpoint that counts records and, when tracking, checks every
// loggen line once per container, the engine each container's records name, and each line's delivery lag.
type sink struct {
	URL     string // what LOKI_ENDPOINT is set to
	track   bool
	records atomic.Int64

	mu sync.Mutex
	// seen counts each line by key (container.name) and sequence number.
	seen map[string][]uint8
	// engines holds, per key, the docker.engine.id values its records carried.
	engines map[string]map[string]bool
	// lags are delivery lags in ms (arrival minus the daemon's timestamp) of lines stamped in [lagFrom, lagTo].
	lagFrom, lagTo int64
	lags           []float64
	// lagOf, when set, picks the keys whose lines' lags are recorded; nil records every key's.
	lagOf func(key string) bool
	// watch holds, per key, the newest sequence number delivered before; firstNew records when a later one came.
	watch    map[string]int
	firstNew map[string]time.Time
	bad      int // records whose body is not a loggen line
}

// startSink serves on a free port of 127.0.0.1 until the test ends; track adds the per-line checks.
func startSink(t testing.TB, track bool) *sink {
	t.Helper()
	s := &sink{track: track, seen: map[string][]uint8{}, engines: map[string]map[string]bool{}, firstNew: map[string]time.Time{}}
	s.URL = otlpsink.Serve(t, s.serve)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixNano()
	logs, ok := otlpsink.Logs(w, r, sinkPath)
	if !ok {
		return
	}
	s.records.Add(int64(logs.LogRecordCount()))
	if s.track {
		s.check(logs, now)
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (s *sink) check(logs plog.Logs, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		attrs := rls.At(i).Resource().Attributes()
		engine, _ := attrs.Get("docker.engine.id")
		name, _ := attrs.Get("container.name")
		key := name.Str()
		if s.engines[key] == nil {
			s.engines[key] = map[string]bool{}
		}
		s.engines[key][engine.Str()] = true
		counts := s.seen[key]
		last, watched := s.watch[key]
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				lr := lrs.At(k)
				_, seq, _, err := loggenline.ParseLine(lr.Body().Str())
				if err != nil {
					s.bad++
					continue
				}
				for len(counts) <= seq {
					counts = append(counts, 0)
				}
				if counts[seq] < 255 {
					counts[seq]++
				}
				if ts := int64(lr.Timestamp()); ts >= s.lagFrom && ts <= s.lagTo && (s.lagOf == nil || s.lagOf(key)) {
					s.lags = append(s.lags, float64(now-ts)/1e6)
				}
				if _, done := s.firstNew[key]; watched && !done && seq > last {
					s.firstNew[key] = time.Unix(0, now)
				}
			}
		}
		s.seen[key] = counts
	}
}

// measureLag makes the sink record the lag of lines stamped within [from, to].
func (s *sink) measureLag(from, to time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lagFrom, s.lagTo, s.lags = from.UnixNano(), to.UnixNano(), nil
}

// lagsMS returns the lags recorded so far, sorted.
func (s *sink) lagsMS() []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedCopy(s.lags)
}

// maxSeqs returns the newest sequence number delivered per key.
func (s *sink) maxSeqs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, c := range s.seen {
		out[k] = len(c) - 1
	}
	return out
}

// watchNew starts recording when each key first gets a line newer than last[key].
func (s *sink) watchNew(last map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watch, s.firstNew = last, map[string]time.Time{}
}

// firstNewLines returns when each watched key got its first new line.
func (s *sink) firstNewLines() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for k, v := range s.firstNew {
		out[k] = v
	}
	return out
}

// tally compares what arrived for key with the lines [from, to) it must hold: missing, duplicated
// (extra copies) and how many it holds beyond to.
type tally struct{ want, missing, dups, beyond int }

func (s *sink) tally(key string, from, to int) tally {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.seen[key]
	r := tally{want: to - from}
	for seq := from; seq < to; seq++ {
		switch {
		case seq >= len(c) || c[seq] == 0:
			r.missing++
		case c[seq] > 1:
			r.dups += int(c[seq]) - 1
		}
	}
	for seq := to; seq < len(c); seq++ {
		if c[seq] > 1 {
			r.dups += int(c[seq]) - 1
		}
		if c[seq] > 0 {
			r.beyond++
		}
	}
	return r
}

// missingSpans lists the sequence numbers of key in [from, to) the sink never received, as "a-b" spans.
func (s *sink) missingSpans(key string, from, to int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.seen[key]
	var spans []string
	for seq := from; seq < to; seq++ {
		if seq < len(c) && c[seq] > 0 {
			continue
		}
		end := seq
		for end+1 < to && (end+1 >= len(c) || c[end+1] == 0) {
			end++
		}
		spans = append(spans, fmt.Sprintf("%d-%d", seq, end))
		seq = end
	}
	return spans
}

// minSeq returns the oldest sequence number delivered for key, or -1.
func (s *sink) minSeq(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for seq, n := range s.seen[key] {
		if n > 0 {
			return seq
		}
	}
	return -1
}

// enginesOf returns the docker.engine.id values the records of a container carried.
func (s *sink) enginesOf(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.engines[key] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
