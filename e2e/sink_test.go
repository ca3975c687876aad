package e2e

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/otlpsink"
)

// countingSink is an OTLP/HTTP log endpoint that only counts the records of one container, so that a load run
// measures the collector and not a log store.
type countingSink struct {
	URL       string // what LOKI_ENDPOINT is set to: the exporter posts to URL/otlp/v1/logs
	container string
	records   atomic.Int64
}

// startCountingSink serves on a free port of 127.0.0.1 until the test ends, counting records whose resource
// container.name is container.
func startCountingSink(t testing.TB, container string) *countingSink {
	t.Helper()
	s := &countingSink{container: container}
	s.URL = otlpsink.Serve(t, s.serve)
	return s
}

func (s *countingSink) serve(w http.ResponseWriter, r *http.Request) {
	logs, ok := otlpsink.Logs(w, r, lokiOTLPPath)
	if !ok {
		return
	}
	n := 0
	rls := logs.ResourceLogs()
	for i := range rls.Len() {
		name, _ := rls.At(i).Resource().Attributes().Get("container.name")
		if name.Str() != s.container {
			continue
		}
		for j := range rls.At(i).ScopeLogs().Len() {
			n += rls.At(i).ScopeLogs().At(j).LogRecords().Len()
		}
	}
	s.records.Add(int64(n))
	// An empty body is an ExportLogsServiceResponse without partial success: all accepted.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}
