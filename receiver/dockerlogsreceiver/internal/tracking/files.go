package tracking

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"go.uber.org/zap"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/docker"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/jsonfile"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// logFiles knows which containers are read from their files.
type logFiles struct {
	cfg       LogFiles
	logger    *zap.Logger
	client    *docker.Client
	telemetry Telemetry

	mu   sync.Mutex
	byID map[string]jsonfile.Source
	// said holds the reasons for reading through the API that were logged: each is logged once.
	said map[string]bool
}

// consider decides, for a container being tracked, whether its log is read from its files; the API stays the
// way for every container whose files cannot be read.
func (r *logFiles) consider(info container.InspectResponse) {
	cfg := r.cfg
	if !cfg.Enabled || info.ContainerJSONBase == nil {
		return
	}
	id := info.ID
	path, reason := logFilePath(cfg.Directory, info)
	if reason != "" {
		r.sayOnce(r.logger, reason, "Reading a container's log through the Docker API instead of its files",
			zap.String("reason", reason), zap.String("container.id", id), zap.String("container.name", strings.TrimPrefix(info.Name, "/")))
		return
	}
	tty := info.Config != nil && info.Config.Tty
	name := strings.TrimPrefix(info.Name, "/")
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
	r.sayOnce(r.logger, "", "Reading json-file logs from their files", zap.String("directory", cfg.Directory))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]jsonfile.Source{}
	}
	r.byID[id] = src
}

// logFilePath returns where the collector reads a container's json-file log, or why it cannot.
func logFilePath(dir string, info container.InspectResponse) (path, reason string) {
	if info.HostConfig == nil || info.HostConfig.LogConfig.Type != "json-file" {
		return "", "the logging driver is not json-file"
	}
	// compress, in any spelling, is read too: the rotated files it compresses are read through compress/gzip.
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
func (r *logFiles) opener(id string) turn.Opener {
	r.mu.Lock()
	src, ok := r.byID[id]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	return func(ctx context.Context, req docker.LogsRequest) (io.ReadCloser, error) {
		body, err := jsonfile.Open(ctx, src, req)
		if err == nil || ctx.Err() != nil {
			return body, err
		}
		r.forget(id)
		r.logger.Warn("Reading a container's log file failed; reading it through the Docker API from now on",
			zap.String("container.id", id), zap.Error(err))
		return r.client.Logs(ctx, id, req)
	}
}

// count returns how many containers are read from their files.
func (r *logFiles) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// reportCorrupt counts and logs a stretch of a container's log file that held no entry and was passed over; each is
// reported once, and never its bytes: they are the container's output.
func (r *logFiles) reportCorrupt(id, name string, c jsonfile.Corrupt) {
	r.telemetry.EntrySkipped(context.Background())
	r.logger.Warn("A container log entry could not be parsed and was skipped; the lines after it are read",
		zap.String("container.id", id), zap.String("container.name", name),
		zap.String("file", c.File), zap.Int64("offset", c.Offset), zap.Int64("length", c.Length))
}

// forget drops a container.
func (r *logFiles) forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byID, id)
}

// sayOnce logs msg at info level the first time key is seen.
func (r *logFiles) sayOnce(logger *zap.Logger, key, msg string, fields ...zap.Field) {
	r.mu.Lock()
	if r.said[key] {
		r.mu.Unlock()
		return
	}
	if r.said == nil {
		r.said = map[string]bool{}
	}
	r.said[key] = true
	r.mu.Unlock()
	logger.Info(msg, fields...)
}
