package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// Workload of TestImageToLogStore: sequence-numbered lines on both outputs, slow enough for several rotations.
const (
	generators    = 3
	linesEach     = 2000
	linesPerSec   = 250 // 8 s per container
	rotationEvery = "2s"
)

// storeConfig is the collector configuration of TestImageToLogStore: the pipeline of collector-config.yaml
// (docker_logs -> memory_limiter -> otlp_http with its queue on file_storage, checkpoints in file_storage) with
// the exporter pointed at VictoriaLogs' OTLP endpoint, a debug exporter writing to the collector's own output,
// short rotations, and ports picked free on the host network. Only the run's containers are read, so other
// containers on a shared engine do not disturb the counts; the collector's own container matches the rule
// too, and must be left out by the receiver itself.
const storeConfig = `
extensions:
  health_check:
    endpoint: 127.0.0.1:%[1]d
  file_storage:
    directory: %[2]s
receivers:
  docker_logs:
    rotation_interval: %[3]s
    include:
      names: ["%[4]s*"]
    storage: file_storage
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
exporters:
  otlp_http:
    endpoint: %[5]s/insert/opentelemetry
    retry_on_failure:
      max_elapsed_time: 0
    sending_queue:
      storage: file_storage
      block_on_overflow: true
      batch:
        flush_timeout: 200ms
  # basic: one line per batch on the collector's own output, which the receiver must not read back.
  debug:
    verbosity: basic
service:
  extensions: [health_check, file_storage]
  pipelines:
    logs:
      receivers: [docker_logs]
      processors: [memory_limiter]
      exporters: [otlp_http, debug]
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[6]d
`

