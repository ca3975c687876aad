package dockerlogsreceiver

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
)

// Values accepted by start_at.
const (
	StartAtEnd       = "end"
	StartAtBeginning = "beginning"
)

// Bounds that keep a configuration from stopping all progress or exhausting memory.
const (
	// minTurn is the shortest rotation_interval and time_slice: a turn must outlive opening its stream.
	minTurn = 100 * time.Millisecond
	// maxBatchSize caps max_batch_size, which also sizes each open stream's buffer.
	maxBatchSize = 100_000
	// maxLogSize caps max_log_size, the memory one line may take while it is assembled.
	maxLogSize = 64 << 20
)

// minAPIVersion is the oldest Engine API version the official client still speaks.
const minAPIVersion = "1.24"

var apiVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// Config is the configuration of the docker_logs receiver.
type Config struct {
	// Endpoint is the Docker daemon address: unix:///path, tcp://host:port, http(s)://host:port or npipe://.
	Endpoint string `mapstructure:"endpoint"`
	// APIVersion pins the Engine API version; empty negotiates it with the daemon.
	APIVersion string `mapstructure:"api_version"`
	// Timeout bounds every non-streaming API call (list, inspect, ping).
	Timeout time.Duration `mapstructure:"timeout"`
	// TLS configures the client for a tcp:// daemon protected by TLS.
	TLS *configtls.ClientConfig `mapstructure:"tls"`

	// MaxConcurrentStreams caps how many log streams are open at once.
	MaxConcurrentStreams int `mapstructure:"max_concurrent_streams"`
	// RotationInterval is the longest a log stream stays open before it is closed and reopened.
	RotationInterval time.Duration `mapstructure:"rotation_interval"`
	// TimeSlice is how long a stream keeps its slot while other containers wait for one.
	TimeSlice time.Duration `mapstructure:"time_slice"`
	// StartAt decides where a container without a saved position begins: end (from now on) or beginning (its whole log).
	StartAt string `mapstructure:"start_at"`
	// ReconcileInterval is how often the container list is read again to repair missed events.
	ReconcileInterval time.Duration `mapstructure:"reconcile_interval"`

	// MaxLogSize is the longest body of one record in bytes; a longer line is split into several records.
	MaxLogSize int `mapstructure:"max_log_size"`
	// MaxBatchSize is the most records handed to the next consumer in one call.
	MaxBatchSize int `mapstructure:"max_batch_size"`
	// FlushInterval is the longest a read line waits before its batch is handed on.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// MaxBufferedBytes bounds the bytes of the lines read and not yet accepted by the next consumer, across all streams.
	MaxBufferedBytes int `mapstructure:"max_buffered_bytes"`

	// Include and Exclude select the containers that are read; exclude wins.
	Include selection.Rules `mapstructure:"include"`
	Exclude selection.Rules `mapstructure:"exclude"`
	// ResourceAttributes switches each resource attribute declared in metadata.yaml on or off.
	ResourceAttributes metadata.ResourceAttributesConfig `mapstructure:"resource_attributes"`
	// ContainerLabelsToAttributes copies container labels to resource attributes (label -> attribute): a key is a
	// label key or a pattern with one "*"; an empty name means the label's own key, and for a pattern a "*" in the
	// name stands for what the key's "*" matched (labelmap.go).
	ContainerLabelsToAttributes map[string]string `mapstructure:"container_labels_to_attributes"`
	// EnvVarsToAttributes copies the named environment variables to resource attributes (variable -> attribute);
	// no other variable is read, since environments often hold secrets.
	EnvVarsToAttributes map[string]string `mapstructure:"env_vars_to_attributes"`

	// ExcludeOwnContainer skips the container the collector itself runs in, whose output may contain the records it exports.
	ExcludeOwnContainer bool `mapstructure:"exclude_own_container"`

	// LifecycleEvents emits container lifecycle events (start, die, oom, ...) as log records; off by default.
	LifecycleEvents LifecycleEventsConfig `mapstructure:"lifecycle_events"`
	// Multiline, when set, joins the lines of one event into one record (see MultilineConfig).
	Multiline *MultilineConfig `mapstructure:"multiline"`

	// LogFiles reads json-file logs from the daemon's files instead of through the API; off by default.
	LogFiles LogFilesConfig `mapstructure:"log_files"`

	// Operators are stanza operators (json_parser, regex_parser, move, router, ...) run on each batch's records
	// before it is handed on; none by default.
	Operators []operator.Config `mapstructure:"operators"`

	// MaxLinesPerSecond and MaxBytesPerSecond slow each container's reading to at most that many lines and body
	// bytes per second (0: not limited); labels can set them per container. Nothing is dropped.
	MaxLinesPerSecond float64 `mapstructure:"max_lines_per_second"`
	MaxBytesPerSecond int     `mapstructure:"max_bytes_per_second"`

	// Formats are named operator lists that a container chooses with the label io.otelcol.docker_logs.format,
	// in place of operators; json and logfmt are built in unless defined here.
	Formats map[string][]operator.Config `mapstructure:"formats"`
	// IncludeByLabelOnly reads only the containers labelled io.otelcol.docker_logs.enabled=true (opt-in).
	IncludeByLabelOnly bool `mapstructure:"include_by_label_only"`

	// Storage names a storage extension that keeps each container's position across collector restarts.
	Storage *component.ID `mapstructure:"storage"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// defaultFlushInterval is 1 s, not less: a container followed live hands on what it wrote in one flush interval per
// call, and each call costs a disk-queue transaction and a position save whatever it carries; at 200 ms a container
// writing 5 lines/s paid them for nearly every line (docs/benchmarks.md, B4). A stream's first lines after an
// opening do not wait for it (they go after 10 ms of quiet), and the lag at scale is the pool's cycle, tens of seconds.
const defaultFlushInterval = time.Second

func createDefaultConfig() component.Config {
	return &Config{
		Endpoint:             client.DefaultDockerHost,
		Timeout:              10 * time.Second,
		MaxConcurrentStreams: 50,
		RotationInterval:     5 * time.Minute,
		TimeSlice:            10 * time.Second,
		StartAt:              StartAtEnd,
		ReconcileInterval:    time.Minute,
		MaxLogSize:           1 << 20,
		MaxBatchSize:         1000,
		FlushInterval:        defaultFlushInterval,
		MaxBufferedBytes:     64 << 20,
		ExcludeOwnContainer:  true,
		ResourceAttributes:   metadata.DefaultResourceAttributesConfig(),
	}
}

// Validate checks the configuration and names the YAML key of every problem it finds.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Endpoint == "" {
		errs = append(errs, errors.New("endpoint must be specified"))
	} else if err := validateEndpoint(cfg.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint %q is not a valid Docker daemon address (unix:///path or tcp://host:port): %w", cfg.Endpoint, err))
	}
	if err := validateAPIVersion(cfg.APIVersion); err != nil {
		errs = append(errs, err)
	}
	if cfg.Timeout <= 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	if cfg.TLS != nil {
		if err := cfg.TLS.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("tls: %w", err))
		}
		if isLocalSocket(cfg.Endpoint) {
			errs = append(errs, fmt.Errorf("tls is set, but endpoint %q is a local socket: tls applies only to a tcp:// endpoint", cfg.Endpoint))
		}
	}
	if cfg.MaxConcurrentStreams < 1 {
		errs = append(errs, errors.New("max_concurrent_streams must be at least 1"))
	}
	if cfg.RotationInterval < minTurn {
		errs = append(errs, fmt.Errorf("rotation_interval must be at least %v", minTurn))
	}
	if cfg.TimeSlice < minTurn {
		errs = append(errs, fmt.Errorf("time_slice must be at least %v", minTurn))
	}
	if cfg.StartAt != StartAtEnd && cfg.StartAt != StartAtBeginning {
		errs = append(errs, fmt.Errorf("start_at %q is not one of %q or %q", cfg.StartAt, StartAtEnd, StartAtBeginning))
	}
	if cfg.ReconcileInterval <= 0 {
		errs = append(errs, errors.New("reconcile_interval must be positive"))
	}
	if cfg.MaxLogSize < 1024 || cfg.MaxLogSize > maxLogSize {
		errs = append(errs, fmt.Errorf("max_log_size must be between 1024 and %d bytes", maxLogSize))
	}
	if cfg.MaxBatchSize < 1 || cfg.MaxBatchSize > maxBatchSize {
		errs = append(errs, fmt.Errorf("max_batch_size must be between 1 and %d", maxBatchSize))
	}
	if cfg.FlushInterval <= 0 {
		errs = append(errs, errors.New("flush_interval must be positive"))
	}
	// A line of max_log_size must fit the budget alone. Capped: a max_log_size too large is reported above, not blamed on the budget.
	if cfg.MaxBufferedBytes < min(cfg.MaxLogSize, maxLogSize) {
		errs = append(errs, fmt.Errorf("max_buffered_bytes (%d) must be at least max_log_size (%d)", cfg.MaxBufferedBytes, cfg.MaxLogSize))
	}
	if _, err := selection.NewFilter(cfg.Include, cfg.Exclude); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, cfg.LifecycleEvents.validate(), cfg.LogFiles.validate(), records.CheckOperators("operators", cfg.Operators), cfg.validateFormats())
	errs = append(errs, cfg.validateMultiline())
	if cfg.MaxLinesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("max_lines_per_second must not be negative, got %v", cfg.MaxLinesPerSecond))
	}
	if cfg.MaxBytesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("max_bytes_per_second must not be negative, got %d", cfg.MaxBytesPerSecond))
	}
	_, labelErr := records.CompileLabelMapping(cfg.ContainerLabelsToAttributes)
	errs = append(errs, labelErr, validateAttributeMap("env_vars_to_attributes", cfg.EnvVarsToAttributes))
	return errors.Join(errs...)
}

// validateAttributeMap checks that every mapped name has a non-empty attribute name.
func validateAttributeMap(key string, m map[string]string) error {
	var errs []error
	for _, from := range slices.Sorted(maps.Keys(m)) {
		if m[from] == "" {
			errs = append(errs, fmt.Errorf("%s[%s] needs an attribute name", key, from))
		}
	}
	return errors.Join(errs...)
}

// validateEndpoint accepts the schemes the Docker client can dial.
func validateEndpoint(endpoint string) error {
	u, err := client.ParseHostURL(endpoint)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "unix", "tcp", "http", "https", "npipe":
		return nil
	}
	return fmt.Errorf("unsupported scheme %q", u.Scheme)
}

// validateAPIVersion accepts an empty value (negotiate) or MAJOR.MINOR no older than minAPIVersion.
func validateAPIVersion(v string) error {
	if v == "" {
		return nil
	}
	if !apiVersionPattern.MatchString(v) {
		return fmt.Errorf("api_version %q is not a version like \"1.44\"", v)
	}
	if versions.LessThan(v, minAPIVersion) {
		return fmt.Errorf("api_version %s must be at least %s (quote it, as in api_version: \"1.40\", so YAML does not read it as a number)", v, minAPIVersion)
	}
	return nil
}

// validateFormats checks each format's name and operators, naming the key: formats[json][0]: ...
func (cfg *Config) validateFormats() error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(cfg.Formats)) {
		key := fmt.Sprintf("formats[%s]", name)
		switch {
		case name == "":
			errs = append(errs, errors.New("formats: a format needs a name"))
		case len(cfg.Formats[name]) == 0:
			errs = append(errs, fmt.Errorf("%s: a format needs at least one operator", key))
		default:
			errs = append(errs, records.CheckOperators(key, cfg.Formats[name]))
		}
	}
	return errors.Join(errs...)
}
