package turn

import (
	"context"
	"sync"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// storedTimeout bounds one question about what the daemon stored of a line.
const storedTimeout = 30 * time.Second

// storedPieces reads what the daemon stored of one line, for a follow stream's Reader to tell a piece the daemon
// sent again from content (decode.Options.Stored): a read since the entry before the line, without following,
// closed once the line was read, which costs the daemon a read of its log up to there.
//
// A question is not given up when the stream is closed (a yield): Docker 20.10 reads every file of the log for it,
// which can take longer than a turn, and a turn that gave up would leave the line to the next one, which would ask
// again. So it is bounded by the turn's context and storedTimeout.
func storedPieces(ctx context.Context, t *Spec) decode.StoredFunc {
	if t.Driver != "json-file" && t.Driver != "" {
		// Only json-file's follower is known to send a file again (an empty Driver is not known, maybe json-file); a
		// question costs the daemon a read of the whole log.
		return nil
	}
	return func(stream decode.Stream, since, ts int64) (decode.StoredLine, bool) {
		key := storedKey{stream: stream, since: since, ts: ts}
		if line, ok := answers.get(key); ok {
			return line, true
		}
		ctx, cancel := context.WithTimeout(ctx, storedTimeout)
		defer cancel()
		body, err := t.Open(ctx, docker.LogsRequest{Since: since})
		if err != nil {
			return decode.StoredLine{}, false
		}
		defer body.Close()
		line, err := decode.StoredPieces(body, decode.Options{TTY: t.TTY, Driver: t.Driver, DaemonAPI: t.DaemonAPI, MaxLineBytes: t.MaxLineBytes}, stream, ts)
		if err != nil {
			return decode.StoredLine{}, false
		}
		if line.Whole {
			answers.put(key, line)
		}
		return line, true
	}
}

// answers keeps the last answers about whole lines, for every turn of the receiver: a question can take longer than
// a turn (a yield ends the stream after it), and the next turn, which reads the line again from its start, must
// not ask again, or a turn of a second would never get past a long line. A line is known by its output, its time
// and the time of the entry before it, to the nanosecond: two containers sharing all three are not told apart.
var answers = &answerCache{byKey: map[storedKey]decode.StoredLine{}}

// storedKey names a question about a line.
type storedKey struct {
	stream    decode.Stream
	since, ts int64
}

// answersKept bounds the answers kept; the oldest goes first.
const answersKept = 256

// answerCache is a bounded map of answers, safe for the turns' readers.
type answerCache struct {
	mu    sync.Mutex
	byKey map[storedKey]decode.StoredLine
	order []storedKey
}

func (c *answerCache) get(k storedKey) (decode.StoredLine, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	line, ok := c.byKey[k]
	return line, ok
}

func (c *answerCache) put(k storedKey, line decode.StoredLine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok {
		return
	}
	if len(c.order) >= answersKept {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	c.byKey[k] = line
	c.order = append(c.order, k)
}
