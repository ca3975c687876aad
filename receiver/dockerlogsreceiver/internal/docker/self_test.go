package docker

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

const testID = "3f1c4b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"

func TestContainerIDFromProc(t *testing.T) {
	for _, tc := range []struct {
		name, cgroup, mountinfo, want string
	}{
		{"cgroup v1 docker", "12:memory:/docker/" + testID + "\n11:cpu:/docker/" + testID + "\n", "", testID},
		{"cgroup v1 systemd driver", "1:name=systemd:/system.slice/docker-" + testID + ".scope\n", "", testID},
		{"kubernetes", "5:cpuset:/kubepods/besteffort/pod1234/" + testID + "\n", "", testID},
		{"cgroup v2 with mountinfo", "0::/\n",
			"616 600 254:1 /var/lib/docker/containers/" + testID + "/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw\n", testID},
		{"host under cgroup v2", "0::/user.slice/user-0.slice/session-1.scope\n",
			"22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n", ""},
		{"overlay layer ids are not container ids", "0::/\n",
			"600 1 0:50 / / rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/" + testID + "/diff\n", ""},
		// Podman: cgroup and mountinfo lines as seen in a container of podman 4.3.1 (cgroupfs, cgroup v1, vfs).
		{"podman cgroupfs", "1:cpu:/libpod_parent/libpod-" + testID + "\n0::/libpod_parent/libpod-" + testID + "\n", "", testID},
		{"podman systemd", "0::/machine.slice/libpod-" + testID + ".scope\n", "", testID},
		{"podman systemd in the container", "0::/machine.slice/libpod-" + testID + ".scope/container\n", "", testID},
		{"podman rootless", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + testID + ".scope\n", "", testID},
		{"podman pod", "0::/machine.slice/machine-libpod_pod_0123.slice/libpod-" + testID + ".scope\n", "", testID},
		{"podman cgroup v2 with mountinfo", "0::/\n",
			"2911 2905 254:0 /var/lib/containers/storage/overlay-containers/" + testID + "/userdata/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw\n", testID},
		{"podman vfs, .containerenv only", "0::/\n",
			"2914 2905 254:0 /tmp/pm/run/vfs-containers/" + testID + "/userdata/.containerenv /run/.containerenv rw,relatime - ext4 /dev/vda rw\n", testID},
		{"podman rootless hostname", "0::/\n",
			"700 690 0:40 /home/u/.local/share/containers/storage/overlay-containers/" + testID + "/userdata/hostname /etc/hostname rw - ext4 /dev/vda rw\n", testID},
		{"podman storage layers are not container ids", "0::/\n",
			"600 1 0:50 / / rw - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/" + testID + "/diff\n", ""},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, containerIDFromProc(tc.cgroup, tc.mountinfo))
		})
	}
}

func TestOwnContainerIDOnThisMachine(t *testing.T) {
	// The tests run on a host, not in a container of the engine they test against; any answer must be a full ID.
	if id := OwnContainerID(); id != "" {
		assert.Len(t, id, 64)
	}
}
