package dockerlogsreceiver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/records"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
)

// TestSwarmServiceTasks runs a 2-replica service on a one-node swarm (a private daemon of the test's own, so that
// no other engine is turned into a swarm) and checks that both tasks' records carry the service as service.name,
// and each its own task name and ID, with the node's ID.
func TestSwarmServiceTasks(t *testing.T) {
	d := dockertest.StartDaemon(t, dockertest.DaemonOptions{})
	cli := d.Client(t)
	image := dockertest.LoggenImage(t, cli)
	docker := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "docker %v: %s", args, out)
		return string(out)
	}
	// A free port of its own: another swarm on this machine (a developer's engine) may hold 2377.
	addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	docker("swarm", "init", "--listen-addr", addr, "--advertise-addr", addr)
	service := fmt.Sprintf("swarmweb%d", time.Now().UnixNano()%1_000_000)
	// Host network: the test engines have no bridge, and no overlay is needed on one node.
	docker("service", "create", "--detach", "--name", service, "--replicas", "2", "--network", "host", image, "-rate", "20")
	t.Cleanup(func() {
		cmd := exec.Command("docker", "service", "rm", service)
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
		_ = cmd.Run()
	})

	cfg := testConfig()
	cfg.Endpoint = d.Host
	cfg.Include = selection.Rules{Labels: map[string]string{records.SwarmServiceKey: service}}
	sink := &collector{}
	r := startReceiver(t, cfg, sink, nil)
	tasks := map[string]map[string]any{} // container ID -> resource
	require.Eventually(t, func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		for _, rec := range sink.records {
			tasks[rec.containerID] = rec.resource
		}
		return len(tasks) >= 2
	}, 3*time.Minute, 50*time.Millisecond, "records of both tasks")
	require.NoError(t, r.Shutdown(context.Background()))

	taskNames, taskIDs := map[any]bool{}, map[any]bool{}
	for id, res := range tasks {
		assert.Equal(t, service, res["service.name"], "task %s", id[:12])
		assert.Equal(t, service, res["com.docker.swarm.service.name"])
		assert.NotEmpty(t, res["com.docker.swarm.node.id"])
		assert.NotEqual(t, service, res["container.name"], "the container's own name stays the task's")
		taskNames[res["com.docker.swarm.task.name"]] = true
		taskIDs[res["com.docker.swarm.task.id"]] = true
	}
	assert.Len(t, tasks, 2, "one service, two tasks")
	assert.Len(t, taskNames, 2, "two task names")
	assert.Len(t, taskIDs, 2, "two task IDs")
}

// freeTCPPort asks the kernel for a free TCP port on 127.0.0.1.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
