package turn

import (
	"context"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
)

// storedPieces reads what the daemon stored of one line, for a follow stream's Reader to tell a piece the daemon
// sent again from content (decode.Options.Stored): a read since the line's time, without following, closed once
// the line was read, which costs the daemon a read of its log up to there. The follow stream is read on meanwhile
// (aheadReader).
func storedPieces(ctx context.Context, t *Spec, follow *aheadReader) decode.StoredFunc {
	return func(stream decode.Stream, ts int64) ([]uint32, bool) {
		defer follow.asked()()
		body, err := t.Open(ctx, docker.LogsRequest{Since: ts})
		if err != nil {
			return nil, false
		}
		defer body.Close()
		sums, err := decode.StoredPieces(body, decode.Options{TTY: t.TTY, Driver: t.Driver, DaemonAPI: t.DaemonAPI, MaxLineBytes: t.MaxLineBytes}, stream, ts)
		return sums, err == nil
	}
}
