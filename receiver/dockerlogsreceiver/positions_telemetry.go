package dockerlogsreceiver

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
)

// observePositions registers the gauge of the containers that have a saved position; shutdown unregisters it.
func (t *receiverTelemetry) observePositions(s *checkpoint.Store) error {
	return t.tb.RegisterDockerLogsPositionsSavedCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(int64(s.Len()))
		return nil
	})
}
