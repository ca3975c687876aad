// Package otlpsink serves and reads the OTLP/HTTP log requests a collector exports, for the tests' stand-in log stores.
package otlpsink

import (
	"compress/gzip"
	"io"
	"net/http"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Logs decodes a protobuf logs request posted to path, gzipped or not; on another path or a body that does not
// decode it answers the request itself (404 or 400) and returns false.
func Logs(w http.ResponseWriter, r *http.Request, path string) (plog.Logs, bool) {
	if r.URL.Path != path {
		http.NotFound(w, r)
		return plog.Logs{}, false
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return plog.Logs{}, false
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return plog.Logs{}, false
	}
	// An ExportLogsServiceRequest has the wire format of LogsData: resource_logs is field 1 of both.
	logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return plog.Logs{}, false
	}
	return logs, true
}
