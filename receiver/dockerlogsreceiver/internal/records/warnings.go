package records

import (
	"sync"

	"go.uber.org/zap"
)

// FormatLabel names the entry of formats whose operators parse the container's lines.
const FormatLabel = "io.otelcol.docker_logs.format"

// LabelWarnings says each invalid label value once per container, so a reconcile does not repeat it.
type LabelWarnings struct {
	mu   sync.Mutex
	said map[[3]string]bool
}

// Once logs msg at warning level the first time this container gives this label this value.
func (w *LabelWarnings) Once(logger *zap.Logger, m Meta, label, value, msg string) {
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

// Forget drops what was said of a container that is gone.
func (w *LabelWarnings) Forget(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for key := range w.said {
		if key[0] == id {
			delete(w.said, key)
		}
	}
}
