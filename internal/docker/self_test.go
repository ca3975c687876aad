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
