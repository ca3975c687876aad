package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// TestImageShippedConfig runs the image exactly as the README says, with the configuration baked into it
// (collector-config.yaml) and LOKI_ENDPOINT pointing at a log store: a new container's lines reach the store,
// and the collector's console holds only its own log lines, never the records (the host keeps the console,
// so echoing every record there would store each line twice).
func TestImageShippedConfig(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	runMake(t, "victoria-logs")
	buildImage(t, cli)
	vl := startVictoriaLogs(t)
	gate := startStoreGate(t, vl)

	prefix := runName(t)
	collectorName := prefix + "shipped"
	// Host network: the store is on the host's loopback. The image's health check and metrics then listen on
	// the host's localhost:13133 and :8888, which no other test of this package holds meanwhile.
	id := startCollector(t, cli, collectorSpec{name: collectorName, network: "host", env: []string{"LOKI_ENDPOINT=" + gate.URL}})
	awaitReady(t, cli, id)
	for _, uid := range processUIDs(t, cli, id) {
		if uid != "10001" {
			t.Fatalf("collector processes run as uids %v, want only 10001", processUIDs(t, cli, id))
		}
	}

	w := startWorkload(t, cli, workloadSpec{containers: 1, lines: 200, rate: 100})
	w.waitExit(t, cli)
	w.waitStored(t, vl, w.total(), 2*time.Minute)
	tl := w.settle(t, vl)
	if tl.lost() > 0 || tl.dups > 0 {
		t.Fatalf("store: %v", tl)
	}
	requireRunning(t, cli, id)
	stdout, stderr := dockertest.Logs(t, cli, id)
	if strings.Contains(stdout+stderr, "seq=") {
		t.Fatalf("a record's body is on the collector's console:\n%s", tail(stdout+stderr, 2048))
	}
	own, err := vl.query(fmt.Sprintf(`container.name:%q*`, collectorName))
	if err != nil {
		t.Fatal(err)
	}
	if len(own) > 0 {
		t.Fatalf("the collector read its own container's output: %d records, e.g. %v", len(own), own[0])
	}
	t.Logf("%d lines in the store once each; the console holds %d lines of the collector's own log and no record", w.total(), strings.Count(stdout+stderr, "\n"))
}
