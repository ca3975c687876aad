package records

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// errAlone tells a caller that the call its records went in was refused for good: the records of one of the
// turns in it may be the cause, so each is tried again in a call of its own before any is dropped.
var errAlone = errors.New("a combined delivery was refused for good; delivered again alone")

// errAgain tells a caller that the call its records went in was cancelled for another turn's sake (that turn
// ended): its own records were not refused, and it tries again at once.
var errAgain = errors.New("a combined delivery was cancelled by another turn; delivered again")

// combiner hands the records of several turns on in one ConsumeLogs call: deliveries that arrive while a call is
// under way wait for it to end and then go on together, so that streams flushing at the same moment cost the
// durable pipeline one transaction instead of one each (many quiet containers deliver a few lines each).
//
// It never waits for company: a delivery that finds no call under way is handed on at once.
type combiner struct {
	next consumer.Logs

	mu sync.Mutex
	// pending are the parts waiting for the next call.
	pending []*part
	// busy says that a goroutine is handing calls on; it takes pending until none is left.
	busy bool
}

// part is one delivery's records in a combined call.
type part struct {
	ctx  context.Context
	logs plog.Logs
	// taken is set under combiner.mu once the part is in a call: it can no longer be withdrawn.
	taken bool
	done  chan error
}

// consume hands logs on with whatever else is waiting and returns the call's answer; when ctx ends before the
// records went in a call, they are withdrawn, and after, the call is cancelled and its answer awaited.
//
// logs is moved into the call: a caller retrying builds its records again.
func (c *combiner) consume(ctx context.Context, logs plog.Logs) error {
	p := &part{ctx: ctx, logs: logs, done: make(chan error, 1)}
	c.mu.Lock()
	c.pending = append(c.pending, p)
	if !c.busy {
		c.busy = true
		go c.run()
	}
	c.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
	}
	c.mu.Lock()
	if !p.taken {
		c.pending = removePart(c.pending, p)
		c.mu.Unlock()
		return ctx.Err()
	}
	c.mu.Unlock()
	// The call watches every part's context: it ends soon, and its answer says whether the records are the consumer's.
	return <-p.done
}

// run hands the pending parts on, a call at a time, until none is left.
func (c *combiner) run() {
	for {
		c.mu.Lock()
		parts := c.pending
		c.pending = nil
		if len(parts) == 0 {
			c.busy = false
			c.mu.Unlock()
			return
		}
		for _, p := range parts {
			p.taken = true
		}
		c.mu.Unlock()
		cancelled, err := c.send(parts)
		for _, p := range parts {
			if cancelled && p.ctx.Err() == nil {
				p.done <- errAgain
				continue
			}
			p.done <- err
		}
	}
}

// send makes one call of the parts; it is cancelled when any of their contexts ends (cancelled), and the others
// then retry.
func (c *combiner) send(parts []*part) (cancelled bool, err error) {
	if len(parts) == 1 {
		return false, c.next.ConsumeLogs(parts[0].ctx, parts[0].logs)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(parts[0].ctx))
	defer cancel()
	logs := plog.NewLogs()
	for _, p := range parts {
		stop := context.AfterFunc(p.ctx, cancel)
		defer stop()
		p.logs.ResourceLogs().MoveAndAppendTo(logs.ResourceLogs())
	}
	err = c.next.ConsumeLogs(ctx, logs)
	switch {
	case err == nil:
		return false, nil
	case ctx.Err() != nil:
		return true, err
	case consumererror.IsPermanent(err):
		return false, errAlone
	}
	return false, err
}

// removePart returns parts without p.
func removePart(parts []*part, p *part) []*part {
	for i, q := range parts {
		if q == p {
			return append(parts[:i], parts[i+1:]...)
		}
	}
	return parts
}
