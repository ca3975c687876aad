package dockerlogsreceiver

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
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
	// 1,000 lines/s of 100 bytes, 180 bytes each in the file: 100 KiB fills in about 0.57 s.
	c.rate, c.entryBytes = 1000, 100
	assert.InDelta(t, float64(569*time.Millisecond), float64(c.lagLimit()), float64(time.Millisecond))
	c.rate = 1e6
	assert.Equal(t, minLagLimit, c.lagLimit())
	c.rate = 1
	assert.Equal(t, stallLimit, c.lagLimit())
}
