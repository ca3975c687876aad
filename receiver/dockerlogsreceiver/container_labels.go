package dockerlogsreceiver

import (
	"strconv"
	"sync"

	"go.uber.org/zap"
)

// Labels an application team sets on its containers to steer the receiver.
const (
	// enabledLabel set to false leaves a container out whatever the rules; with include_by_label_only, only
	// containers with it set to true are read. Any value strconv.ParseBool accepts.
	enabledLabel = "io.otelcol.docker_logs.enabled"
	// formatLabel names the entry of formats whose operators parse the container's lines.
	formatLabel = "io.otelcol.docker_logs.format"
)

// labelOptIn reads a container's enabled label: set says it is there with a valid value.
func labelOptIn(labels map[string]string) (enabled, set bool, bad string) {
	v, ok := labels[enabledLabel]
	if !ok {
		return false, false, ""
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, false, v
	}
	return b, true, ""
}

// labelWarnings says each invalid label value once per container, so a reconcile does not repeat it.
type labelWarnings struct {
	mu   sync.Mutex
	said map[[3]string]bool
}

// once logs msg at warning level the first time this container gives this label this value.
func (w *labelWarnings) once(logger *zap.Logger, m containerMeta, label, value, msg string) {
	key := [3]string{m.ID, label, value}
	w.mu.Lock()
	if w.said[key] {
		w.mu.Unlock()
		return
	}
	if w.said == nil {
		w.said = map[[3]string]bool{}
	}
	w.said[key] = true
	w.mu.Unlock()
	logger.Warn(msg, zap.String("container.id", m.ID), zap.String("container.name", m.Name),
		zap.String("label", label), zap.String("value", value))
}

// forget drops what was said of a container that is gone.
func (w *labelWarnings) forget(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key := range w.said {
		if key[0] == id {
			delete(w.said, key)
		}
	}
}
