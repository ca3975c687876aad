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

// HostileGenTag is the tag of the hostilegen image, which writes a hostileline plan.
const HostileGenTag = "otelcol-dockerlogs-hostilegen:test"

// PrintLinesTag is the tag of the printlines image, which writes the lines given as its arguments.
const PrintLinesTag = "otelcol-dockerlogs-printlines:test"

// program is a static Go program of this module, imported as a FROM scratch image holding only its binary.
type program struct {
	name string // the binary's name in the image, its entrypoint
	pkg  string // its package, relative to the module root
	tag  string
}

var (
	loggenProgram     = program{name: "loggen", pkg: "./internal/testsupport/loggen", tag: LoggenTag}
	printLinesProgram = program{name: "printlines", pkg: "./internal/testsupport/printlines", tag: PrintLinesTag}
	hostileGenProgram = program{name: "hostilegen", pkg: "./internal/testsupport/hostilegen", tag: HostileGenTag}
)

// binaryLabel holds the SHA-256 of the binary in the image, so an unchanged binary is not imported again.
func (p program) binaryLabel() string { return "otelcol-dockerlogs." + p.name + ".sha256" }

// programImages remembers one result per engine and image, so each test process builds an image at most once per engine.
var programImages = struct {
	sync.Mutex
	done map[string]error
}{done: map[string]error{}}

// LoggenImage builds the static loggen binary into a FROM scratch image once per test process and returns its tag.
func LoggenImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	return programImage(t, cli, loggenProgram)
}

// PrintLinesImage builds the printlines image once per test process and returns its tag. Its container writes
// each argument "stdout:TEXT" or "stderr:TEXT" as one line of that output, in order, and exits.
func PrintLinesImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	return programImage(t, cli, printLinesProgram)
}

// HostileGenImage builds the hostilegen image once per test process and returns its tag.
func HostileGenImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	return programImage(t, cli, hostileGenProgram)
}

func programImage(t testing.TB, cli *client.Client, p program) string {
	t.Helper()
	programImages.Lock()
	defer programImages.Unlock()
	key := cli.DaemonHost() + " " + p.tag
	err, done := programImages.done[key]
	if !done {
		start := time.Now()
		err = buildProgramImage(cli, p)
		programImages.done[key] = err
		if err == nil {
			t.Logf("%s image %s ready in %v", p.name, p.tag, time.Since(start).Round(time.Millisecond))
		}
	}
	if err != nil {
		t.Fatalf("%s image: %v", p.name, err)
	}
	return p.tag
}

func buildProgramImage(cli *client.Client, p program) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ver, err := cli.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("engine version: %w", err)
	}
	bin, err := buildProgram(ctx, p, ver.Os, ver.Arch)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(bin)
	digest := hex.EncodeToString(sum[:])

	old, err := cli.ImageInspect(ctx, p.tag)
	if err == nil && old.Config != nil && old.Config.Labels[p.binaryLabel()] == digest {
		return nil
	}
	if err := importImage(ctx, cli, p, bin, digest); err != nil {
		return err
	}
	// Drop the image the tag moved away from, so a persistent engine does not collect one per program change.
	if old.ID != "" {
		if cur, err := cli.ImageInspect(ctx, p.tag); err == nil && cur.ID != old.ID {
			_, _ = cli.ImageRemove(ctx, old.ID, image.RemoveOptions{PruneChildren: true})
		}
	}
	return nil
}

// buildProgram compiles p statically for the engine's platform, which need not be the test's own.
func buildProgram(ctx context.Context, p program, goos, goarch string) ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", p.name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, p.name)
	// "go test" puts its own GOROOT/bin first in PATH, so this is the toolchain running the tests.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, p.pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if output, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s in %s: %w\n%s", cmd, root, err, output)
	}
	return os.ReadFile(out)
}

// importImage imports a root filesystem holding only p's binary, which is what "FROM scratch" plus "COPY" makes, without needing a builder.
func importImage(ctx context.Context, cli *client.Client, p program, bin []byte, digest string) error {
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	if err := tw.WriteHeader(&tar.Header{Name: p.name, Mode: 0o755, Size: int64(len(bin)), ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	if _, err := tw.Write(bin); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &rootfs, SourceName: "-"}, p.tag, image.ImportOptions{
		Message: p.name + " for otelcol-dockerlogs tests",
		Changes: []string{`ENTRYPOINT ["/` + p.name + `"]`, "LABEL " + p.binaryLabel() + "=" + digest, "LABEL " + TestLabel + "=1"},
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
