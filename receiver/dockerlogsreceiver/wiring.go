package dockerlogsreceiver

import (
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/multiline"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/tracking"
)

// trackingConfig is what internal/tracking takes of a valid configuration.
func trackingConfig(cfg *Config) tracking.Config {
	rac := cfg.ResourceAttributes
	return tracking.Config{
		StartAtBeginning:     cfg.StartAt == StartAtBeginning,
		Storage:              cfg.Storage != nil,
		ReconcileInterval:    cfg.ReconcileInterval,
		MaxConcurrentStreams: cfg.MaxConcurrentStreams,
		TimeSlice:            cfg.TimeSlice,
		MaxLogSize:           cfg.MaxLogSize,
		MaxBatchSize:         cfg.MaxBatchSize,
		FlushInterval:        cfg.FlushInterval,
		LifecycleActions:     cfg.LifecycleEvents.actions(),
		WantIdentity:         rac.HostName.Enabled || rac.DockerEngineID.Enabled,
		IncludeByLabelOnly:   cfg.IncludeByLabelOnly,
		EnvVarsToAttributes:  cfg.EnvVarsToAttributes,
		Multiline:            cfg.multilineOf,
		DefaultMultiline:     func() *multiline.Rule { return cfg.Multiline.ruleOrNil() },
		MaxLinesPerSecond:    cfg.MaxLinesPerSecond,
		MaxBytesPerSecond:    cfg.MaxBytesPerSecond,
		LogFiles: tracking.LogFiles{
			Enabled:      cfg.LogFiles.Enabled,
			Directory:    cfg.LogFiles.dir(),
			PollInterval: cfg.LogFiles.PollInterval,
		},
	}
}