// TestImageToLogStore runs the distribution's image against the real engine (host network, socket mounted
// read-only, non-root with the socket's group) and a real log store, and checks every line arrives exactly once
// with its resource attributes, and that the receiver's accepted-records count says the same.
func TestImageToLogStore(t *testing.T) {
	skipShort(t)
	cli := dockertest.Engine(t)
	runMake(t, "victoria-logs")
	size := buildImage(t, cli)
	t.Logf("image %s: %.1f MB", imageTag, float64(size)/1e6)
	vl := startVictoriaLogs(t)

	prefix := runName(t)
	collectorName := prefix + "collector"
	healthPort, metricsPort := freePort(t), freePort(t)
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	if err := os.Mkdir(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	shareWithUser(t, storage, true)
	configPath := filepath.Join(dir, "config.yaml")
	config := fmt.Sprintf(storeConfig, healthPort, storageInImage, rotationEvery, prefix, vl.base, metricsPort)
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	shareWithUser(t, configPath, false)

	id := startCollector(t, cli, collectorSpec{
		name:    collectorName,
		network: "host",
		binds:   []string{configPath + ":" + configInImage + ":ro", storage + ":" + storageInImage},
	})
	healthURL := fmt.Sprintf("http://127.0.0.1:%d/", healthPort)
	eventually(t, 60*time.Second, 250*time.Millisecond, "collector health check", func() error {
		requireRunning(t, cli, id)
		code, body, err := httpGet(healthURL)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("%w: GET %s: %d %q %v", errNotYet, healthURL, code, body, err)
		}
		return nil
	})
	for _, uid := range processUIDs(t, cli, id) {
		if uid == "0" || uid == "root" {
			t.Fatalf("a process of the collector container runs as root (uids %v)", processUIDs(t, cli, id))
		}
	}

	names := make([]string, generators)
	ids := make([]string, generators)
	start := time.Now()
	for i := range names {
		names[i] = fmt.Sprintf("%sgen-%d", prefix, i)
		ids[i] = dockertest.StartContainer(t, cli, dockertest.ContainerSpec{
			Name: names[i],
			Cmd:  []string{"-count", strconv.Itoa(linesEach), "-rate", strconv.Itoa(linesPerSec), "-streams", "both"},
		})
	}
	for i, cid := range ids {
		if code := dockertest.WaitExit(t, cli, cid, 3*time.Minute); code != 0 {
			t.Fatalf("%s exited with %d", names[i], code)
		}
	}
	t.Logf("%d containers wrote %d lines each in %v", generators, linesEach, time.Since(start).Round(100*time.Millisecond))

	// Wait until the store holds what the exporter says it sent and the exporter sent what the receiver accepted.
	const want = generators * linesEach
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	var accepted, sent float64
	var stored int
	eventually(t, 2*time.Minute, time.Second, "records to reach the store", func() error {
		requireRunning(t, cli, id)
		samples, err := scrape(metricsURL)
		if err != nil {
			return fmt.Errorf("%w: %v", errNotYet, err)
		}
		accepted, _ = metricSum(samples, "otelcol_receiver_accepted_log_records", map[string]string{"receiver": "docker_logs"})
		sent, _ = metricSum(samples, "otelcol_exporter_sent_log_records", map[string]string{"exporter": "otlp_http"})
		if stored, err = vl.count("*"); err != nil {
			return err
		}
		if accepted < want || sent < accepted || float64(stored) < sent {
			return fmt.Errorf("%w: accepted %v, sent %v, stored %d, want %d", errNotYet, accepted, sent, stored, want)
		}
		return nil
	})
	// Anything late (a duplicate from a rotation, the collector's own output) would show up within a few seconds.
	time.Sleep(3 * time.Second)

	rows, err := vl.query("*")
	if err != nil {
		t.Fatal(err)
	}
	samples, err := scrape(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	accepted, foundAccepted := metricSum(samples, "otelcol_receiver_accepted_log_records", map[string]string{"receiver": "docker_logs"})
	refused, _ := metricSum(samples, "otelcol_receiver_refused_log_records", map[string]string{"receiver": "docker_logs"})
	sent, _ = metricSum(samples, "otelcol_exporter_sent_log_records", map[string]string{"exporter": "otlp_http"})
	failed, _ := metricSum(samples, "otelcol_exporter_send_failed_log_records", map[string]string{"exporter": "otlp_http"})
	planned, foundRotations := metricSum(samples, "otelcol_docker_logs_rotations", map[string]string{"reason": "planned"})
	t.Logf("store: %d records; collector: accepted %v (docker_logs), refused %v, sent %v (otlp_http), send failed %v; planned rotations %v (metric found: %v)",
		len(rows), accepted, refused, sent, failed, planned, foundRotations)

	// Every (container, seq) exactly once, on the right output, with the resource attributes set.
	perContainer := map[string]int{}
	seen := map[string]map[int]int{}
	for _, name := range names {
		seen[name] = map[int]int{}
	}
	for _, row := range rows {
		cname := row["container.name"]
		perContainer[cname]++
		if cname == collectorName {
			t.Fatalf("the collector read its own container: %v", row)
		}
		lines, ok := seen[cname]
		if !ok {
			t.Fatalf("record from a container this test did not start: %v", row)
		}
		requireSet(t, row, "service.name", "container.name", "container.id", "container.image.name", "log.iostream", "_msg")
		if row["service.name"] != cname {
			t.Fatalf("service.name %q, want the container name %q (no compose label): %v", row["service.name"], cname, row)
		}
		_, seq, stream, err := loggenline.ParseLine(row["_msg"])
		if err != nil {
			t.Fatalf("record body: %v", err)
		}
		if stream != row["log.iostream"] {
			t.Fatalf("line of %s carries log.iostream=%q: %v", stream, row["log.iostream"], row)
		}
		lines[seq]++
	}
	missing, dups := 0, 0
	for _, name := range names {
		for seq := range linesEach {
			switch n := seen[name][seq]; {
			case n == 0:
				missing++
				if missing <= 5 {
					t.Errorf("%s seq=%d missing", name, seq)
				}
			case n > 1:
				dups++
				if dups <= 5 {
					t.Errorf("%s seq=%d stored %d times", name, seq, n)
				}
			}
		}
	}
	if missing > 0 || dups > 0 || len(rows) != want {
		t.Fatalf("store holds %d records (%s), want %d: %d lines missing, %d duplicated", len(rows), describeCounts(perContainer), want, missing, dups)
	}
	if !foundAccepted || accepted != want {
		t.Fatalf("otelcol_receiver_accepted_log_records{receiver=\"docker_logs\"} = %v (found %v), want %d", accepted, foundAccepted, want)
	}
	if sent != want || refused != 0 || failed != 0 {
		t.Fatalf("exporter sent %v (want %d), receiver refused %v, exporter failed %v (want 0)", sent, want, refused, failed)
	}
	if foundRotations && planned < 1 {
		t.Errorf("no planned rotation in %v with rotation_interval %s", time.Since(start).Round(time.Second), rotationEvery)
	}
	// The exclusion of the collector's own container was put to the test only if that container wrote while running.
	_, stderr := dockertest.Logs(t, cli, id)
	batches := strings.Count(stderr, "\tLogs\t")
	if batches == 0 {
		t.Errorf("the collector's own output has no debug exporter line, so the test did not show that it is not read back")
	}
	t.Logf("%d lines exactly once in the store (%s) with service.name and container.name; accepted %v = sent %v = stored %d; "+
		"none of the collector's own %d debug lines read back", want, strings.TrimSpace(describeCounts(perContainer)), accepted, sent, len(rows), batches)
}
