package records

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/metadata"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/turn"
)

// Attribute names and values the records and their resource carry besides those metadata.yaml declares.
const (
	AttrIOStream       = "log.iostream"
	ComposeServiceKey  = "com.docker.compose.service"
	ComposeProjectKey  = "com.docker.compose.project"
	SwarmServiceKey    = "com.docker.swarm.service.name"
	swarmTaskNameKey   = "com.docker.swarm.task.name"
	swarmTaskIDKey     = "com.docker.swarm.task.id"
	swarmNodeIDKey     = "com.docker.swarm.node.id"
	stackNamespaceKey  = "com.docker.stack.namespace"
	runtimeDockerValue = "docker"
)

// Meta is what the records of one container carry on their resource.
type Meta struct {
	ID     string
	Name   string
	Image  string
	Labels map[string]string
	// Extra holds the attributes mapped from labels and environment variables.
	Extra map[string]string
}

// SetExtra adds one mapped attribute.
func (m *Meta) SetExtra(attr, value string) {
	if m.Extra == nil {
		m.Extra = map[string]string{}
	}
	m.Extra[attr] = value
}

// Daemon is what the records carry of the daemon that runs their container; empty fields are left out.
type Daemon struct {
	HostName string
	EngineID string
}

// NewResource builds the resource of a container's records: the attributes metadata.yaml declares, each
// as resource_attributes switches it, then the mapped labels and variables under the names the declared ones
// left unset (a declared attribute wins a clash of names; one switched off leaves its name to a mapping).
func NewResource(rac metadata.ResourceAttributesConfig, daemon Daemon, m Meta) pcommon.Resource {
	rb := metadata.NewResourceBuilder(rac)
	rb.SetContainerID(m.ID)
	rb.SetContainerName(m.Name)
	name, tag := parseImageRef(m.Image)
	rb.SetContainerImageName(name)
	tags := []any{}
	if tag != "" {
		tags = append(tags, tag)
	}
	rb.SetContainerImageTags(tags)
	rb.SetContainerRuntime(runtimeDockerValue)
	// A Swarm task's container name changes on every reschedule (web.1.k3j...): its service is the lasting name.
	rb.SetServiceName(firstLabel(m.Labels, m.Name, ComposeServiceKey, SwarmServiceKey))
	if ns := firstLabel(m.Labels, "", ComposeProjectKey, stackNamespaceKey); ns != "" {
		rb.SetServiceNamespace(ns)
	}
	setLabel(m.Labels, SwarmServiceKey, rb.SetComDockerSwarmServiceName)
	setLabel(m.Labels, swarmTaskNameKey, rb.SetComDockerSwarmTaskName)
	setLabel(m.Labels, swarmTaskIDKey, rb.SetComDockerSwarmTaskID)
	setLabel(m.Labels, swarmNodeIDKey, rb.SetComDockerSwarmNodeID)
	setLabel(m.Labels, stackNamespaceKey, rb.SetComDockerStackNamespace)
	if daemon.HostName != "" {
		rb.SetHostName(daemon.HostName)
	}
	if daemon.EngineID != "" {
		rb.SetDockerEngineID(daemon.EngineID)
	}
	res := rb.Emit()
	attrs := res.Attributes()
	for k, v := range m.Extra {
		if _, declared := attrs.Get(k); !declared {
			attrs.PutStr(k, v)
		}
	}
	return res
}

// setLabel sets an attribute to a label's value when the label is set and not empty.
func setLabel(labels map[string]string, key string, set func(string)) {
	if v := labels[key]; v != "" {
		set(v)
	}
}

// firstLabel returns the value of the first of keys that is set and not empty, else def.
func firstLabel(labels map[string]string, def string, keys ...string) string {
	for _, k := range keys {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return def
}

// Build turns delivered lines into one ResourceLogs with the container's resource, which it takes over.
func Build(resource pcommon.Resource, version string, lines []turn.Line, observed time.Time) plog.Logs {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	resource.MoveTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	sl.Scope().SetVersion(version)
	records := sl.LogRecords()
	records.EnsureCapacity(len(lines))
	obs := pcommon.NewTimestampFromTime(observed)
	for _, l := range lines {
		lr := records.AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(l.Timestamp))
		lr.SetObservedTimestamp(obs)
		lr.Body().SetStr(l.Body)
		lr.Attributes().PutStr(AttrIOStream, l.Stream.String())
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
