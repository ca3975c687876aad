package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestImageShippedConfig runs the image exactly as the README says, with the configuration baked into it
// (collector-config.yaml) and no Loki: a new container's lines must show on the collector's console, the
// collector must keep running while its Loki exporter fails, and it must not read its own console back
// (with the debug exporter printing every record, that would feed on itself).
func TestImageShippedConfig(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	buildImage(t, cli)

	prefix := runName(t)
	collectorName := prefix + "shipped"
	// No network: the container reaches the engine through the mounted socket, and nothing answers at Loki's address.
	id := startCollector(t, cli, collectorSpec{name: collectorName, network: "none"})
	eventually(t, time.Minute, 250*time.Millisecond, "collector start-up", func() error {
		requireRunning(t, cli, id)
		_, stderr := dockertest.Logs(t, cli, id)
		if !strings.Contains(stderr, "Everything is ready") {
			return fmt.Errorf("%w: no \"Everything is ready\" in the collector's log", errNotYet)
		}
		return nil
	})
	for _, uid := range processUIDs(t, cli, id) {
		if uid != "10001" {
			t.Fatalf("collector processes run as uids %v, want only 10001", processUIDs(t, cli, id))
		}
	}

	const lines = 20
	gen := prefix + "gen"
	genID := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{
		Name: gen,
		Cmd:  []string{"-count", fmt.Sprint(lines), "-streams", "both", "-prefix", "shipped"},
	})
	dockertest.WaitExit(t, cli, genID, time.Minute)

	var stdout, stderr string
	eventually(t, time.Minute, 500*time.Millisecond, "the container's lines on the collector's console", func() error {
		requireRunning(t, cli, id)
		stdout, stderr = dockertest.Logs(t, cli, id)
		for seq := range lines {
			stream := "stdout"
			if seq%2 == 1 {
				stream = "stderr"
			}
			// The debug exporter at verbosity normal: one line per record, body then attributes.
			want := fmt.Sprintf("shipped seq=%d stream=%s log.iostream=%s\n", seq, stream, stream)
			if !strings.Contains(stdout, want) {
				return fmt.Errorf("%w: %q not on the console yet", errNotYet, strings.TrimSpace(want))
			}
		}
		return nil
	})
	if !strings.Contains(stdout, "container.name="+gen+" ") {
		t.Errorf("the console does not name the container %s in a resource header", gen)
	}
	// A few more seconds for anything read back from the collector's own output to show.
	time.Sleep(3 * time.Second)
	requireRunning(t, cli, id)
	stdout, stderr = dockertest.Logs(t, cli, id)
	if strings.Contains(stdout, "container.name="+collectorName+" ") {
		t.Fatalf("the collector read its own container's output")
	}
	retries := strings.Count(stderr, "Exporting failed. Will retry")
	errorLines := strings.Count(stderr, "\terror\t")
	t.Logf("console: %d bytes on stdout; without Loki the exporter logged %d retry lines and %d error lines in %d lines of stderr",
		len(stdout), retries, errorLines, strings.Count(stderr, "\n"))
}
