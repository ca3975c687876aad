package turn

import (
	"context"
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
		ctx, cancel := context.WithTimeout(ctx, storedTimeout)
		defer cancel()
		body, err := t.Open(ctx, docker.LogsRequest{Since: since})
		if err != nil {
			return decode.StoredLine{}, false
		}
		defer body.Close()
		line, err := decode.StoredPieces(body, decode.Options{TTY: t.TTY, Driver: t.Driver, DaemonAPI: t.DaemonAPI, MaxLineBytes: t.MaxLineBytes}, stream, ts)
		return line, err == nil
	}
}
