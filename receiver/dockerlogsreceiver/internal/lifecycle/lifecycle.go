// Package lifecycle turns container events (start, die, oom, health_status, ...) into log records of the same
// pipeline as the containers' lines, queued and delivered on a goroutine of its own so that a pipeline refusing
// them never holds up discovery.
package lifecycle

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
)

// Attributes of a lifecycle record.
const (
	AttrEventName    = "event.name"
	AttrExitCode     = "process.exit.code"
	attrHealthStatus = "container.health.status"
	eventNamePrefix  = "container."
)

// Bounds of lifecycle delivery: records wait in a queue of their own and are offered for a limited time, so
// that a pipeline refusing them never holds up discovery, and with it the reading of containers.
const (
	lifecycleQueueSize = 1024
	lifecycleRetryFor  = time.Minute
)

// severityText names the severities lifecycle records take, as log levels are usually written.
var severityText = map[plog.SeverityNumber]string{
	plog.SeverityNumberInfo:  "INFO",
	plog.SeverityNumberWarn:  "WARN",
	plog.SeverityNumberError: "ERROR",
}

// event is one container event to emit, with the resource of its container at the time.
type event struct {
	meta records.Meta
	msg  events.Message
}

// Emitter turns container events into log records and hands them to the next consumer in the order they came,
// on a goroutine of its own.
type Emitter struct {
	wanted   map[events.Action]bool
	next     consumer.Logs
	obsrecv  *receiverhelper.ObsReport
	logger   *zap.Logger
	version  string
	retryFor time.Duration

	queue chan event
	// seen drops the events a resubscription replays (the daemon's since is in whole seconds).
	seen docker.RecentEvents
	// resourceOf builds the resource of a container's records, as for its log lines.
	resourceOf func(records.Meta) pcommon.Resource
	// full is set while the queue overflows, so that an overflow is reported once, not per event.
	full bool
}

func New(actions []events.Action, next consumer.Logs, obsrecv *receiverhelper.ObsReport, logger *zap.Logger, version string,
	resourceOf func(records.Meta) pcommon.Resource,
) *Emitter {
	l := &Emitter{wanted: map[events.Action]bool{}, next: next, obsrecv: obsrecv, logger: logger, version: version, resourceOf: resourceOf,
		retryFor: lifecycleRetryFor, queue: make(chan event, lifecycleQueueSize)}
	for _, a := range actions {
		l.wanted[a] = true
	}
	return l
}

// BaseAction strips the status from an action such as "health_status: healthy".
func BaseAction(a events.Action) events.Action {
	base, _, _ := strings.Cut(string(a), ":")
	return events.Action(base)
}

// Wants reports whether msg is an event to emit.
func (l *Emitter) Wants(msg events.Message) bool {
	return l != nil && l.wanted[BaseAction(msg.Action)]
}

// Offer queues the record of one event without ever waiting: when the queue is full, the event is dropped.
func (l *Emitter) Offer(meta records.Meta, msg events.Message) {
	if !l.seen.Add(msg) {
		return
	}
	select {
	case l.queue <- event{meta: meta, msg: msg}:
		l.full = false
	default:
		if !l.full {
			l.logger.Warn("Too many container lifecycle records wait for the next consumer; dropping new ones until it accepts again",
				zap.Int("queued", lifecycleQueueSize))
		}
		l.full = true
	}
}

// Run delivers queued records until ctx ends; what is still queued then is dropped.
func (l *Emitter) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.queue:
			l.deliver(ctx, ev)
		}
	}
}

// deliver hands one record on, retrying with backoff for at most retryFor.
func (l *Emitter) deliver(ctx context.Context, ev event) {
	giveUp := time.Now().Add(l.retryFor)
	wait := records.RetryInitial
	for attempt := 1; ; attempt++ {
		// Rebuilt for each attempt: a consumer that refused the records may have changed them.
		logs := ev.logs(l.resourceOf(ev.meta), l.version, time.Now())
		opCtx := l.obsrecv.StartLogsOp(ctx)
		err := l.next.ConsumeLogs(opCtx, logs)
		l.obsrecv.EndLogsOp(opCtx, "docker", 1, err)
		if err == nil || ctx.Err() != nil {
			return
		}
		fields := []zap.Field{zap.String("container.id", ev.meta.ID), zap.String(AttrEventName, ev.name()), zap.Error(err)}
		if consumererror.IsPermanent(err) {
			l.logger.Error("The next consumer permanently refused a container lifecycle record; it is dropped", fields...)
			return
		}
		if time.Now().Add(wait).After(giveUp) {
			l.logger.Warn("The next consumer refused a container lifecycle record for too long; it is dropped",
				append(fields, zap.Int("attempts", attempt))...)
			return
		}
		if attempt == 1 {
			l.logger.Warn("The next consumer refused a container lifecycle record; retrying", fields...)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		wait = min(2*wait, records.RetryMax)
	}
}

// name is the record's event.name: container.start, container.die, ...
func (ev event) name() string {
	return EventName(ev.msg.Action)
}

// EventName is the event.name of an action's records: container.start, container.die, ...
func EventName(a events.Action) string {
	return eventNamePrefix + string(BaseAction(a))
}

// logs builds the record of the event on its container's resource.
func (ev event) logs(resource pcommon.Resource, version string, observed time.Time) plog.Logs {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	resource.CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	sl.Scope().SetVersion(version)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.Timestamp(ev.msg.TimeNano))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.Attributes().PutStr(AttrEventName, ev.name())
	body, severity := ev.describe(lr.Attributes())
	lr.Body().SetStr(body)
	lr.SetSeverityNumber(severity)
	lr.SetSeverityText(severityText[severity])
	return logs
}

// describe returns the record's text and severity, and adds the attributes particular to the event.
func (ev event) describe(attrs pcommon.Map) (string, plog.SeverityNumber) {
	name := ev.meta.Name
	switch BaseAction(ev.msg.Action) {
	case events.ActionStart:
		return fmt.Sprintf("container %s started", name), plog.SeverityNumberInfo
	case events.ActionRestart:
		return fmt.Sprintf("container %s restarted", name), plog.SeverityNumberInfo
	case events.ActionHealthStatus:
		_, status, _ := strings.Cut(string(ev.msg.Action), ":")
		status = strings.TrimSpace(status)
		attrs.PutStr(attrHealthStatus, status)
		if status == "unhealthy" {
			return fmt.Sprintf("container %s is unhealthy", name), plog.SeverityNumberWarn
		}
		return fmt.Sprintf("container %s is %s", name, status), plog.SeverityNumberInfo
	case events.ActionOOM:
		return fmt.Sprintf("container %s ran out of memory: the kernel killed a process in it", name), plog.SeverityNumberError
	case events.ActionDie:
		code, err := strconv.Atoi(ev.msg.Actor.Attributes["exitCode"])
		if err != nil {
			return fmt.Sprintf("container %s exited", name), plog.SeverityNumberInfo
		}
		attrs.PutInt(AttrExitCode, int64(code))
		if code != 0 {
			return fmt.Sprintf("container %s exited with code %d", name, code), plog.SeverityNumberWarn
		}
		return fmt.Sprintf("container %s exited with code 0", name), plog.SeverityNumberInfo
	case events.ActionDestroy:
		return fmt.Sprintf("container %s was removed", name), plog.SeverityNumberInfo
	}
	return fmt.Sprintf("container %s: %s", name, ev.msg.Action), plog.SeverityNumberInfo
}
