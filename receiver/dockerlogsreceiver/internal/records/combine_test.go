package records

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/decode"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// gatedLogs is a consumer whose calls wait for a gate; it records each call's resource count.
type gatedLogs struct {
	mu     sync.Mutex
	calls  []int
	gate   chan struct{}
	answer func(ctx context.Context, logs plog.Logs) error
}

func (g *gatedLogs) ConsumeLogs(ctx context.Context, logs plog.Logs) error {
	g.mu.Lock()
	g.calls = append(g.calls, logs.ResourceLogs().Len())
	g.mu.Unlock()
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.answer != nil {
		return g.answer(ctx, logs)
	}
	return nil
}

// consumerOf makes g a consumer.Logs.
func consumerOf(g *gatedLogs) consumer.Logs {
	c, err := consumer.NewLogs(g.ConsumeLogs)
	if err != nil {
		panic(err)
	}
	return c
}

func (g *gatedLogs) callCount() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.calls...)
}

// oneResource returns logs of one resource named name with one record.
func oneResource(name string) plog.Logs {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("container.name", name)
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("line of " + name)
	return logs
}

// waitPending waits until n parts wait for the next call.
func waitPending(t *testing.T, c *combiner, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.pending)
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d parts pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitCalls waits until the consumer was called n times.
func waitCalls(t *testing.T, g *gatedLogs, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(g.callCount()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls, want %d", len(g.callCount()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCombinerHandsOnTheDeliveriesThatArriveDuringACallInOne(t *testing.T) {
	g := &gatedLogs{gate: make(chan struct{})}
	c := &combiner{next: consumerOf(g)}
	errs := make(chan error, 5)
	go func() { errs <- c.consume(context.Background(), oneResource("first")) }()
	waitCalls(t, g, 1)
	for _, name := range []string{"a", "b", "c", "d"} {
		go func() { errs <- c.consume(context.Background(), oneResource(name)) }()
	}
	waitPending(t, c, 4)
	close(g.gate)
	for range 5 {
		if err := <-errs; err != nil {
			t.Fatalf("consume: %v", err)
		}
	}
	if got := g.callCount(); len(got) != 2 || got[0] != 1 || got[1] != 4 {
		t.Fatalf("calls with %v resources, want [1 4]", got)
	}
}

func TestCombinerCallIsCancelledOnlyOnceEveryPartsContextEnded(t *testing.T) {
	g := &gatedLogs{gate: make(chan struct{})}
	c := &combiner{next: consumerOf(g)}
	first := make(chan error, 1)
	go func() { first <- c.consume(context.Background(), oneResource("first")) }()
	waitCalls(t, g, 1)
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	a, b := make(chan error, 1), make(chan error, 1)
	go func() { a <- c.consume(ctxA, oneResource("a")) }()
	go func() { b <- c.consume(ctxB, oneResource("b")) }()
	waitPending(t, c, 2)
	// One part's context ends while it waits: it stays in the next call, which goes on for the other.
	cancelA()
	g.gate <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	waitCalls(t, g, 2)
	select {
	case err := <-a:
		t.Fatalf("the part whose context ended returned %v before its call ended", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The last context ends: the call is cancelled, and both parts get its answer.
	cancelB()
	if err := <-a; !errors.Is(err, context.Canceled) {
		t.Fatalf("part a: %v, want the cancelled call's answer", err)
	}
	if err := <-b; !errors.Is(err, context.Canceled) {
		t.Fatalf("part b: %v, want the cancelled call's answer", err)
	}
	if got := g.callCount(); len(got) != 2 || got[1] != 2 {
		t.Fatalf("calls with %v resources, want [1 2]", got)
	}
}

func TestCombinerRefusedForGoodAsksEachPartToGoAlone(t *testing.T) {
	g := &gatedLogs{gate: make(chan struct{}), answer: func(context.Context, plog.Logs) error {
		return consumererror.NewPermanent(errors.New("refused"))
	}}
	c := &combiner{next: consumerOf(g)}
	first := make(chan error, 1)
	go func() { first <- c.consume(context.Background(), oneResource("first")) }()
	waitCalls(t, g, 1)
	errs := make(chan error, 2)
	for _, name := range []string{"a", "b"} {
		go func() { errs <- c.consume(context.Background(), oneResource(name)) }()
	}
	waitPending(t, c, 2)
	close(g.gate)
	if err := <-first; !consumererror.IsPermanent(err) {
		t.Fatalf("a part alone: %v, want the consumer's permanent error", err)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, errAlone) {
			t.Fatalf("a part of a combined call: %v, want errAlone", err)
		}
	}
}

// countingTelemetry counts the lines handed on, accepted or not.
type countingTelemetry struct {
	mu                sync.Mutex
	accepted, refused int
}

func (*countingTelemetry) OperatorErrors(context.Context, int) {}
func (c *countingTelemetry) HandedOn(_ context.Context, lines []turn.Line, accepted bool, _ time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if accepted {
		c.accepted += len(lines)
	} else {
		c.refused += len(lines)
	}
}

func TestARecordRefusedForGoodDropsNoOtherTurnsRecords(t *testing.T) {
	set := receivertest.NewNopSettings(metadata.Type)
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: "docker", ReceiverCreateSettings: set})
	require.NoError(t, err)
	ops, err := NewOperators(set.TelemetrySettings, nil, nil, &LabelWarnings{})
	require.NoError(t, err)
	var mu sync.Mutex
	var kept []string
	g := &gatedLogs{gate: make(chan struct{}), answer: func(_ context.Context, logs plog.Logs) error {
		var names []string
		for i := range logs.ResourceLogs().Len() {
			name, _ := logs.ResourceLogs().At(i).Resource().Attributes().Get("container.name")
			if name.Str() == "bad" {
				return consumererror.NewPermanent(errors.New("bad record"))
			}
			names = append(names, name.Str())
		}
		mu.Lock()
		kept = append(kept, names...)
		mu.Unlock()
		return nil
	}}
	tel := &countingTelemetry{}
	d := &Deliverer{Next: consumerOf(g), ObsRecv: obs, Logger: zap.NewNop(), Resources: NewResources(metadata.DefaultResourceAttributesConfig()),
		Operators: ops, Telemetry: tel}
	line := []turn.Line{{Stream: decode.Stdout, Timestamp: 1, Body: "x"}}
	errs := make(chan error, 3)
	go func() { errs <- d.Deliver(context.Background(), Meta{ID: "1", Name: "first"}, line) }()
	waitCalls(t, g, 1)
	go func() { errs <- d.Deliver(context.Background(), Meta{ID: "2", Name: "good"}, line) }()
	go func() { errs <- d.Deliver(context.Background(), Meta{ID: "3", Name: "bad"}, line) }()
	waitPending(t, d.combine, 2)
	close(g.gate)
	for range 3 {
		require.NoError(t, <-errs)
	}
	assert.ElementsMatch(t, []string{"first", "good"}, kept, "the records accepted")
	assert.Equal(t, 2, tel.accepted)
	assert.Equal(t, 1, tel.refused, "only the bad record is dropped")
}
