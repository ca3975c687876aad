package turn

import (
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
)

// Bounds of the tail a reopen asks for: enough for what a container wrote while it had no stream, and no more
// than reading back further costs the daemon (about as much as reading the whole log).
const (
	MinTail = 1000
	MaxTail = 1 << 20
)

// TailFor sizes a reopen's tail: base, and twice what a container writing at rate (entries per second) wrote in
// behind and in the two margins the cursor's floor trails its positions by; at most MaxTail.
func TailFor(base int, rate float64, behind time.Duration) int {
	behind += 2 * time.Duration(checkpoint.InversionMargin)
	return int(min(float64(base)+2*rate*behind.Seconds(), MaxTail))
}

// tailAfterStall sizes the tail of the reopen after a stall: the turn's hint, and twice what the container wrote
// while the batch waited, at the rate the turn read, entries in elapsed.
func tailAfterStall(hint, entries int, elapsed, waited time.Duration) int {
	if elapsed <= 0 {
		return hint
	}
	return TailFor(hint, float64(entries)/elapsed.Seconds(), waited)
}
