package dockertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/daemonproc"
)

// Bounds of a private daemon's start and stop; generous, since the machine may be busy with other tests.
const (
	daemonStartTimeout = 2 * time.Minute
	daemonStopTimeout  = time.Minute
)

// DaemonOptions choose how a private dockerd listens and what its restarts keep.
type DaemonOptions struct {
	// TLS, when set, makes the daemon also serve tcp://127.0.0.1:<free port> with --tlsverify and these files.
	TLS *Certs
	// LiveRestore keeps the containers running while the daemon is down.
	LiveRestore bool
}

// Daemon is a dockerd of one test's own, running beside the engine at DOCKER_HOST with its own data, exec root and socket.
type Daemon struct {
	// Host is the daemon's unix socket, unix://PATH.
	Host string
	// TCPHost is tcp://127.0.0.1:PORT when DaemonOptions.TLS was set, else "".
	TCPHost string

	dir         string
	args        []string
	liveRestore bool
	answered    bool                // it answered at least once, so a start in cleanup is worth trying
	proc        *daemonproc.Process // the current run, nil before the first
}

// StartDaemon starts a private dockerd and waits until it answers; it is stopped and its directories are removed
// when the test ends. It skips the test with -short or without dockerd or root, but fails it under CI=true.
func StartDaemon(t testing.TB, opts DaemonOptions) *Daemon {
	t.Helper()
	if testing.Short() {
		t.Skip("test needs its own dockerd; skipped with -short")
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		noEngine(t, "test needs its own dockerd, which is not installed (apt-get install docker.io): %v", err)
	}
	if os.Geteuid() != 0 {
		noEngine(t, "test needs its own dockerd, which only root can start")
	}
	// A unix socket path must fit in 107 bytes and containerd makes its sockets up to 33 bytes below the exec
	// root: a short directory of its own, not the test's temp dir.
	base := os.TempDir()
	if len(base) > 40 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "dd-")
	if err == nil {
		// The mount table names resolved paths, and cleanup finds the daemon's mounts there.
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		t.Fatalf("private dockerd dir: %v", err)
	}
	d := &Daemon{dir: dir, Host: "unix://" + filepath.Join(dir, "docker.sock"), liveRestore: opts.LiveRestore}
	t.Cleanup(func() { d.cleanup(t) })
	// An empty configuration file of its own: the machine's /etc/docker/daemon.json may name other hosts or roots.
	config := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(config, []byte("{}\n"), 0o600); err != nil {
		t.Fatalf("private dockerd config: %v", err)
	}
	d.args = []string{
		"--config-file", config,
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"-H", d.Host, "--pidfile", filepath.Join(dir, "docker.pid"),
		// As the shared engine: no bridge, since there is no iptables; vfs works on any filesystem.
		"--storage-driver=vfs", "--iptables=false", "--ip-masq=false", "--bridge=none",
		// Where a system containerd runs, dockerd uses it instead of its own: a namespace of its own keeps the
		// two daemons' containers apart there.
		"--containerd-namespace", "dlr-" + filepath.Base(dir), "--containerd-plugins-namespace", "dlr-" + filepath.Base(dir) + "-plugins",
	}
	if opts.LiveRestore {
		d.args = append(d.args, "--live-restore")
	}
	if opts.TLS != nil {
		d.TCPHost = "tcp://127.0.0.1:" + strconv.Itoa(freePort(t))
		d.args = append(d.args, "--tlsverify", "--tlscacert", opts.TLS.CAFile, "--tlscert", opts.TLS.ServerCert,
			"--tlskey", opts.TLS.ServerKey, "-H", d.TCPHost)
	}
	d.Start(t)
	return d
}

// Client returns a negotiating client of the daemon's unix socket, closed when the test ends.
func (d *Daemon) Client(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("client of private dockerd: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// Start starts the daemon over its data root (after Stop: a daemon restart) and waits until it answers.
func (d *Daemon) Start(t testing.TB) {
	t.Helper()
	began := time.Now()
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("private dockerd at %s answers %.1fs after its start", d.Host, time.Since(began).Seconds())
}

// Stop sends the daemon SIGTERM and waits until it has exited, killing it if it does not within a minute.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	began := time.Now()
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("private dockerd at %s stopped in %.1fs", d.Host, time.Since(began).Seconds())
}

// Running tells whether the daemon process runs.
func (d *Daemon) Running() bool {
	return d.proc.Running()
}

func (d *Daemon) start() error {
	if d.Running() {
		return fmt.Errorf("private dockerd at %s is already running", d.Host)
	}
	proc, err := daemonproc.Start(daemonproc.Command{
		Name: "private dockerd", Host: d.Host, LogPath: filepath.Join(d.dir, "dockerd.log"), Path: "dockerd", Args: d.args,
	}, daemonStartTimeout)
	if err != nil {
		return err
	}
	d.proc, d.answered = proc, true
	return nil
}

func (d *Daemon) stop() error {
	return d.proc.Stop(daemonStopTimeout)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
