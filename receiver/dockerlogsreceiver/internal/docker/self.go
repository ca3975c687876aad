package docker

import (
	"os"
	"regexp"
	"strings"
)

var (
	// A container ID in a cgroup path: /docker/<id>, docker-<id>.scope, /kubepods/.../<id>, and Podman's
	// /libpod_parent/libpod-<id> (cgroupfs), libpod-<id>.scope (systemd) and libpod-<id>.scope/container (the
	// cgroup Podman nests a container's processes in when it runs systemd).
	cgroupIDPattern = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/container)?$`)
	// The files Docker bind-mounts into every container live in /containers/<id>/ on the host.
	mountinfoIDPattern = regexp.MustCompile(`/containers/([0-9a-f]{64})/(?:hostname|hosts|resolv\.conf)\s`)
	// Podman's live in <driver>-containers/<id>/userdata/ (overlay-containers, vfs-containers), with .containerenv.
	libpodMountinfoIDPattern = regexp.MustCompile(`-containers/([0-9a-f]{64})/userdata/(?:hostname|hosts|resolv\.conf|\.containerenv)\s`)
)

// OwnContainerID returns the ID of the container this process runs in, or "" when it runs outside one.
//
// The hostname is not used: users set it freely and host networking gives the host's. Under cgroup v1
// the cgroup path names the container; under cgroup v2 it is hidden, but the mounts of the container's
// hostname, hosts and resolv.conf files still name it. Both for Docker and for Podman, rootful or rootless.
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
	for _, p := range []*regexp.Regexp{mountinfoIDPattern, libpodMountinfoIDPattern} {
		if m := p.FindStringSubmatch(mountinfo); m != nil {
			return m[1]
		}
	}
	return ""
}
