package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/hostileline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/otlpsink"
)

// recordStore is an OTLP/HTTP log endpoint that keeps every record of the containers it is told about, with
// how many bytes each line (output and timestamp) holds so far, so that a test can tell cheaply when a line is
// whole in the store.
type recordStore struct {
	URL string // what LOKI_ENDPOINT is set to

	mu      sync.Mutex
	records map[string][]hostileline.Record // by container name
	lines   map[string]map[lineKey]int      // bytes stored per line of a container
	heads   map[string]map[int]lineKey      // where each numbered line's first record is
	grew    map[string]time.Time            // when a container's records last grew
	tiny    map[string]int                  // records of a few bytes without header: tiny lines, mostly
	pads    map[string]int                  // padding lines
	total   int                             // records of every container, to see the store settle
}

// lineKey picks out one line of a container: all its records carry its output and the daemon's time of it.
type lineKey struct {
	stream string
	ts     int64
}

// startRecordStore serves on a free port of 127.0.0.1 until the test ends.
func startRecordStore(t *testing.T, containers []string) *recordStore {
	t.Helper()
	s := &recordStore{records: map[string][]hostileline.Record{}, lines: map[string]map[lineKey]int{}, heads: map[string]map[int]lineKey{}, grew: map[string]time.Time{}, tiny: map[string]int{}, pads: map[string]int{}}
	for _, name := range containers {
		s.lines[name] = map[lineKey]int{}
		s.heads[name] = map[int]lineKey{}
	}
	s.URL = otlpsink.Serve(t, s.serve)
	return s
}

func (s *recordStore) serve(w http.ResponseWriter, r *http.Request) {
	logs, ok := otlpsink.Logs(w, r, lokiOTLPPath)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		nameVal, _ := rls.At(i).Resource().Attributes().Get("container.name")
		name := nameVal.Str()
		lines, known := s.lines[name]
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				lr := lrs.At(k)
				stream, _ := lr.Attributes().Get("log.iostream")
				rec := hostileline.Record{Stream: stream.Str(), Timestamp: int64(lr.Timestamp()), Body: bodyBytes(lr.Body())}
				s.total++
				if !known {
					continue
				}
				s.records[name] = append(s.records[name], rec)
				s.grew[name] = time.Now()
				key := lineKey{rec.Stream, rec.Timestamp}
				lines[key] += len(rec.Body)
				if seq, ok := hostileline.ParseSeq(rec.Body); ok {
					s.heads[name][seq] = key
				} else if len(rec.Body) <= 8 {
					s.tiny[name]++
				} else if bytes.HasPrefix(rec.Body, []byte(hostileline.PadPrefix)) {
					s.pads[name]++
				}
			}
		}
	}
	// An empty body is an ExportLogsServiceResponse without partial success: all accepted.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// bodyBytes returns a record body's bytes: the receiver sets a string, which may hold any bytes.
func bodyBytes(v pcommon.Value) []byte {
	if v.Type() == pcommon.ValueTypeBytes {
		return append([]byte(nil), v.Bytes().AsRaw()...)
	}
	return []byte(v.Str())
}

// holds reports whether the store holds at least want bytes of container's numbered line seq.
func (s *recordStore) holds(container string, seq, want int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.heads[container][seq]
	return ok && s.lines[container][key] >= want
}

// headed reports whether the store holds the first record of container's numbered line seq.
func (s *recordStore) headed(container string, seq int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.heads[container][seq]
	return ok
}

// tinyOf returns how many records of a few bytes without header the store holds of container.
func (s *recordStore) tinyOf(container string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tiny[container]
}

// padsOf returns how many padding lines the store holds of container.
func (s *recordStore) padsOf(container string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pads[container]
}

// grewAt returns when the container's records last grew.
func (s *recordStore) grewAt(container string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grew[container]
}

// count returns the number of records received, of any container.
func (s *recordStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// recordsOf returns a copy of the records a container has in the store.
func (s *recordStore) recordsOf(container string) []hostileline.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hostileline.Record(nil), s.records[container]...)
}

// overlaidCollector runs bin/otelcol-dockerlogs with the shipped collector-config.yaml and overlays, on ports of
// its own, and can stop it (SIGTERM) and start it again over the same storage directory.
type overlaidCollector struct {
	*shippedCollector
	metrics string // URL of its own metrics
}

// newOverlaidCollector prepares a collector reading the engine of cli into the store at storeURL, with overlay
// (YAML) over the shipped configuration; it is stopped when the test ends.
func newOverlaidCollector(t *testing.T, cli *client.Client, name, storeURL, overlay string) *overlaidCollector {
	t.Helper()
	runMake(t, "otelcol")
	root := distrotest.ModuleRoot(t)
	dir := t.TempDir()
	health, pprof, metrics := freePort(t), freePort(t), freePort(t)
	ports := filepath.Join(dir, "ports.yaml")
	extra := filepath.Join(dir, "overlay.yaml")
	for path, body := range map[string]string{ports: distrotest.PortsOverlay(health, pprof, metrics), extra: overlay} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(withoutEnv(os.Environ(), "DOCKER_HOST", "LOKI_ENDPOINT", "OTELCOL_STORAGE_DIR", "OTELCOL_LISTEN_HOST", "OTELCOL_QUEUE_BYTES"),
		"DOCKER_HOST="+cli.DaemonHost(), "LOKI_ENDPOINT="+storeURL, "OTELCOL_STORAGE_DIR="+filepath.Join(dir, "storage"), "OTELCOL_LISTEN_HOST=127.0.0.1")
	c := &overlaidCollector{
		shippedCollector: &shippedCollector{
			t: t, name: name, bin: filepath.Join(root, distBinary), env: env, out: &lockedBuffer{},
			args:   []string{"--config", filepath.Join(root, "collector-config.yaml"), "--config", ports, "--config", extra},
			health: fmt.Sprintf("http://127.0.0.1:%d/", health),
		},
		metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics),
	}
	c.stopAtCleanup()
	return c
}

// gaps returns the running collector's otelcol_docker_logs_gaps by cause.
func (c *overlaidCollector) gaps() (map[string]float64, error) {
	samples, err := scrape(c.metrics)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range samples {
		if s.name == "otelcol_docker_logs_gaps" || s.name == "otelcol_docker_logs_gaps_total" {
			out[s.labels["cause"]] += s.value
		}
	}
	return out, nil
}
