package dockerlogsreceiver

import (
	"strconv"
)

// Labels an application team sets on its containers to steer the receiver.
const (
	// enabledLabel set to false leaves a container out whatever the rules; with include_by_label_only, only
	// containers with it set to true are read. Any value strconv.ParseBool accepts.
	enabledLabel = "io.otelcol.docker_logs.enabled"
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
