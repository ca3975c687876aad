package tracking

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

func TestRotatingFileSize(t *testing.T) {
	hc := func(driver string, opts map[string]string) *container.HostConfig {
		return &container.HostConfig{LogConfig: container.LogConfig{Type: driver, Config: opts}}
	}
	assert.Equal(t, int64(100<<10), rotatingFileSize(hc("json-file", map[string]string{"max-size": "100k"})))
	assert.Equal(t, int64(10<<20), rotatingFileSize(hc("local", map[string]string{"max-size": "10m"})))
	assert.Zero(t, rotatingFileSize(hc("json-file", nil)), "json-file without max-size never rotates")
	assert.Equal(t, int64(localDriverFileSize), rotatingFileSize(hc("local", nil)))
	assert.Equal(t, int64(localDriverFileSize), rotatingFileSize(hc("fluentd", nil)), "dual logging's cache")
	assert.Zero(t, rotatingFileSize(nil))
}

func TestLagLimitIsHalfTheTimeToFillALogFile(t *testing.T) {
	c := &trackedContainer{}
	assert.Zero(t, c.lagLimit(), "a log that never rotates")
	c.logFileSize = 100 << 10
	assert.Equal(t, stallLimit, c.lagLimit(), "no rate seen yet")
	// 1,000 lines/s of 100 bytes, 180 bytes each in the file: 100 KiB fills in about 0.57 s, half of it 0.28 s.
	c.writeRate, c.entryBytes = 1000, 100
	assert.InDelta(t, float64(284*time.Millisecond), float64(c.lagLimit()), float64(time.Millisecond))
	c.rate = 1e6
	assert.InDelta(t, float64(284*time.Millisecond), float64(c.lagLimit()), float64(time.Millisecond), "the read rate does not count")
	c.writeRate = 1e6
	assert.Equal(t, turn.MinLagLimit, c.lagLimit())
	c.writeRate = 1
	assert.Equal(t, stallLimit, c.lagLimit())
}

func TestWriteRateIsMeasuredOnTheLinesTimestamps(t *testing.T) {
	start := time.Unix(1_700_000_000, 0).UnixNano()
	before := checkpoint.AtEnd(start)
	out := turn.Outcome{Cursor: checkpoint.AtEnd(start + int64(10*time.Second)), Duration: time.Second}
	*out.Lines.At(decode.Stdout), *out.Lines.At(decode.Stderr) = 4000, 1000
	assert.InDelta(t, 500.0, writeRate(before, out, 7), 1e-9, "5,000 lines written in 10 s and read in 1 s: 500/s")
	idle := turn.Outcome{Cursor: before, Duration: time.Second}
	assert.InDelta(t, 3.5, writeRate(before, idle, 7), 1e-9, "nothing delivered in a whole turn: halved")
	assert.InDelta(t, 7.0, writeRate(before, turn.Outcome{Cursor: before}, 7), 1e-9, "a turn cut short: kept")
	assert.InDelta(t, 3.5, writeRate(checkpoint.Cursor{}, out, 7), 1e-9, "no position to measure from: halved")
}
