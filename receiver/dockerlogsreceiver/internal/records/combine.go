package records

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// errAlone tells a caller that the call its records went in was refused for good: the records of one of the
// turns in it may be the cause, so each is tried again in a call of its own before any is dropped.
var errAlone = errors.New("a combined delivery was refused for good; delivered again alone")

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
	done chan error
}

// consume hands logs on with whatever else is waiting and returns the call's answer.
//
// A part is not withdrawn when ctx ends: like a call under way, it goes in the next call, which the consumer may
// still accept, and its answer says whether the records are the consumer's. A call is cancelled once the contexts
// of all its parts ended, so that a consumer that blocks does not hold a turn past the others.
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
		c.mu.Unlock()
		err := c.send(parts)
		for _, p := range parts {
			p.done <- err
		}
	}
}

// send makes one call of the parts, cancelled once all their contexts ended; a refusal for good of several parts
// is errAlone, so that each is tried again on its own.
func (c *combiner) send(parts []*part) error {
	if len(parts) == 1 {
		return c.next.ConsumeLogs(parts[0].ctx, parts[0].logs)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(parts[0].ctx))
	defer cancel()
	var live atomic.Int64
	live.Store(int64(len(parts)))
	logs := plog.NewLogs()
	for _, p := range parts {
		stop := context.AfterFunc(p.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
		p.logs.ResourceLogs().MoveAndAppendTo(logs.ResourceLogs())
	}
	err := c.next.ConsumeLogs(ctx, logs)
	if err != nil && consumererror.IsPermanent(err) {
		return errAlone
	}
	return err
}
