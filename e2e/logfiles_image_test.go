package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestImageReadsLogFilesWhenMounted runs the image as the deployments do, with the daemon's containers directory
// mounted read-only and group 0 added (the directory is 0710 root:root), and checks through the collector's own
// gauge that the containers are read from their files, and that every line reaches the store once; then without
// the mount, where the same image reads through the API.
func TestImageReadsLogFilesWhenMounted(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	runMake(t, "victoria-logs")
	buildImage(t, cli)
	vl := startVictoriaLogs(t)
	gate := startStoreGate(t, vl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	info, err := cli.Info(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	containersDir := filepath.Join(info.DockerRootDir, "containers")
	for _, tc := range []struct {
		name    string
		mounted bool
	}{{"files", true}, {"api", false}} {
		t.Run(tc.name, func(t *testing.T) {
			spec := collectorSpec{name: runName(t) + "collector", network: "host", env: []string{"LOKI_ENDPOINT=" + gate.URL}}
			if tc.mounted {
				spec.binds = []string{containersDir + ":/var/lib/docker/containers:ro"}
				spec.groups = []string{"0"}
			}
			id := startCollector(t, cli, spec)
			awaitReady(t, cli, id)
			w := startWorkload(t, cli, workloadSpec{containers: 2, lines: 1000, rate: 500})
			// The image listens on the host's localhost:8888 (host network); the gauge counts tracked containers
			// read from their files, which the workload's stay until they are removed.
			eventually(t, 2*time.Minute, 250*time.Millisecond, "the gauge of containers read from files", func() error {
				samples, err := scrape("http://127.0.0.1:8888/metrics")
				if err != nil {
					return fmt.Errorf("%w: %v", errNotYet, err)
				}
				n, found := metricSum(samples, "otelcol_docker_logs_containers_on_files", nil)
				switch {
				case !found:
					return fmt.Errorf("%w: no otelcol_docker_logs_containers_on_files", errNotYet)
				case tc.mounted && n < 2:
					return fmt.Errorf("%w: %v containers read from files, want the workload's 2", errNotYet, n)
				case !tc.mounted && n != 0:
					return fmt.Errorf("%v containers read from files without the mount", n)
				}
				return nil
			})
			w.waitExit(t, cli)
			w.waitStored(t, vl, w.total(), 2*time.Minute)
			if tl := w.settle(t, vl); tl.lost() > 0 || tl.dups > 0 {
				t.Fatalf("store: %v", tl)
			}
			_, stderr := dockertest.Logs(t, cli, id)
			fallback := strings.Contains(stderr, "cannot be opened under log_files.directory")
			if fallback == tc.mounted {
				t.Errorf("the collector's log says the files cannot be opened: %v, with the directory mounted: %v\n%s", fallback, tc.mounted, tail(stderr, 4096))
			}
			t.Logf("%d lines in the store once each, read from %s", w.total(), tc.name)
		})
	}
}
