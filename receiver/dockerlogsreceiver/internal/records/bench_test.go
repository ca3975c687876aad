package records

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// benchBatch is one receiver batch: max_batch_size lines of about 100 bytes, one in ten on stderr.
func benchBatch(n int) []turn.Line {
	lines := make([]turn.Line, n)
	ts := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range lines {
		stream := decode.Stdout
		if i%10 == 9 {
			stream = decode.Stderr
		}
		body := "level=info msg=\"request served\" n=" + strconv.Itoa(i) + " " + strings.Repeat("x", 60)
		lines[i] = turn.Line{Stream: stream, Timestamp: ts + int64(i)*1000, Body: body}
	}
	return lines
}

// BenchmarkBuildLogs builds the records of one batch of 1,000 lines; it reports the cost per line (ns, bytes and
// allocations), which is what the collector pays per line between the stream and the pipeline.
func BenchmarkBuildLogs(b *testing.B) {
	const n = 1000
	lines := benchBatch(n)
	meta := Meta{ID: strings.Repeat("ab", 32), Name: "shop-web-1", Image: "registry:5000/shop/web:1.2",
		Labels: map[string]string{ComposeServiceKey: "web", ComposeProjectKey: "shop"}}
	resource := NewResource(metadata.DefaultResourceAttributesConfig(), Daemon{HostName: "host-1", EngineID: "ENGINE:ID"}, meta)
	b.ReportAllocs()
	var logs plog.Logs
	for b.Loop() {
		logs = Build(resource, "0.1.0", lines, time.Now())
	}
	if logs.LogRecordCount() != n {
		b.Fatalf("%d records, want %d", logs.LogRecordCount(), n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
}
