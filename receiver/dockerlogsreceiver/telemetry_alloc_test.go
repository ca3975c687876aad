package dockerlogsreceiver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// newSDKTelemetry returns the receiver's telemetry recording into the real metric SDK, as in the collector.
func newSDKTelemetry(t testing.TB) *receiverTelemetry {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	set := componenttest.NewNopTelemetrySettings()
	set.MeterProvider = mp
	tb, err := metadata.NewTelemetryBuilder(set)
	require.NoError(t, err)
	return newReceiverTelemetry(tb)
}

// TestTelemetryHandedOnAllocatesNothing: the metrics of each delivery are recorded once per batch, and a quiet
// container makes a batch of a line or two, so what recording one costs is paid per line.
func TestTelemetryHandedOnAllocatesNothing(t *testing.T) {
	tel := newSDKTelemetry(t)
	ctx := context.Background()
	lines := []turn.Line{
		{Stream: decode.Stdout, Timestamp: time.Now().UnixNano(), Body: "one"},
		{Stream: decode.Stderr, Timestamp: time.Now().UnixNano(), Body: "two"},
	}
	now := time.Now()
	tel.handedOn(ctx, lines, true, now) // the series exist from here on, as after a receiver's first batch
	allocs := testing.AllocsPerRun(1000, func() { tel.handedOn(ctx, lines, true, now) })
	require.Zero(t, allocs, "allocations per recorded batch")
}

// BenchmarkTelemetryHandedOn measures recording one delivered batch of two lines.
func BenchmarkTelemetryHandedOn(b *testing.B) {
	tel := newSDKTelemetry(b)
	ctx := context.Background()
	lines := []turn.Line{
		{Stream: decode.Stdout, Timestamp: time.Now().UnixNano(), Body: "one"},
		{Stream: decode.Stderr, Timestamp: time.Now().UnixNano(), Body: "two"},
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		tel.handedOn(ctx, lines, true, now)
	}
}
