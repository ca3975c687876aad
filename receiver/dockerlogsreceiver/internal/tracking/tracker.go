package tracking

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/lifecycle"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Config is what tracking takes of the receiver's configuration.
type Config struct {
	// StartAtBeginning reads a container found without a saved position from its first line (start_at: beginning).
	StartAtBeginning bool
	// Storage says that positions outlive the collector (storage): exited containers are finished at a start.
	Storage              bool
	ReconcileInterval    time.Duration
	MaxConcurrentStreams int
	TimeSlice            time.Duration
	MaxLogSize           int
	MaxBatchSize         int
	FlushInterval        time.Duration
	// LifecycleActions are the events lifecycle_events emits records of.
	LifecycleActions []events.Action
	// WantIdentity says that a resource attribute needs the daemon's identity (host.name, docker.engine.id).
	WantIdentity        bool
	IncludeByLabelOnly  bool
	EnvVarsToAttributes map[string]string
	// Multiline returns a container's multiline rule from its labels; DefaultMultiline the receiver's (nil: none).
	Multiline         func(labels map[string]string) (*multiline.Rule, error)
	DefaultMultiline  func() *multiline.Rule
	MaxLinesPerSecond float64
	MaxBytesPerSecond int
	LogFiles          LogFiles
}

// LogFiles is the log_files section: whether, and from where, json-file logs are read from their files.
type LogFiles struct {
	Enabled      bool
	Directory    string
	PollInterval time.Duration
}

// Pool is what tracking asks of the pool of streams.
type Pool interface {
	// Add gives a container turns; Again asks for one more turn of a container that has them; Remove ends them.
	Add(id string)
	Again(id string)
	Remove(id string)
}

// Telemetry counts what tracking sees.
type Telemetry interface {
	TurnEnded(ctx context.Context, out turn.Outcome)
	TurnFailed(ctx context.Context, end turn.End, err error)
	GapsFound(ctx context.Context, gaps []turn.Gap)
	Event(ctx context.Context, msg events.Message)
	Reconnect(ctx context.Context)
	// EntrySkipped counts an entry of a log file that could not be parsed and was passed over.
	EntrySkipped(ctx context.Context)
}

// Health is told whether the daemon answers.
type Health interface {
	DaemonFailed(err error)
	DaemonAnswered()
}

// Deliverer hands a container's lines on as records; a turn's position advances once it returned nil.
type Deliverer interface {
	Deliver(ctx context.Context, meta records.Meta, lines []turn.Line) error
}

// Settings are the parts a Tracker works with.
type Settings struct {
	Config        Config
	Logger        *zap.Logger
	Client        *docker.Client
	Store         *checkpoint.Store
	Pool          Pool
	Budget        *turn.Budget
	Telemetry     Telemetry
	Health        Health
	Resources     *records.Resources
	Deliverer     Deliverer
	Lifecycle     *lifecycle.Emitter // nil unless lifecycle_events is enabled
	LabelWarnings *records.LabelWarnings
	LabelMapping  records.LabelMapping
	Filter        *selection.Filter
	// OwnID is the collector's own container, never read; empty when it runs elsewhere or reads itself.
	OwnID string
	// StartedAt is when the receiver started; WatchingSince when it first ran with its storage (startPoint).
	StartedAt     time.Time
	WatchingSince time.Time
	// OnTurnEnd, if set, is told how each turn ended.
	OnTurnEnd func(id string, out turn.Outcome)
}

// core is the state the parts of tracking share: the settings, the tracked containers and what is kept of them.
type core struct {
	cfg           Config
	logger        *zap.Logger
	client        *docker.Client
	store         *checkpoint.Store
	pool          Pool
	budget        *turn.Budget
	telemetry     Telemetry
	health        Health
	resources     *records.Resources
	deliverer     Deliverer
	lifecycle     *lifecycle.Emitter
	labelWarnings *records.LabelWarnings
	labelMapping  records.LabelMapping
	filter        *selection.Filter
	ownID         string
	startedAt     time.Time
	watchingSince time.Time
	onTurnEnd     func(id string, out turn.Outcome)
	// openLogs opens a container's log stream through the API: the client's Logs, or in a test one that ends
	// streams the way a daemon can.
	openLogs func(ctx context.Context, id string, req docker.LogsRequest) (io.ReadCloser, error)

	containers *containers
	early      *earlyStreams // streams opened at new containers' start events, until their first turn
	excluded   *excludedSet
	files      *logFiles
	malformed  malformedEntries
	identity   *identity
	// removals are the containers whose removal was counted: the destroy event, the prune and the turn reading one
	// can each find it removed unread.
	removals countedRemovals

	tracker *Tracker
	admit   *admitter
	reader  *reader
	// wg counts the turns read outside the pool (forget).
	wg sync.WaitGroup
}

// Tracker follows the daemon's containers and hands the pool the ones to read.
type Tracker struct {
	*core
}

// admitter decides whether and from where a container it does not know yet is read.
type admitter struct {
	*core
}

// reader runs the turns the pool grants: from a slot to internal/turn and back.
type reader struct {
	*core
}

// New builds a Tracker; Run starts it.
func New(set Settings) *Tracker {
	c := &core{
		cfg: set.Config, logger: set.Logger, client: set.Client, store: set.Store, pool: set.Pool, budget: set.Budget,
		telemetry: set.Telemetry, health: set.Health, resources: set.Resources, deliverer: set.Deliverer, lifecycle: set.Lifecycle,
		labelWarnings: set.LabelWarnings, labelMapping: set.LabelMapping, filter: set.Filter, ownID: set.OwnID,
		startedAt: set.StartedAt, watchingSince: set.WatchingSince, onTurnEnd: set.OnTurnEnd,
		containers: newContainers(), early: newEarlyStreams(), excluded: newExcludedSet(),
		openLogs: set.Client.Logs,
	}
	c.files = &logFiles{cfg: set.Config.LogFiles, logger: set.Logger, client: set.Client, telemetry: set.Telemetry}
	c.identity = &identity{client: set.Client, resources: set.Resources, logger: set.Logger, wanted: set.Config.WantIdentity}
	c.tracker, c.admit, c.reader = &Tracker{c}, &admitter{c}, &reader{c}
	return c.tracker
}

// Turn is the pool's TurnFunc: it reads one container for one turn and says whether and when it wants another.
func (r *Tracker) Turn(ctx context.Context, id string, yield <-chan pool.Reason) pool.Next {
	return r.reader.Turn(ctx, id, yield)
}

// View returns a read-only look at what is tracked, for the receiver's gauges and tests.
func (r *Tracker) View() View {
	return View{r.core}
}
