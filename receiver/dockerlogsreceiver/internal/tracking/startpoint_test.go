package tracking

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunStart(t *testing.T) {
	const zero = "0001-01-01T00:00:00Z"
	at := func(s string) int64 {
		ts, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return ts.UnixNano()
	}
	for _, tc := range []struct {
		name              string
		running           bool
		started, finished string
		want              int64
	}{
		{"never started", false, zero, zero, 0},
		{"first run, running", true, "2026-01-01T10:00:00.5Z", zero, 0},
		// The earlier run's last line may be logged after its FinishedAt: the run's own start less the slack bounds it.
		{"run again after an earlier one", true, "2026-01-01T10:00:05Z", "2026-01-01T10:00:01.000000007Z", at("2026-01-01T10:00:05Z") - int64(startSlack)},
		{"run again at once", true, "2026-01-01T10:00:05Z", "2026-01-01T10:00:04.900000007Z", at("2026-01-01T10:00:04.900000008Z")},
		{"exited again before it was inspected", false, "2026-01-01T10:00:05Z", "2026-01-01T10:00:06Z", at("2026-01-01T10:00:05Z") - int64(startSlack)},
		// The process exited before the daemon recorded StartedAt: FinishedAt is this run's end, not an earlier run's.
		{"exited before its start was recorded", false, "2026-12-02T03:37:15.596654965Z", "2026-12-02T03:37:15.595504687Z",
			at("2026-12-02T03:37:15.595504687Z") - int64(startSlack)},
		{"unreadable times", false, "garbage", "garbage", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, runStart(&container.State{Running: tc.running, StartedAt: tc.started, FinishedAt: tc.finished}))
		})
	}
	assert.Zero(t, runStart(nil))
}
