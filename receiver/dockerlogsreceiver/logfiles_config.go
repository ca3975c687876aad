package dockerlogsreceiver

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// DefaultLogFilesDirectory is where the daemon keeps its containers' directories (<data-root>/containers).
const DefaultLogFilesDirectory = "/var/lib/docker/containers"

// LogFilesConfig lets the receiver read json-file logs from the files instead of through the API.
type LogFilesConfig struct {
	// Enabled reads a container's log from its files when they can be; off by default.
	Enabled bool `mapstructure:"enabled"`
	// Directory is the daemon's <data-root>/containers as the collector sees it (mounted read-only); empty means
	// DefaultLogFilesDirectory. A container's files are <directory>/<id>/<id>-json.log*.
	Directory string `mapstructure:"directory"`
	// PollInterval is how often a followed file with nothing new is looked at again; 0 means 100ms.
	PollInterval time.Duration `mapstructure:"poll_interval"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// validate names the key of every problem.
func (c LogFilesConfig) validate() error {
	var errs []error
	if c.Directory != "" && !filepath.IsAbs(c.Directory) {
		errs = append(errs, fmt.Errorf("log_files.directory %q must be an absolute path", c.Directory))
	}
	if c.PollInterval < 0 || (c.PollInterval > 0 && c.PollInterval < time.Millisecond) || c.PollInterval > 10*time.Second {
		errs = append(errs, errors.New("log_files.poll_interval must be between 1ms and 10s"))
	}
	return errors.Join(errs...)
}

// dir returns the directory the files are read from.
func (c LogFilesConfig) dir() string {
	if c.Directory == "" {
		return DefaultLogFilesDirectory
	}
	return c.Directory
}
