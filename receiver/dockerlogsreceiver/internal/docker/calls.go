package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"
)

// ErrNotReadable means the container's logging driver cannot be read back (HTTP 501): retrying will not help.
var ErrNotReadable = errors.New("the container's logging driver does not support reading")

// ErrGone means the container is being removed or no longer exists (HTTP 404 or 409).
var ErrGone = errors.New("the container is gone or being removed")

// Ping checks that the daemon answers.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	_, err := c.api.Ping(ctx)
	return err
}

// ListRunning returns the containers that are running now and carry every label filter ("key=value").
func (c *Client) ListRunning(ctx context.Context, labels []string) ([]container.Summary, error) {
	return c.list(ctx, "list containers", container.ListOptions{Filters: withLabels(filters.NewArgs(), labels)})
}

// ListExited returns the containers that have exited and carry every label filter ("key=value").
func (c *Client) ListExited(ctx context.Context, labels []string) ([]container.Summary, error) {
	f := withLabels(filters.NewArgs(filters.Arg("status", "exited")), labels)
	return c.list(ctx, "list exited containers", container.ListOptions{All: true, Filters: f})
}

// ListAll returns every container the daemon has, running or not, whatever its labels.
func (c *Client) ListAll(ctx context.Context) ([]container.Summary, error) {
	return c.list(ctx, "list all containers", container.ListOptions{All: true})
}

// list lists the containers opts selects; what names the request in its error.
func (c *Client) list(ctx context.Context, what string, opts container.ListOptions) ([]container.Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	list, err := c.api.ContainerList(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return list, nil
}

// withLabels adds a label filter ("key=value") per entry of labels to f.
func withLabels(f filters.Args, labels []string) filters.Args {
	for _, l := range labels {
		f.Add("label", l)
	}
	return f
}

// Inspect returns what the daemon knows of one container; ErrGone when it no longer exists.
func (c *Client) Inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil {
		return info, fmt.Errorf("inspect container %s: %w", shortID(id), classify(err))
	}
	return info, nil
}

// LogsRequest says which part of a container's log to read.
type LogsRequest struct {
	// Since, when not zero, asks only for entries at or after this time in ns (the daemon's since is inclusive).
	Since int64
	// Tail, when positive, limits the history to the last Tail entries; 0 means all of it; -1 asks for none.
	Tail int
	// Follow keeps the stream open for new entries until the container stops or ctx ends.
	Follow bool
}

// Logs opens the container's log stream with stdout, stderr and timestamps; the caller closes it.
func (c *Client) Logs(ctx context.Context, id string, req LogsRequest) (io.ReadCloser, error) {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: req.Follow, Tail: "all"}
	if req.Since != 0 {
		opts.Since = time.Unix(0, req.Since).UTC().Format(time.RFC3339Nano)
	}
	switch {
	case req.Tail > 0 && req.Follow && !c.knownDocker(ctx):
		// Podman would skip the lines written while it reads the tail: everything since req.Since instead. A
		// daemon whose kind cannot be read yet is asked the same way, which costs Docker a longer read, not lines.
	case req.Tail > 0:
		opts.Tail = strconv.Itoa(req.Tail)
	case req.Tail < 0:
		opts.Tail = "0"
	}
	body, err := c.api.ContainerLogs(ctx, id, opts)
	if err != nil {
		return nil, fmt.Errorf("open log stream of container %s: %w", shortID(id), classify(err))
	}
	return body, nil
}

// ContainerEvents subscribes to the container events that change what is read, and to the extra actions, of
// containers carrying every label filter ("key=value"); since, when not zero, replays from then. Podman's actions
// are subscribed to as well: pass each message's Action through NormalizeAction.
func (c *Client) ContainerEvents(ctx context.Context, since time.Time, labels []string, extra ...events.Action) (<-chan events.Message, <-chan error) {
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)))
	for _, l := range labels {
		f.Add("label", l)
	}
	for _, a := range eventFilterActions {
		f.Add("event", string(a))
	}
	// Adding an action already listed is harmless: filter values are a set. The daemon matches health_status
	// as a prefix of "health_status: healthy".
	for _, a := range extra {
		f.Add("event", string(a))
	}
	opts := events.ListOptions{Filters: f}
	if !since.IsZero() {
		opts.Since = strconv.FormatInt(since.Unix(), 10)
	}
	return c.api.Events(ctx, opts)
}

// classify maps the daemon's answers that decide what the receiver does next onto ErrNotReadable and ErrGone.
func classify(err error) error {
	switch {
	case errdefs.IsNotImplemented(err):
		return fmt.Errorf("%w: %w", ErrNotReadable, err)
	case errdefs.IsNotFound(err), errdefs.IsConflict(err):
		return fmt.Errorf("%w: %w", ErrGone, err)
	default:
		return err
	}
}

// shortID keeps error messages readable.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// DaemonInfo is what the receiver reads of the daemon itself.
type DaemonInfo struct {
	// Name is the name of the host the daemon runs on.
	Name string
	// ID is the daemon's own identifier, made with its data directory.
	ID string
}

// Info returns the daemon's host name and ID; an ID other than the last one read makes IsPodman read the kind again.
func (c *Client) Info(ctx context.Context) (DaemonInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	info, err := c.api.Info(ctx)
	if err != nil {
		return DaemonInfo{}, fmt.Errorf("read daemon info: %w", err)
	}
	c.engine.seen(info.ID)
	return DaemonInfo{Name: info.Name, ID: info.ID}, nil
}
