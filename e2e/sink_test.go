package e2e

import (
	"compress/gzip"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("counting sink: %v", err)
		}
	})
	s.URL = "http://" + l.Addr().String()
	return s
}

func (s *countingSink) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != lokiOTLPPath {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// An ExportLogsServiceRequest has the wire format of LogsData: resource_logs is field 1 of both.
	logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
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
