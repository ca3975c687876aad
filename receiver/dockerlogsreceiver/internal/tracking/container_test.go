package tracking

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

func TestTailHintReachesBackOverWhatATurnDidNotDeliver(t *testing.T) {
	c := &trackedContainer{}
	assert.Equal(t, turn.MinTail, c.tailHint(time.Now()), "no turn yet")

	opened := time.Now()
	// 1,000 entries in 2 s, all delivered.
	c.afterTurn(turn.Outcome{Entries: 1000, Opened: opened, Duration: 2 * time.Second}, false)
	end := opened.Add(2 * time.Second)
	delivered := c.tailHint(end)
	assert.Equal(t, turn.MinTail+2*500, delivered, "twice the rate (500/s) over the two margins (1 s) the floor trails")

	// The same turn, rotated while 3,000 entries waited for a consumer that refused them.
	c.afterTurn(turn.Outcome{Entries: 1000, Undelivered: 3000, Opened: opened, Duration: 2 * time.Second}, false)
	assert.Equal(t, delivered+2*3000, c.tailHint(end))

	// A turn whose stream did not open read nothing: what lies past the cursor is unchanged.
	c.afterTurn(turn.Outcome{End: turn.EndOpenFailed, Opened: end}, true)
	assert.GreaterOrEqual(t, c.tailHint(end), turn.MinTail+2*3000)

	// A turn that delivered all it read leaves nothing behind.
	c.afterTurn(turn.Outcome{Entries: 1000, Opened: opened, Duration: 2 * time.Second}, false)
	assert.Equal(t, delivered, c.tailHint(end))
}
