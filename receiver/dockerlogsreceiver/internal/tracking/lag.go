package tracking

import (
	"time"

	"github.com/docker/docker/api/types/container"
	units "github.com/docker/go-units"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Sizes of a log file that rotates, when the container's logging options do not say.
const (
	// localDriverFileSize is the local driver's default max-size (also the cache of dual logging).
	localDriverFileSize = 20 << 20
)

// rotatingFileSize returns the size at which the container's log file rotates, or 0 when it never does.
//
// json-file rotates only with a max-size; local always does (20m by default), as does the local cache that
// dual logging keeps for the drivers that cannot be read back.
func rotatingFileSize(hc *container.HostConfig) int64 {
	if hc == nil {
		return 0
	}
	if v, ok := hc.LogConfig.Config["max-size"]; ok {
		if n, err := units.RAMInBytes(v); err == nil && n > 0 {
			return n
		}
	}
	if hc.LogConfig.Type == "json-file" || hc.LogConfig.Type == "" {
		return 0
	}
	return localDriverFileSize
}

// lagLimit is how far behind the reading of the container's log may fall before its stream is reopened: half
// the time the container takes to fill a log file, at the rate and line size of the lines its last turn
// delivered (the daemon's follower skips files once it is more than one behind; the other half is room for a
// faster writer than last time), and at most the stall limit; 0 for a log that never rotates (nothing can be
// skipped there).
func (c *trackedContainer) lagLimit() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.logFileSize == 0 {
		return 0
	}
	// Reopening costs a read of the log files: not more often than a stall would reopen the stream.
	return turn.HalfFill(c.logFileSize, c.writeRate*float64(c.entryBytes+turn.EntryOverhead), stallLimit)
}
