package dockerlogsreceiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/jsonfile"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
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

// logFiles knows which containers are read from their files.
type logFiles struct {
	mu   sync.Mutex
	byID map[string]jsonfile.Source
	// said holds the reasons for reading through the API that were logged: each is logged once.
	said map[string]bool
}

// consider decides, for a container being tracked, whether its log is read from its files; the API stays the
// way for every container whose files cannot be read.
func (r *logsReceiver) considerFiles(info container.InspectResponse) {
	cfg := r.cfg.LogFiles
	if !cfg.Enabled || info.ContainerJSONBase == nil {
		return
	}
	id := info.ID
	path, reason := logFilePath(cfg.dir(), info)
	if reason != "" {
		r.files.sayOnce(r.settings.Logger, reason, "Reading a container's log through the Docker API instead of its files",
			zap.String("reason", reason), zap.String("container.id", id), zap.String("container.name", r.metaOf(info).Name))
		return
	}
	tty := info.Config != nil && info.Config.Tty
	name := r.metaOf(info).Name
	src := jsonfile.Source{Path: path, TTY: tty, Poll: cfg.PollInterval, Running: func(ctx context.Context) (bool, error) {
		c, err := r.client.Inspect(ctx, id)
		if errors.Is(err, docker.ErrGone) {
			return false, nil
		}
		return err == nil && c.State != nil && c.State.Running, err
	}}
	// With max-file 1 the file is truncated in place at max-size; knowing it tells a file read whole from a loss.
	src.MaxSize = rotatingFileSize(info.HostConfig)
	src.Corrupt = jsonfile.NewCorruptions(func(c jsonfile.Corrupt) { r.reportCorrupt(id, name, c) })
	r.files.sayOnce(r.settings.Logger, "", "Reading json-file logs from their files", zap.String("directory", cfg.dir()))
	r.files.mu.Lock()
	defer r.files.mu.Unlock()
	if r.files.byID == nil {
		r.files.byID = map[string]jsonfile.Source{}
	}
	r.files.byID[id] = src
}

// logFilePath returns where the collector reads a container's json-file log, or why it cannot.
func logFilePath(dir string, info container.InspectResponse) (path, reason string) {
	if info.HostConfig == nil || info.HostConfig.LogConfig.Type != "json-file" {
		return "", "the logging driver is not json-file"
	}
	if v, ok := info.HostConfig.LogConfig.Config["compress"]; ok {
		// The driver accepts what strconv.ParseBool does; a value it does not is not taken for false.
		if on, err := strconv.ParseBool(v); on || err != nil {
			return "", fmt.Sprintf("json-file compresses its rotated files (compress=%s), which the Docker API reads", v)
		}
	}
	base := filepath.Base(info.LogPath)
	if info.LogPath == "" || base != info.ID+"-json.log" {
		return "", "the daemon reports no json-file log path"
	}
	// The daemon's path is the host's; the directory is where the collector sees the same files.
	path = filepath.Join(dir, info.ID, base)
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Sprintf("the log file cannot be opened under log_files.directory: %v", err)
	}
	f.Close()
	return path, ""
}

// opener returns the opener of a container read from its files, or nil. A file that fails to open sends the
// container back to the API, for good.
func (r *logsReceiver) fileOpener(id string) turn.Opener {
	r.files.mu.Lock()
	src, ok := r.files.byID[id]
	r.files.mu.Unlock()
	if !ok {
		return nil
	}
	return func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) {
		body, err := jsonfile.Open(ctx, src, req)
		if err == nil || ctx.Err() != nil {
			return body, err
		}
		r.files.forget(id)
		r.settings.Logger.Warn("Reading a container's log file failed; reading it through the Docker API from now on",
			zap.String("container.id", id), zap.Error(err))
		return r.client.Logs(ctx, id, req)
	}
}

// count returns how many containers are read from their files.
func (lf *logFiles) count() int {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	return len(lf.byID)
}

// reportCorrupt counts and logs a stretch of a container's log file that held no entry and was passed over; each is
// reported once, and never its bytes: they are the container's output.
func (r *logsReceiver) reportCorrupt(id, name string, c jsonfile.Corrupt) {
	r.telemetry.tb.DockerLogsEntriesSkipped.Add(context.Background(), 1, r.telemetry.receiver)
	r.settings.Logger.Warn("A container log entry could not be parsed and was skipped; the lines after it are read",
		zap.String("container.id", id), zap.String("container.name", name),
		zap.String("file", c.File), zap.Int64("offset", c.Offset), zap.Int64("length", c.Length))
}

// forget drops a container.
func (lf *logFiles) forget(id string) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	delete(lf.byID, id)
}

// sayOnce logs msg at info level the first time key is seen.
func (lf *logFiles) sayOnce(logger *zap.Logger, key, msg string, fields ...zap.Field) {
	lf.mu.Lock()
	if lf.said[key] {
		lf.mu.Unlock()
		return
	}
	if lf.said == nil {
		lf.said = map[string]bool{}
	}
	lf.said[key] = true
	lf.mu.Unlock()
	logger.Info(msg, fields...)
}
