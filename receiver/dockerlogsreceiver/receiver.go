package dockerlogsreceiver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/checkpoint"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/lifecycle"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/pool"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/tracking"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// logsReceiver reads container logs through the Docker API and hands them to the next consumer: it wires the parts
// together (internal/tracking, internal/pool, internal/records, internal/lifecycle) and owns what they share.
type logsReceiver struct {
	cfg      *Config
	settings receiver.Settings
	next     consumer.Logs
	obsrecv  *receiverhelper.ObsReport
	// telemetry records the receiver's own metrics (documentation.md).
	telemetry *receiverTelemetry

	// Set by Start, cleared by Shutdown.
	client    *docker.Client
	store     *checkpoint.Store
	pool      *pool.Pool
	budget    *turn.Budget // shared by every turn: bounds the lines read and not yet accepted
	tracker   *tracking.Tracker
	operators *records.Operators
	// lifecycle emits container lifecycle events as records; nil unless lifecycle_events is enabled.
	lifecycle *lifecycle.Emitter
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	// stopped is closed once the background work and every turn have returned; made by the first Shutdown.
	stopped chan struct{}

	// onTurnEnd, if set, is told how each turn ended.
	onTurnEnd func(id string, out turn.Outcome)
}

var _ receiver.Logs = (*logsReceiver)(nil)

func newLogsReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*logsReceiver, error) {
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "docker",
		LongLivedCtx:           true,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &logsReceiver{cfg: cfg, settings: set, next: next, obsrecv: obsrecv,
		telemetry: newReceiverTelemetry(tb)}, nil
}

// Start connects to the daemon and begins discovering and reading containers in the background.
func (r *logsReceiver) Start(ctx context.Context, host component.Host) error {
	if err := r.connect(ctx, host); err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}
	set, err := r.trackingSettings(ctx, host)
	if err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}
	r.budget = turn.NewBudget(int64(r.cfg.MaxBufferedBytes))
	set.Budget = r.budget
	// The pool calls the tracker's turns only for containers the tracker added, after it was built.
	var tracker *tracking.Tracker
	r.pool = pool.Start(pool.Settings{
		MaxStreams: r.cfg.MaxConcurrentStreams,
		Rotation:   r.cfg.RotationInterval,
		TimeSlice:  r.cfg.TimeSlice,
		Turn: func(ctx context.Context, id string, yield <-chan pool.Reason) pool.Next {
			return tracker.Turn(ctx, id, yield)
		},
		OnWait: func(string) { r.telemetry.poolFull() },
	})
	set.Pool = r.pool
	tracker = tracking.New(set)
	r.tracker = tracker
	if err := errors.Join(r.telemetry.observePool(r.pool, r.tracker.View(), r.cfg.MaxConcurrentStreams),
		r.telemetry.observePositions(r.store), r.telemetry.observeFiles(r.tracker.View())); err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}
	r.telemetry.zeroGaps(ctx)

	// Background work outlives Start's context, which ends when Start returns.
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	if r.lifecycle != nil {
		r.wg.Go(func() { r.lifecycle.Run(runCtx) })
	}
	r.wg.Go(func() { r.tracker.Run(runCtx) })
	return nil
}

