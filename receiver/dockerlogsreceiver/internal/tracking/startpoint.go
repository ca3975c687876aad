package tracking

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// startSlack is how far before State.StartedAt a run's first line may be stamped. The daemon records StartedAt
// after the process has started, and the process may have written by then (seen here: 5 ms before). It is used
// only when the end of the run before is unknown; a previous run that ended within it is read in part again.
const startSlack = 500 * time.Millisecond

// startPoint returns the cursor a container without a saved position is read from, and whether it was found.
//
// A container that started after the receiver is read from that start: with start_at: end its earlier runs are
// history, with start_at: beginning they are read too. One that was already running when the receiver started
// begins where start_at says.
func (r *admitter) startPoint(ctx context.Context, c *trackedContainer, info container.InspectResponse, startedAfterReceiver bool) (checkpoint.Cursor, error) {
	switch {
	case r.cfg.StartAtBeginning:
		return checkpoint.Cursor{}, nil
	case !startedAfterReceiver:
		// The end is where the log stands now, not when a stream slot frees up.
		ts, err := turn.LastTimestamp(ctx, r.opener(c.meta.ID), c.tty)
		if err != nil || ts == 0 {
			return checkpoint.Cursor{}, err
		}
		return checkpoint.AtEnd(ts), nil
	}
	start := runStart(info.State)
	podman := false
	if start != 0 {
		var err error
		if podman, err = r.client.IsPodman(ctx); err != nil {
			// Either guess loses lines on one of the two daemons: the next reconcile asks again.
			return checkpoint.Cursor{}, err
		}
	}
	if podman {
		// Podman stamps lines with the second they were written in, though it records the run's times to the
		// nanosecond and filters since by the lines' own: the run's first lines carry its start's second. From
		// the previous run's end, that whole second's lines would be read, the previous run's included: from the
		// run's own start less the slack they are read only when the previous run ended within it.
		if started, err := time.Parse(time.RFC3339Nano, info.State.StartedAt); err == nil {
			start = max(start, started.Add(-startSlack).UnixNano())
		}
		start -= start % int64(time.Second)
	}
	if start == 0 {
		// Its first run: the whole log is this run's.
		return checkpoint.Cursor{}, nil
	}
	last, err := turn.LastTimestamp(ctx, r.opener(c.meta.ID), c.tty)
	switch {
	case err != nil:
		return checkpoint.Cursor{}, err
	case last != 0 && last < start:
		// The run wrote nothing yet: its lines are those after the newest entry, which a reopen finds with a
		// short tail rather than by decoding the whole history since the start.
		return checkpoint.AtEnd(last), nil
	}
	return checkpoint.From(start), nil
}

// runStart returns the time from which the log holds the current run's lines, or 0 when it holds no other.
//
// While the run goes on, FinishedAt is the end of the run before and the current one began after it; the later of
// FinishedAt and StartedAt less the slack is where the current run's lines begin. Once the run has exited,
// FinishedAt is its own end and the end of the run before is lost: the run's start, less the slack, stands in for
// it. That start is the earlier of StartedAt and FinishedAt: a process that exits at once can end before the
// daemon records StartedAt (seen here: FinishedAt 1 ms before StartedAt, on a container's first run), and its
// lines are stamped before both.
func runStart(s *container.State) int64 {
	if s == nil {
		return 0
	}
	started, errS := time.Parse(time.RFC3339Nano, s.StartedAt)
	finished, errF := time.Parse(time.RFC3339Nano, s.FinishedAt)
	switch {
	case errS != nil || started.Year() <= 1:
		return 0
	case errF != nil || finished.Year() <= 1:
		// Never finished a run: this one is its first.
		return 0
	case s.Running && finished.Before(started):
		// The previous run's last line can be logged after its FinishedAt (seen on a loaded machine: 0.5 s
		// after it); the run's own start less the slack bounds it too.
		return max(finished.UnixNano()+1, started.Add(-startSlack).UnixNano())
	}
	return earlier(started, finished).Add(-startSlack).UnixNano()
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// newRunStart returns where a container first seen through its start event (or restart) is read from, with no
// request: its first line, when it was created while the receiver ran or start_at is beginning; otherwise the
// event's time less startSlack, its earlier runs being history. state, when the container could be inspected,
// moves that start up to the end of the run before (runStart), if that is later.
func (r *admitter) newRunStart(ctx context.Context, msg events.Message, state *container.State) checkpoint.Cursor {
	if r.cfg.StartAtBeginning || r.early.wasCreated(msg.Actor.ID) {
		return checkpoint.Cursor{}
	}
	start := max(msg.TimeNano-int64(startSlack), runStart(state))
	if podman, err := r.client.IsPodman(ctx); podman || err != nil {
		// Podman stamps lines with the second they were written in (startPoint); while the kind is not known,
		// reading from the second loses nothing on either.
		start -= start % int64(time.Second)
	}
	return checkpoint.From(start)
}
