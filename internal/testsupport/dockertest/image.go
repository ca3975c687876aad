package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// LoggenTag is the tag of the loggen image.
const LoggenTag = "otelcol-dockerlogs-loggen:test"

// binaryLabel holds the SHA-256 of the loggen binary in the image, so an unchanged binary is not imported again.
const binaryLabel = "otelcol-dockerlogs.loggen.sha256"

// loggenImages remembers one result per engine, so each test process builds the image at most once per engine.
var loggenImages = struct {
	sync.Mutex
	byHost map[string]error
}{byHost: map[string]error{}}

// LoggenImage builds the static loggen binary into a FROM scratch image once per test process and returns its tag.
func LoggenImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	loggenImages.Lock()
	defer loggenImages.Unlock()
	err, done := loggenImages.byHost[cli.DaemonHost()]
	if !done {
		start := time.Now()
		err = buildLoggenImage(cli)
		loggenImages.byHost[cli.DaemonHost()] = err
		if err == nil {
			t.Logf("loggen image %s ready in %v", LoggenTag, time.Since(start).Round(time.Millisecond))
		}
	}
	if err != nil {
		t.Fatalf("loggen image: %v", err)
	}
	return LoggenTag
}

func buildLoggenImage(cli *client.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ver, err := cli.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("engine version: %w", err)
	}
	bin, err := buildLoggen(ctx, ver.Os, ver.Arch)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(bin)
	digest := hex.EncodeToString(sum[:])

	old, err := cli.ImageInspect(ctx, LoggenTag)
	if err == nil && old.Config != nil && old.Config.Labels[binaryLabel] == digest {
		return nil
	}
	if err := importImage(ctx, cli, bin, digest); err != nil {
		return err
	}
	// Drop the image the tag moved away from, so a persistent engine does not collect one per loggen change.
	if old.ID != "" {
		if cur, err := cli.ImageInspect(ctx, LoggenTag); err == nil && cur.ID != old.ID {
			_, _ = cli.ImageRemove(ctx, old.ID, image.RemoveOptions{PruneChildren: true})
		}
	}
	return nil
}

// buildLoggen compiles loggen statically for the engine's platform, which need not be the test's own.
func buildLoggen(ctx context.Context, goos, goarch string) ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loggen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "loggen")
	// "go test" puts its own GOROOT/bin first in PATH, so this is the toolchain running the tests.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, "./internal/testsupport/loggen")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if output, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s in %s: %w\n%s", cmd, root, err, output)
	}
	return os.ReadFile(out)
}

// importImage imports a root filesystem holding only /loggen, which is what "FROM scratch" plus "COPY" makes, without needing a builder.
func importImage(ctx context.Context, cli *client.Client, bin []byte, digest string) error {
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	if err := tw.WriteHeader(&tar.Header{Name: "loggen", Mode: 0o755, Size: int64(len(bin)), ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	if _, err := tw.Write(bin); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &rootfs, SourceName: "-"}, LoggenTag, image.ImportOptions{
		Message: "loggen for otelcol-dockerlogs tests",
		Changes: []string{`ENTRYPOINT ["/loggen"]`, "LABEL " + binaryLabel + "=" + digest, "LABEL " + TestLabel + "=1"},
	})
	if err != nil {
		return fmt.Errorf("import image: %w", err)
	}
	defer rc.Close()
	return readProgress(rc)
}

// readProgress drains an engine progress stream and returns the error it reports, which arrives with HTTP status 200.
func readProgress(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read import progress: %w", err)
		}
		if msg.Error != "" {
			return fmt.Errorf("import image: %s", msg.Error)
		}
	}
}

// moduleRoot finds the directory of go.mod above the test's working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