// connect opens the client of the daemon and the store of positions.
func (r *logsReceiver) connect(ctx context.Context, host component.Host) error {
	tlsCfg, err := r.loadTLS(ctx)
	if err != nil {
		return err
	}
	r.warnIfUnencrypted()
	r.client, err = docker.NewClient(docker.Settings{
		Endpoint:   r.cfg.Endpoint,
		APIVersion: r.cfg.APIVersion,
		TLS:        tlsCfg,
		Timeout:    r.cfg.Timeout,
	})
	if err != nil {
		return err
	}
	storageClient, err := r.storageClient(ctx, host)
	if err != nil {
		return err
	}
	r.store = checkpoint.NewStore(storageClient)
	if err := r.store.LoadIndex(ctx); err != nil {
		// Saving without the index would drop from it the positions it holds: they would never be removed.
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// trackingSettings builds the parts tracking works with, but the pool and the budget, and starts the operators.
func (r *logsReceiver) trackingSettings(ctx context.Context, host component.Host) (tracking.Settings, error) {
	set := tracking.Settings{Config: trackingConfig(r.cfg), Logger: r.settings.Logger, Client: r.client, Store: r.store,
		Telemetry: meters{r.telemetry}, Health: newHealth(host), OnTurnEnd: r.onTurnEnd, LabelWarnings: &records.LabelWarnings{}}
	var err error
	// Validate already compiled these rules; a failure here is a programming error, not a user's.
	if set.Filter, err = selection.NewFilter(r.cfg.Include, r.cfg.Exclude); err != nil {
		return set, err
	}
	if set.LabelMapping, err = records.CompileLabelMapping(r.cfg.ContainerLabelsToAttributes); err != nil {
		return set, err
	}
	set.StartedAt = time.Now()
	since, err := r.store.WatchingSince(ctx, set.StartedAt.UnixNano())
	if err != nil {
		r.settings.Logger.Warn("Reading when the receiver first ran failed; containers started while it was down are read from their newest line",
			zap.Error(err))
	}
	// A container started after it, found without a saved position, is read from its start, also when it started
	// while the collector was down.
	set.WatchingSince = time.Unix(0, since)
	if r.cfg.ExcludeOwnContainer {
		if set.OwnID = docker.OwnContainerID(); set.OwnID != "" {
			r.settings.Logger.Info("Running inside a container; its own logs are not read", zap.String("container.id", set.OwnID))
		}
	}
	// Built at each Start: a stopped stanza pipeline cannot start again, and a receiver may be started again.
	if r.operators, err = records.NewOperators(r.settings.TelemetrySettings, r.cfg.Operators, r.cfg.Formats, set.LabelWarnings); err != nil {
		return set, err
	}
	if err := r.operators.Start(); err != nil {
		return set, err
	}
	set.Resources = records.NewResources(r.cfg.ResourceAttributes)
	set.Deliverer = &records.Deliverer{Next: r.next, ObsRecv: r.obsrecv, Logger: r.settings.Logger, Version: r.settings.BuildInfo.Version,
		Resources: set.Resources, Operators: r.operators, Telemetry: meters{r.telemetry}}
	if actions := r.cfg.LifecycleEvents.actions(); len(actions) > 0 {
		r.lifecycle = lifecycle.New(actions, r.next, r.obsrecv, r.settings.Logger, r.settings.BuildInfo.Version, set.Resources.Of)
		set.Lifecycle = r.lifecycle
	}
	return set, nil
}

// Shutdown stops discovery and every stream, waits for all of them, and releases the client; it is safe without
// Start and twice. It returns by ctx's deadline, with an error when the waiting was cut short.
func (r *logsReceiver) Shutdown(ctx context.Context) error {
	r.telemetry.shutdown()
	if r.cancel != nil {
		r.cancel()
	}
	if r.stopped == nil {
		r.stopped = make(chan struct{})
		go r.awaitStop(r.pool, r.stopped)
	}
	select {
	case <-r.stopped:
	default:
		select {
		case <-r.stopped:
		case <-ctx.Done():
			// A consumer that ignores cancellation holds a turn or a lifecycle record: the store and the client
			// stay open for it, and a later Shutdown finishes.
			return fmt.Errorf("shutdown: reading did not stop in time: %w", ctx.Err())
		}
	}
	var errs []error
	if r.operators != nil {
		errs = append(errs, r.operators.Stop())
	}
	if r.store != nil {
		errs = append(errs, r.store.Close(ctx))
	}
	if r.client != nil {
		errs = append(errs, r.client.Close())
	}
	r.cancel, r.pool, r.store, r.client, r.tracker, r.lifecycle, r.stopped = nil, nil, nil, nil, nil, nil, nil
	return errors.Join(errs...)
}

// awaitStop waits for the background work and then for every turn of p (nil before Start), and closes stopped.
func (r *logsReceiver) awaitStop(p *pool.Pool, stopped chan<- struct{}) {
	defer close(stopped)
	r.wg.Wait()
	if p != nil {
		p.Stop()
	}
}

func (r *logsReceiver) loadTLS(ctx context.Context) (*tls.Config, error) {
	if r.cfg.TLS == nil {
		return nil, nil
	}
	tlsCfg, err := r.cfg.TLS.LoadTLSConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load tls settings: %w", err)
	}
	return tlsCfg, nil
}

// storageClient opens the storage extension named by storage, or returns nil when none is configured.
func (r *logsReceiver) storageClient(ctx context.Context, host component.Host) (storage.Client, error) {
	if r.cfg.Storage == nil {
		return nil, nil
	}
	ext, ok := host.GetExtensions()[*r.cfg.Storage]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found", r.cfg.Storage.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension", r.cfg.Storage.String())
	}
	client, err := se.GetClient(ctx, component.KindReceiver, r.settings.ID, "")
	if err != nil {
		return nil, fmt.Errorf("storage: open client of %q: %w", r.cfg.Storage.String(), err)
	}
	return client, nil
}
