package docker

import (
	"os"
	"regexp"
	"strings"
)

var (
	// A container ID in a cgroup path: /docker/<id>, docker-<id>.scope, /kubepods/.../<id>.
	cgroupIDPattern = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$`)
	// The files Docker bind-mounts into every container live in /containers/<id>/ on the host.
	mountinfoIDPattern = regexp.MustCompile(`/containers/([0-9a-f]{64})/(?:hostname|hosts|resolv\.conf)\s`)
)

// OwnContainerID returns the ID of the container this process runs in, or "" when it runs outside one.
//
// The hostname is not used: users set it freely and host networking gives the host's. Under cgroup v1
// the cgroup path names the container; under cgroup v2 it is hidden, but the mounts of the container's
// hostname, hosts and resolv.conf files still name it.
func OwnContainerID() string {
	cgroup, _ := os.ReadFile("/proc/self/cgroup")
	mountinfo, _ := os.ReadFile("/proc/self/mountinfo")
	return containerIDFromProc(string(cgroup), string(mountinfo))
}

// containerIDFromProc finds the container ID in the contents of /proc/self/cgroup and /proc/self/mountinfo.
func containerIDFromProc(cgroup, mountinfo string) string {
	for _, line := range strings.Split(cgroup, "\n") {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if m := cgroupIDPattern.FindStringSubmatch(strings.TrimSpace(parts[2])); m != nil {
			return m[1]
		}
	}
	if m := mountinfoIDPattern.FindStringSubmatch(mountinfo); m != nil {
		return m[1]
	}
	return ""
}
