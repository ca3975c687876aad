package tracking

// Labels an application team sets on its containers to steer the receiver.
const (
	// enabledLabel set to false leaves a container out whatever the rules; with include_by_label_only, only
	// containers with it set to true are read. Any value strconv.ParseBool accepts.
	enabledLabel = "io.otelcol.docker_logs.enabled"
	// maxLinesLabel and maxBytesLabel set a container's read limit, in place of max_lines_per_second and
	// max_bytes_per_second.
	maxLinesLabel = "io.otelcol.docker_logs.max_lines_per_second"
	maxBytesLabel = "io.otelcol.docker_logs.max_bytes_per_second"
)
