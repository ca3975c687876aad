package podmantest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestServiceRunsLoggen starts a service, imports the loggen image through its Docker API, runs a container and
// reads its log back; at the end nothing of the service is left.
func TestServiceRunsLoggen(t *testing.T) {
	var dir string
	t.Run("service", func(t *testing.T) {
		s := Start(t)
		dir = s.dir
		cli := s.Client(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ver, err := cli.ServerVersion(ctx)
		require.NoError(t, err)
		var names []string
		for _, c := range ver.Components {
			names = append(names, c.Name)
		}
		assert.Contains(t, names, "Podman Engine", "the service is Podman's")

		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Cmd: []string{"-count", "10", "-streams", "both"}})
		assert.Zero(t, dockertest.WaitExit(t, cli, id, time.Minute))
		stdout, stderr := dockertest.Logs(t, cli, id)
		assert.Equal(t, 5, strings.Count(stdout, "\n"), "stdout:\n%s", stdout)
		assert.Equal(t, 5, strings.Count(stderr, "\n"), "stderr:\n%s", stderr)
	})
	if dir == "" {
		return
	}
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the service's directory %s is removed: %v", dir, err)
}
