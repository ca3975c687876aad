package dockerlogsreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
)

// loadConfig reads one receiver's section of testdata/config.yaml over the defaults.
func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	return loadConfigFrom(t, "config.yaml", name)
}

// loadConfigFrom reads one receiver's section of a file of testdata over the defaults.
func loadConfigFrom(t *testing.T, file, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", file))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

func TestDefaultConfig(t *testing.T) {
	cfg := loadConfig(t, "")
	assert.Equal(t, &Config{
		Endpoint:             "unix:///var/run/docker.sock",
		Timeout:              10 * time.Second,
		MaxConcurrentStreams: 50,
		RotationInterval:     5 * time.Minute,
		TimeSlice:            10 * time.Second,
		StartAt:              "end",
		ReconcileInterval:    time.Minute,
		MaxLogSize:           1 << 20,
		MaxBatchSize:         1000,
		FlushInterval:        time.Second,
		MaxBufferedBytes:     64 << 20,
		ExcludeOwnContainer:  true,
		ResourceAttributes:   metadata.DefaultResourceAttributesConfig(),
	}, cfg)
	require.NoError(t, confmap.Validate(cfg))
}

func TestConfigEveryKey(t *testing.T) {
	cfg := loadConfig(t, "all_keys")
	wantAttrs := metadata.DefaultResourceAttributesConfig()
	wantAttrs.ContainerID.Enabled = false
	wantAttrs.DockerEngineID.Enabled = false
	wantAttrs.HostName.Enabled = false
	// The generated config remembers which switches the YAML set; only the switches themselves are compared.
	assert.Empty(t, cmp.Diff(wantAttrs, cfg.ResourceAttributes, cmpopts.IgnoreUnexported(metadata.ResourceAttributeConfig{})),
		"resource_attributes")
	storage := component.MustNewIDWithName("file_storage", "positions")
	tls := configtls.NewDefaultClientConfig()
	tls.CAFile, tls.CertFile, tls.KeyFile = "/etc/docker/ca.pem", "/etc/docker/cert.pem", "/etc/docker/key.pem"
	assert.Equal(t, &Config{
		Endpoint:             "tcp://docker.example:2376",
		APIVersion:           "1.44",
		Timeout:              3 * time.Second,
		TLS:                  &tls,
		MaxConcurrentStreams: 8,
		RotationInterval:     time.Minute,
		TimeSlice:            2 * time.Second,
		StartAt:              "beginning",
		ReconcileInterval:    30 * time.Second,
		MaxLogSize:           65536,
		MaxBatchSize:         100,
		FlushInterval:        50 * time.Millisecond,
		MaxBufferedBytes:     8 << 20,
		ExcludeOwnContainer:  false,
		Include: selection.Rules{Names: []string{"shop-*"}, Images: []string{`/^registry:5000\//`},
			Labels: map[string]string{"team": "payments"}},
		Exclude: selection.Rules{Names: []string{"!shop-web-*"}, Labels: map[string]string{"env": "dev"}},
		ContainerLabelsToAttributes: map[string]string{"com.example.team": "team", "org.opencontainers.image.*": "image.*",
			"com.example.billing.*": ""},
		EnvVarsToAttributes: map[string]string{"APP_VERSION": "app.version"},
		LifecycleEvents:     LifecycleEventsConfig{Enabled: true, Events: []string{"start", "die", "oom"}},
		ResourceAttributes:  cfg.ResourceAttributes, // compared above
		Storage:             &storage,
	}, cfg)
	require.NoError(t, confmap.Validate(cfg))
}

func TestConfigUnquotedAPIVersionIsRefusedByKey(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub("docker_logs/float_api_version")
	require.NoError(t, err)
	err = sub.Unmarshal(NewFactory().CreateDefaultConfig())
	assert.ErrorContains(t, err, `'api_version' expected type 'string', got unconvertible type 'float64'`)
}

func TestConfigUnknownResourceAttributeIsRefusedByKey(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub("docker_logs/unknown_resource_attribute")
	require.NoError(t, err)
	err = sub.Unmarshal(NewFactory().CreateDefaultConfig())
	assert.ErrorContains(t, err, "'resource_attributes' has invalid keys: container.ip")
}

func TestConfigValidationNamesEveryKey(t *testing.T) {
	cfg := loadConfig(t, "invalid")
	err := cfg.Validate()
	require.Error(t, err)
	assert.Equal(t, `endpoint "not a url" is not a valid Docker daemon address (unix:///path or tcp://host:port): unable to parse docker host `+"`not a url`"+`
api_version "v1" is not a version like "1.44"
timeout must be positive
max_concurrent_streams must be at least 1
rotation_interval must be at least 100ms
time_slice must be at least 100ms
start_at "middle" is not one of "end" or "beginning"
reconcile_interval must be positive
max_log_size must be between 1024 and 67108864 bytes
max_batch_size must be between 1 and 100000
flush_interval must be positive
max_buffered_bytes (0) must be at least max_log_size (10)
include.names[0]: invalid regular expression "/[/": error parsing regexp: missing closing ]: `+"`[`"+`
exclude.images[0]: invalid glob "app[:1": unexpected end of input
lifecycle_events.events[1]: unknown event "stop" (want one of start, restart, health_status, oom, die, destroy)
container_labels_to_attributes[com.example.*]: attribute name "team" must have a "*", standing for what the key's "*" matched, or be empty for the label's own key
env_vars_to_attributes[SECRET] needs an attribute name`, err.Error())
}

func TestConfigEachValidationError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"empty endpoint", func(c *Config) { c.Endpoint = "" }, "endpoint must be specified"},
		{"unknown scheme", func(c *Config) { c.Endpoint = "ftp://host" }, `endpoint "ftp://host" is not a valid Docker daemon address (unix:///path or tcp://host:port): unsupported scheme "ftp"`},
		{"old api", func(c *Config) { c.APIVersion = "1.12" }, `api_version 1.12 must be at least 1.24 (quote it, as in api_version: "1.40", so YAML does not read it as a number)`},
		{"streams", func(c *Config) { c.MaxConcurrentStreams = -3 }, "max_concurrent_streams must be at least 1"},
		{"rotation", func(c *Config) { c.RotationInterval = 0 }, "rotation_interval must be at least 100ms"},
		{"rotation too short to open a stream", func(c *Config) { c.RotationInterval = time.Microsecond }, "rotation_interval must be at least 100ms"},
		{"slice", func(c *Config) { c.TimeSlice = 10 * time.Millisecond }, "time_slice must be at least 100ms"},
		{"batch too large", func(c *Config) { c.MaxBatchSize = 1 << 30 }, "max_batch_size must be between 1 and 100000"},
		{"log size too large", func(c *Config) { c.MaxLogSize = 1 << 30 }, "max_log_size must be between 1024 and 67108864 bytes"},
		{"buffer smaller than a line", func(c *Config) { c.MaxBufferedBytes = 1000 }, "max_buffered_bytes (1000) must be at least max_log_size (1048576)"},
		{"buffer smaller than a larger line", func(c *Config) { c.MaxLogSize, c.MaxBufferedBytes = 4<<20, 2<<20 },
			"max_buffered_bytes (2097152) must be at least max_log_size (4194304)"},
		{"start_at", func(c *Config) { c.StartAt = "" }, `start_at "" is not one of "end" or "beginning"`},
		{"lifecycle event", func(c *Config) { c.LifecycleEvents.Events = []string{"health_status: healthy"} },
			`lifecycle_events.events[0]: unknown event "health_status: healthy" (want one of start, restart, health_status, oom, die, destroy)`},
		{"tls", func(c *Config) {
			c.Endpoint = "tcp://127.0.0.1:2376"
			c.TLS = &configtls.ClientConfig{Config: configtls.Config{MinVersion: "1.9"}}
		}, `tls: invalid TLS min_version: unsupported TLS version: "1.9"`},
		{"tls on a unix socket", func(c *Config) {
			c.TLS = &configtls.ClientConfig{Config: configtls.Config{CAFile: "/etc/docker/ca.pem"}}
		}, `tls is set, but endpoint "unix:///var/run/docker.sock" is a local socket: tls applies only to a tcp:// endpoint`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tc.mutate(cfg)
			assert.EqualError(t, cfg.Validate(), tc.want)
		})
	}
	for _, ok := range []string{"unix:///var/run/docker.sock", "tcp://127.0.0.1:2375", "http://localhost:2375", "unix:///tmp/d.sock"} {
		cfg := createDefaultConfig().(*Config)
		cfg.Endpoint = ok
		assert.NoError(t, cfg.Validate(), ok)
	}
	for _, ok := range []string{"1.24", "1.41", "1.44", "1.54", "2.0"} {
		cfg := createDefaultConfig().(*Config)
		cfg.APIVersion = ok
		assert.NoError(t, cfg.Validate(), ok)
	}
	cfg := createDefaultConfig().(*Config)
	cfg.MaxBufferedBytes = cfg.MaxLogSize
	assert.NoError(t, cfg.Validate(), "room for exactly one line of max_log_size")
}
