package dockerlogsreceiver

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/streamreader"
)

// Attribute names of the records and their resource.
const (
	attrIOStream       = "log.iostream"
	attrContainerID    = "container.id"
	attrContainerName  = "container.name"
	attrImageName      = "container.image.name"
	attrImageTags      = "container.image.tags"
	attrRuntime        = "container.runtime"
	attrServiceName    = "service.name"
	attrServiceNS      = "service.namespace"
	composeServiceKey  = "com.docker.compose.service"
	composeProjectKey  = "com.docker.compose.project"
	scopeName          = "github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver"
	runtimeDockerValue = "docker"
)

// containerMeta is what the records of one container carry on their resource.
type containerMeta struct {
	ID     string
	Name   string
	Image  string
	Labels map[string]string
	// Extra holds the attributes mapped from labels and environment variables.
	Extra map[string]string
}

// setExtra adds one mapped attribute.
func (m *containerMeta) setExtra(attr, value string) {
	if m.Extra == nil {
		m.Extra = map[string]string{}
	}
	m.Extra[attr] = value
}

// fillResource writes the container's resource attributes.
func (m containerMeta) fillResource(res pcommon.Resource) {
	attrs := res.Attributes()
	attrs.EnsureCapacity(7 + len(m.Extra))
	// Mapped attributes first, so that the standard ones below win a clash of names.
	for k, v := range m.Extra {
		attrs.PutStr(k, v)
	}
	attrs.PutStr(attrContainerID, m.ID)
	attrs.PutStr(attrContainerName, m.Name)
	name, tag := parseImageRef(m.Image)
	attrs.PutStr(attrImageName, name)
	tags := attrs.PutEmptySlice(attrImageTags)
	if tag != "" {
		tags.AppendEmpty().SetStr(tag)
	}
	attrs.PutStr(attrRuntime, runtimeDockerValue)
	service := m.Labels[composeServiceKey]
	if service == "" {
		service = m.Name
	}
	attrs.PutStr(attrServiceName, service)
	if ns := m.Labels[composeProjectKey]; ns != "" {
		attrs.PutStr(attrServiceNS, ns)
	}
}

// buildLogs turns delivered lines into one ResourceLogs of the container.
func buildLogs(meta containerMeta, version string, lines []streamreader.Line, observed time.Time) plog.Logs {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	meta.fillResource(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scopeName)
	sl.Scope().SetVersion(version)
	records := sl.LogRecords()
	records.EnsureCapacity(len(lines))
	obs := pcommon.NewTimestampFromTime(observed)
	for _, l := range lines {
		lr := records.AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(l.Timestamp))
		lr.SetObservedTimestamp(obs)
		lr.Body().SetStr(l.Body)
		lr.Attributes().PutStr(attrIOStream, l.Stream.String())
	}
	return logs
}

// parseImageRef splits an image reference such as registry:5000/org/app:1.2@sha256:abc into name and tag.
func parseImageRef(ref string) (name, tag string) {
	name, digest, hasDigest := strings.Cut(ref, "@")
	if strings.HasPrefix(ref, "sha256:") {
		// An image ID, not a reference: nothing to split.
		return ref, ""
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		return name[:i], name[i+1:]
	}
	if hasDigest && digest != "" {
		return name, ""
	}
	return name, "latest"
}
