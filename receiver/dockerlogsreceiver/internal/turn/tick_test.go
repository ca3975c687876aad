package turn

import (
	"testing"
	"time"
)

func TestFlushWaitEndsOnTheIntervalsTick(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	for _, c := range []struct {
		at       time.Duration
		interval time.Duration
		want     time.Duration
	}{
		{0, time.Second, time.Second},
		{1, time.Second, time.Second - 1},
		{300 * time.Millisecond, time.Second, 700 * time.Millisecond},
		{time.Second - 1, time.Second, 1},
		{250 * time.Millisecond, 200 * time.Millisecond, 150 * time.Millisecond},
	} {
		got := flushWait(base.Add(c.at), c.interval)
		if got != c.want {
			t.Errorf("flushWait(+%v, %v) = %v, want %v", c.at, c.interval, got, c.want)
		}
		if end := base.Add(c.at + got); end.UnixNano()%int64(c.interval) != 0 {
			t.Errorf("flushWait(+%v, %v) ends at %v, not on a tick", c.at, c.interval, end)
		}
	}
}

func TestFlushOnTickIsChosenBySpec(t *testing.T) {
	at := time.Unix(1_700_000_000, 300_000_000)
	spec := Spec{FlushInterval: time.Second}
	if got := spec.flushAfter(at); got != time.Second {
		t.Errorf("without FlushOnTick: %v, want the whole interval", got)
	}
	spec.FlushOnTick = true
	if got := spec.flushAfter(at); got != 700*time.Millisecond {
		t.Errorf("with FlushOnTick: %v, want 700ms to the tick", got)
	}
}
