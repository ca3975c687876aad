package checkpoint

import (
	"context"
	"fmt"
	"strconv"
)

// sinceKey holds when the receiver first ran with this storage; it sits beside the cursors, outside their prefix.
const sinceKey = "receiver/watching-since"

// WatchingSince returns when the receiver first ran with this storage (ns since the Unix epoch), saving now as that
// time on the first run. Without a storage extension every start is a first run.
//
// A container started after it, running now without a saved position, was started while the receiver ran or was
// down, and its lines after that start are the receiver's to deliver: start_at: end means "from the first start on",
// not "from each restart on".
func (s *Store) WatchingSince(ctx context.Context, now int64) (int64, error) {
	if !s.persistent {
		return now, nil
	}
	data, err := s.client.Get(ctx, sinceKey)
	if err != nil {
		return now, fmt.Errorf("load when the receiver first ran: %w", err)
	}
	if data != nil {
		if since, err := strconv.ParseInt(string(data), 10, 64); err == nil && since > 0 && since <= now {
			return since, nil
		}
	}
	if err := s.client.Set(ctx, sinceKey, []byte(strconv.FormatInt(now, 10))); err != nil {
		return now, fmt.Errorf("save when the receiver first ran: %w", err)
	}
	return now, nil
}
