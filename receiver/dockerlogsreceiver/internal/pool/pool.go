package pool

import (
	"context"
	"sync"
	"time"
)

// TurnFunc reads one container for one turn; it must return soon after ctx ends or a reason arrives on yield,
// and says whether and when the container wants another turn.
type TurnFunc func(ctx context.Context, id string, yield <-chan Reason) Next

// Settings configure a Pool.
type Settings struct {
	// MaxStreams caps the turns running at once.
	MaxStreams int
	// Rotation is the longest a turn runs before it is asked to end.
	Rotation time.Duration
	// TimeSlice is how long a turn may keep its slot while other containers wait.
	TimeSlice time.Duration
	// Turn runs one turn.
	Turn TurnFunc
	// OnYield, if set, is told each time a turn is asked to end.
	OnYield func(id string, reason Reason)
	// OnWait, if set, is told when a container added with Add cannot start at once because every slot is taken;
	// a container waiting again after its own turn is not reported.
	OnWait func(id string)
}

// Stats is a snapshot of the pool.
type Stats struct {
	Open    int // turns holding a slot
	Waiting int // containers waiting for a slot
}

type request struct {
	id   string
	kind requestKind
}

type requestKind uint8

const (
	requestRemove requestKind = iota
	requestAdd
	requestAgain
)

type finish struct {
	id   string
	next Next
}

// Pool runs turns for the containers added to it, never more than MaxStreams at once.
type Pool struct {
	settings Settings
	requests chan request
	finished chan finish
	stats    chan chan Stats
	cancel   context.CancelFunc
	done     chan struct{}
	wg       sync.WaitGroup
}

// Start runs the pool until Stop.
func Start(s Settings) *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{
		settings: s,
		requests: make(chan request),
		finished: make(chan finish),
		stats:    make(chan chan Stats),
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	p.wg.Add(1)
	go p.loop(ctx)
	return p
}

// Add asks for turns for a container.
func (p *Pool) Add(id string) {
	p.send(request{id: id, kind: requestAdd})
}

// Again asks for turns for a container that has just started: a running turn that ends saying it wants
// no more (it saw the container stopped) is followed by another all the same.
func (p *Pool) Again(id string) {
	p.send(request{id: id, kind: requestAgain})
}

// Remove withdraws a container: it leaves the queue, and its running turn, if any, is asked to end and gets no successor.
func (p *Pool) Remove(id string) {
	p.send(request{id: id, kind: requestRemove})
}

// Stats returns the pool's current counts (zero after Stop).
func (p *Pool) Stats() Stats {
	reply := make(chan Stats, 1)
	select {
	case p.stats <- reply:
		return <-reply
	case <-p.done:
		return Stats{}
	}
}

// Stop cancels every turn and waits until all have returned; it is safe to call more than once.
func (p *Pool) Stop() {
	p.cancel()
	p.wg.Wait()
}

func (p *Pool) send(r request) {
	select {
	case p.requests <- r:
	case <-p.done:
	}
}

// running is one turn's handle inside the loop.
type running struct {
	cancel context.CancelFunc
	yield  chan Reason
}

func (p *Pool) loop(ctx context.Context) {
	defer p.wg.Done()
	defer close(p.done)
	sched := newScheduler(p.settings.MaxStreams, p.settings.TimeSlice, p.settings.Rotation)
	turns := map[string]running{}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		added := ""
		select {
		case <-ctx.Done():
			return
		case r := <-p.requests:
			switch r.kind {
			case requestAdd, requestAgain:
				if !sched.has(r.id) {
					added = r.id
				}
				sched.add(r.id, r.kind == requestAgain)
			case requestRemove:
				if sched.remove(r.id) {
					p.yield(turns[r.id], r.id, ReasonRemoved)
				}
			}
		case f := <-p.finished:
			turns[f.id].cancel()
			delete(turns, f.id)
			sched.done(f.id, f.next, time.Now())
		case reply := <-p.stats:
			reply <- Stats{Open: sched.open(), Waiting: sched.waiting()}
			continue
		case <-timer.C:
		}

		start, stop, next := sched.plan(time.Now())
		for _, o := range stop {
			p.yield(turns[o.id], o.id, o.reason)
		}
		for _, id := range start {
			turns[id] = p.startTurn(ctx, id)
		}
		if added != "" && sched.isWaiting(added) && p.settings.OnWait != nil {
			p.settings.OnWait(added)
		}
		resetTimer(timer, next)
	}
}

// yield asks a running turn to end; its channel is buffered and a turn is asked at most once.
func (p *Pool) yield(t running, id string, reason Reason) {
	t.yield <- reason
	if p.settings.OnYield != nil {
		p.settings.OnYield(id, reason)
	}
}

// startTurn runs one turn in its own goroutine and reports its end to the loop.
func (p *Pool) startTurn(ctx context.Context, id string) running {
	turnCtx, cancel := context.WithCancel(ctx)
	yield := make(chan Reason, 1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		next := p.settings.Turn(turnCtx, id, yield)
		select {
		case p.finished <- finish{id: id, next: next}:
		case <-ctx.Done():
		}
	}()
	return running{cancel: cancel, yield: yield}
}

// resetTimer makes timer fire at next, or not for a long while when there is no deadline.
func resetTimer(timer *time.Timer, next time.Time) {
	d := time.Hour
	if !next.IsZero() {
		d = max(time.Until(next), 0)
	}
	timer.Reset(d)
}
