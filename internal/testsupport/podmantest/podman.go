// Package podmantest gives integration tests a Podman service of their own that speaks the Docker Engine API.
//
// Each Service runs "podman system service" on a unix socket in a private directory, with its own storage,
// run root and configuration (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF): it neither reads nor changes the
// machine's /etc/containers, nor sees the machine's Podman containers and images. The containers the tests
// create through the dockertest helpers then run under it like under Docker.
package podmantest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/daemonproc"
)

// Bounds of the service's start and stop; generous, since the machine may be busy with other tests.
const (
	startTimeout = 2 * time.Minute
	stopTimeout  = time.Minute
	apiTimeout   = time.Minute
)

// Service is a Podman API service of one test's own.
type Service struct {
	// Host is the service's unix socket, unix://PATH: the receiver's endpoint and DOCKER_HOST for a client.
	Host string

	dir  string
	env  []string
	proc *daemonproc.Process
}

// Start installs Podman when it is missing (apt-get, as root), starts a private "podman system service" and
// waits until it answers; the service, its containers and its directory are removed when the test ends. It skips
// the test with -short or when Podman cannot be had, but fails it under CI=true.
func Start(t testing.TB) *Service {
	t.Helper()
	if testing.Short() {
		t.Skip("test needs a Podman service; skipped with -short")
	}
	podman, err := ensurePodman()
	if err != nil {
		unavailable(t, "test needs Podman: %v", err)
	}
	if os.Geteuid() != 0 {
		// Rootless Podman needs subuid ranges and a user session; these tests use the rootful service.
		unavailable(t, "test needs a rootful Podman service, which only root can start")
	}
	// A unix socket path must fit in 107 bytes: a short directory of its own, not the test's temp dir.
	dir, err := os.MkdirTemp("/tmp", "pm-")
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		t.Fatalf("private Podman dir: %v", err)
	}
	s := &Service{dir: dir, Host: "unix://" + filepath.Join(dir, "podman.sock")}
	t.Cleanup(func() { s.cleanup(t) })
	if s.env, err = writeConfig(dir); err != nil {
		t.Fatalf("private Podman config: %v", err)
	}
	began := time.Now()
	if err := s.start(podman); err != nil {
		t.Fatal(err)
	}
	t.Logf("private Podman service at %s answers %.1fs after its start", s.Host, time.Since(began).Seconds())
	return s
}

// Client returns a negotiating client of the service, closed when the test ends.
func (s *Service) Client(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(s.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("client of the Podman service: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// writeConfig writes the service's storage and engine configuration into dir and returns the environment that
// points Podman at them.
//
// vfs works on any filesystem; cgroupfs and the file events logger need no systemd; netns none needs no network
// setup (there is no iptables here); the ulimits are required where the default ones cannot be set ("error
// setting rlimit type 7: operation not permitted"); k8s-file is Podman's own default log driver.
func writeConfig(dir string) ([]string, error) {
	storage := filepath.Join(dir, "storage.conf")
	conf := filepath.Join(dir, "containers.conf")
	runtime := ""
	if _, err := exec.LookPath("runc"); err == nil {
		runtime = "runtime = \"runc\"\n"
	}
	files := map[string]string{
		storage: fmt.Sprintf("[storage]\ndriver = \"vfs\"\nrunroot = %q\ngraphroot = %q\n",
			filepath.Join(dir, "run"), filepath.Join(dir, "root")),
		conf: fmt.Sprintf("[containers]\nnetns = \"none\"\nlog_driver = \"k8s-file\"\n"+
			"default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n"+
			"[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n%stmp_dir = %q\n",
			runtime, filepath.Join(dir, "tmp")),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	return append(os.Environ(), "CONTAINERS_CONF="+conf, "CONTAINERS_STORAGE_CONF="+storage), nil
}

func (s *Service) start(podman string) error {
	// --time=0: the service never exits for being idle.
	proc, err := daemonproc.Start(daemonproc.Command{
		Name: "podman system service", Host: s.Host, LogPath: filepath.Join(s.dir, "service.log"), Env: s.env,
		Path: podman, Args: []string{"system", "service", "--time=0", s.Host},
	}, startTimeout)
	s.proc = proc
	return err
}

// cleanup removes the service's containers, stops it, and removes its directory.
func (s *Service) cleanup(t testing.TB) {
	var errs []error
	if s.proc.Running() {
		// Containers run under conmon, not under the service: they outlive it unless removed.
		errs = append(errs, daemonproc.RemoveContainers(s.Host, apiTimeout))
	}
	errs = append(errs, s.proc.Stop(stopTimeout), daemonproc.UnmountUnder(s.dir), os.RemoveAll(s.dir))
	if err := errors.Join(errs...); err != nil {
		t.Errorf("clean up the Podman service in %s: %v", s.dir, err)
	}
}

// install remembers the one attempt per test process to install Podman.
var install struct {
	sync.Once
	path string
	err  error
}

// ensurePodman returns the podman binary, installing Debian's package with apt-get when it is missing and the
// test runs as root.
func ensurePodman() (string, error) {
	install.Do(func() {
		if install.path, install.err = exec.LookPath("podman"); install.err == nil {
			return
		}
		if os.Geteuid() != 0 {
			install.err = errors.New("podman is not installed and only root may install it (apt-get install podman)")
			return
		}
		if _, err := exec.LookPath("apt-get"); err != nil {
			install.err = errors.New("podman is not installed and apt-get is missing")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "podman"}} {
			cmd := exec.CommandContext(ctx, "apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				install.err = fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
		install.path, install.err = exec.LookPath("podman")
	})
	return install.path, install.err
}

// unavailable skips the test, or fails it under CI=true.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}
