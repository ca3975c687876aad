package bench

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// genImage is the tag of the benchgen image, imported into every engine a benchmark uses.
const genImage = "otelcol-dockerlogs-benchgen:bench"

// genDigestLabel holds the SHA-256 of the benchgen binary in the image.
const genDigestLabel = "otelcol-dockerlogs.benchgen.sha256"

var imported sync.Map // engine host -> struct{}

// benchgenImage imports bench/benchgen as a FROM-scratch image into the engine, once per process and engine.
func benchgenImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	if _, ok := imported.Load(cli.DaemonHost()); ok {
		return genImage
	}
	bin, err := os.ReadFile(built(t, "./bench/benchgen", "CGO_ENABLED=0"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	digest := hex.EncodeToString(sum[:])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// An image of the same binary is kept; one of another binary is replaced, so a persistent engine keeps one.
	old, err := cli.ImageInspect(ctx, genImage)
	if err == nil && old.Config != nil && old.Config.Labels[genDigestLabel] == digest {
		imported.Store(cli.DaemonHost(), struct{}{})
		return genImage
	}
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	if err := tw.WriteHeader(&tar.Header{Name: "benchgen", Mode: 0o755, Size: int64(len(bin)), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write(bin)
	_ = tw.Close()
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &rootfs, SourceName: "-"}, genImage, image.ImportOptions{
		Changes: []string{`ENTRYPOINT ["/benchgen"]`, "LABEL " + dockertest.TestLabel + "=1", "LABEL " + benchLabel + "=1", "LABEL " + genDigestLabel + "=" + digest},
	})
	if err != nil {
		t.Fatalf("import %s: %v", genImage, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct{ Error string }
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if msg.Error != "" {
			t.Fatalf("import %s: %s", genImage, msg.Error)
		}
	}
	if old.ID != "" {
		_, _ = cli.ImageRemove(ctx, old.ID, image.RemoveOptions{})
	}
	imported.Store(cli.DaemonHost(), struct{}{})
	return genImage
}

// started are the containers to remove when the benchmarks end, per engine client.
var started = struct {
	sync.Mutex
	ids map[*client.Client][]string
}{ids: map[*client.Client][]string{}}

// startGen starts a benchgen container without network, labelled as a test container, removed at the end of the run.
func startGen(t testing.TB, cli *client.Client, name string, labels map[string]string, args ...string) string {
	t.Helper()
	img := benchgenImage(t, cli)
	l := map[string]string{dockertest.TestLabel: "1", benchLabel: "1"}
	for k, v := range labels {
		l[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := cli.ContainerCreate(ctx, &container.Config{Image: img, Cmd: append([]string{"-prefix", name}, args...), Labels: l},
		&container.HostConfig{NetworkMode: "none"}, nil, nil, name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	started.Lock()
	started.ids[cli] = append(started.ids[cli], resp.ID)
	started.Unlock()
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return resp.ID
}

// startFleet starts n benchgen containers named prefix000.., eight at a time, and returns their IDs by name.
func startFleet(t testing.TB, cli *client.Client, prefix string, n int, labels map[string]string, args ...string) map[string]string {
	t.Helper()
	benchgenImage(t, cli)
	ids := map[string]string{}
	var mu sync.Mutex
	g := fewAtATime()
	for i := range n {
		name := fmt.Sprintf("%s%03d", prefix, i)
		g.Go(func() error {
			id := startGen(t, cli, name, labels, args...)
			mu.Lock()
			ids[name] = id
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return ids
}

// removeContainers force-removes every container the run started.
func removeContainers() {
	started.Lock()
	defer started.Unlock()
	for cli := range started.ids {
		removeOf(cli)
	}
	started.ids = map[*client.Client][]string{}
}

// removeEngineContainers force-removes the containers the run started on one engine, a few at a time, and forgets them.
func removeEngineContainers(cli *client.Client) {
	started.Lock()
	defer started.Unlock()
	removeOf(cli)
	delete(started.ids, cli)
}

// removeOf removes the containers of one engine; started must be locked.
func removeOf(cli *client.Client) {
	ids := started.ids[cli]
	g := fewAtATime()
	for _, id := range ids {
		g.Go(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil && !strings.Contains(err.Error(), "No such container") {
				fmt.Fprintf(os.Stderr, "bench: remove container %.12s: %v\n", id, err)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// fewAtATime runs the calls on a fleet's containers eight at a time: hundreds one by one take minutes on a loaded
// engine, and all at once overload it.
func fewAtATime() *errgroup.Group {
	var g errgroup.Group
	g.SetLimit(8)
	return &g
}

// logLines reads a container's log (non-following) up to until (zero: all) and returns its lines with timestamps.
func logLines(t testing.TB, cli *client.Client, id string, until time.Time) []string {
	t.Helper()
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true}
	if !until.IsZero() {
		opts.Until = strconv.FormatInt(until.Unix(), 10) + "." + fmt.Sprintf("%09d", until.Nanosecond())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, opts)
	if err != nil {
		t.Fatalf("logs of %.12s: %v", id, err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		t.Fatalf("read logs of %.12s: %v", id, err)
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

// lastLine returns the timestamp and sequence number of a container's newest line (seq -1 when it has none).
func lastLine(t testing.TB, cli *client.Client, id string) (time.Time, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Tail: "1"})
	if err != nil {
		t.Fatalf("logs of %.12s: %v", id, err)
	}
	defer rc.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, rc)
	ts, body, ok := strings.Cut(strings.TrimSpace(out.String()), " ")
	if !ok {
		return time.Time{}, -1
	}
	when, err := time.Parse(time.RFC3339Nano, ts)
	_, seq, _, perr := loggenline.ParseLine(body)
	if err != nil || perr != nil {
		return time.Time{}, -1
	}
	return when, seq
}

// linesUntil counts a container's lines stamped at or before until: the lines a reader must have delivered.
func linesUntil(t testing.TB, cli *client.Client, id string, until time.Time) int {
	t.Helper()
	n, err := countLines(cli, id, until)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countLines is linesUntil without the test, for use from other goroutines. A benchgen container numbers its lines
// from 0 without a gap, so the newest line up to until tells the count: it is looked for in a tail long enough for
// the lines written since until at a few hundred per second, which costs the daemon a seek instead of a whole log.
func countLines(cli *client.Client, id string, until time.Time) (int, error) {
	tail := 500 * (int(time.Since(until).Seconds()) + 10)
	if n, ok, err := countFromTail(cli, id, until, tail); err != nil || ok {
		return n, err
	}
	return countAll(cli, id, until)
}

// countFromTail reads the last tail lines up to until and returns the newest one's sequence number plus one; ok is
// false when none of them was stamped up to until (the tail was too short) or a line is not benchgen's.
func countFromTail(cli *client.Client, id string, until time.Time, tail int) (int, bool, error) {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(tail),
		Until: strconv.FormatInt(until.Unix(), 10) + "." + fmt.Sprintf("%09d", until.Nanosecond())}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, opts)
	if err != nil {
		return 0, false, fmt.Errorf("logs of %.12s: %w", id, err)
	}
	defer rc.Close()
	c := &lineCounter{keep: true}
	if _, err := stdcopy.StdCopy(c, c, rc); err != nil {
		return 0, false, fmt.Errorf("read logs of %.12s: %w", id, err)
	}
	if c.n == 0 {
		return 0, false, nil
	}
	newest := -1
	for _, l := range strings.Split(strings.TrimSuffix(string(c.kept), "\n"), "\n") {
		_, seq, _, err := loggenline.ParseLine(l)
		if err != nil {
			return 0, false, nil
		}
		newest = max(newest, seq)
	}
	return newest + 1, true, nil
}

// countAll counts every line of a container's log up to until.
func countAll(cli *client.Client, id string, until time.Time) (int, error) {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true,
		Until: strconv.FormatInt(until.Unix(), 10) + "." + fmt.Sprintf("%09d", until.Nanosecond())}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, opts)
	if err != nil {
		return 0, fmt.Errorf("logs of %.12s: %w", id, err)
	}
	defer rc.Close()
	c := &lineCounter{}
	if _, err := stdcopy.StdCopy(c, c, rc); err != nil {
		return 0, fmt.Errorf("read logs of %.12s: %w", id, err)
	}
	return int(c.n), nil
}

// runOutput runs a command and returns its stdout.
func runOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
