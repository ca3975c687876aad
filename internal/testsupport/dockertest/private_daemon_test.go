package dockertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/loggenline"
)

// TestPrivateDaemonBesideTheEngine runs a container on a private daemon while the engine at DOCKER_HOST runs,
// restarts the daemon over its data, and checks that nothing of it is left once its test ended.
func TestPrivateDaemonBesideTheEngine(t *testing.T) {
	engine := Engine(t)
	var dir string
	t.Run("life", func(t *testing.T) {
		d := StartDaemon(t, DaemonOptions{})
		dir = d.dir
		cli := d.Client(t)
		if a, b := dataRoot(t, engine), dataRoot(t, cli); a == b || !strings.HasPrefix(b, d.dir) {
			t.Fatalf("the engine keeps its data in %s and the private daemon in %s", a, b)
		}
		id := StartContainer(t, cli, ContainerSpec{Cmd: []string{"-count", "20", "-streams", "both"}})
		WaitExit(t, cli, id, time.Minute)

		d.Stop(t)
		if d.Running() {
			t.Fatal("still running after Stop")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := cli.Ping(ctx); err == nil {
			t.Fatal("a stopped daemon answers")
		}
		d.Start(t)
		stdout, stderr := Logs(t, cli, id)
		checkLines(t, stdout, "\n", loggenline.Stdout, seqs(0, 20, 2))
		checkLines(t, stderr, "\n", loggenline.Stderr, seqs(1, 20, 2))
	})
	assertNothingLeft(t, dir)
}

// TestPrivateDaemonRestart checks what a daemon restart keeps: with live restore the container runs on, with
// a restart policy it is started again and its log goes on.
func TestPrivateDaemonRestart(t *testing.T) {
	for _, live := range []bool{true, false} {
		t.Run("live_restore="+strconv.FormatBool(live), func(t *testing.T) {
			var dir string
			t.Run("restart", func(t *testing.T) {
				d := StartDaemon(t, DaemonOptions{LiveRestore: live})
				dir = d.dir
				cli := d.Client(t)
				spec := ContainerSpec{Cmd: []string{"-rate", "100"}}
				if !live {
					spec.RestartPolicy = container.RestartPolicyAlways
				}
				id := StartContainer(t, cli, spec)
				before := inspect(t, cli, id)
				d.Stop(t)
				d.Start(t)
				after := inspect(t, cli, id)
				if !after.State.Running {
					t.Fatalf("container %s after the restart", after.State.Status)
				}
				if sameRun := after.State.StartedAt == before.State.StartedAt; sameRun != live {
					t.Fatalf("started at %s before the restart and %s after it; live restore %v", before.State.StartedAt, after.State.StartedAt, live)
				}
				runs := 1
				if !live {
					runs = 2
				}
				waitFor(t, func() bool { stdout, _ := Logs(t, cli, id); return strings.Count(stdout, " seq=0 ") == runs },
					"the log holds %d runs", runs)
			})
			assertNothingLeft(t, dir)
		})
	}
}

// TestPrivateDaemonCleanupWhileStopped leaves a live-restore daemon stopped with a container running, which
// only a running daemon can remove.
func TestPrivateDaemonCleanupWhileStopped(t *testing.T) {
	var dir string
	t.Run("stopped", func(t *testing.T) {
		d := StartDaemon(t, DaemonOptions{LiveRestore: true})
		dir = d.dir
		cli := d.Client(t)
		ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
		defer cancel()
		// Created without CreateContainer, whose removal at the end of the test would find the daemon stopped.
		resp, err := cli.ContainerCreate(ctx, &container.Config{Image: LoggenImage(t, cli), Cmd: []string{"-rate", "10"}},
			&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		d.Stop(t)
		if !shimRuns(dir, resp.ID) {
			t.Fatal("the container's shim stopped with the live-restore daemon")
		}
	})
	assertNothingLeft(t, dir)
}

// shimRuns tells whether a process of container id runs under the daemon in dir.
func shimRuns(dir, id string) bool {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if pid, err := strconv.Atoi(p.Name()); err == nil && processRunsWith(pid, dir) && processRunsWith(pid, id) {
			return true
		}
	}
	return false
}

// TestPrivateDaemonTLS checks that the daemon's TCP endpoint answers a client holding the CA and a client
// certificate, and no other.
func TestPrivateDaemonTLS(t *testing.T) {
	certs := GenerateCerts(t)
	d := StartDaemon(t, DaemonOptions{TLS: &certs})
	if !strings.HasPrefix(d.TCPHost, "tcp://127.0.0.1:") {
		t.Fatalf("TCPHost %q", d.TCPHost)
	}
	trusted, err := client.NewClientWithOpts(client.WithHost(d.TCPHost), client.WithAPIVersionNegotiation(),
		client.WithTLSClientConfig(certs.CAFile, certs.ClientCert, certs.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	defer trusted.Close()
	if err := ping(trusted); err != nil {
		t.Fatalf("a trusted client: %v", err)
	}

	other := GenerateCerts(t)
	wrongCA, err := client.NewClientWithOpts(client.WithHost(d.TCPHost), client.WithAPIVersionNegotiation(),
		client.WithTLSClientConfig(other.CAFile, certs.ClientCert, certs.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	defer wrongCA.Close()
	if err := ping(wrongCA); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("a client trusting another CA: %v", err)
	}

	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, certs.CAFile))
	noCert, err := client.NewClientWithOpts(client.WithHost(d.TCPHost), client.WithAPIVersionNegotiation(),
		client.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}),
		client.WithScheme("https"))
	if err != nil {
		t.Fatal(err)
	}
	defer noCert.Close()
	if err := ping(noCert); err == nil {
		t.Fatal("the daemon answered a client without a certificate")
	} else {
		t.Logf("without a client certificate: %v", err)
	}
}

func ping(cli *client.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cli.Ping(ctx)
	return err
}

func dataRoot(t *testing.T, cli *client.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	info, err := cli.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.DockerRootDir
}

func inspect(t *testing.T, cli *client.Client, id string) container.InspectResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after a minute, still not: "+format, args...)
		}
	}
}

// assertNothingLeft checks that no process, mount or file of the private daemon in dir remains.
func assertNothingLeft(t *testing.T, dir string) {
	t.Helper()
	if dir == "" {
		// The subtest skipped (-short, no dockerd) or failed before the start, which has already failed this test.
		t.Skip("no daemon was started")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists: %v", dir, err)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mountinfo), dir) {
		t.Errorf("something is still mounted under %s", dir)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		if pid, err := strconv.Atoi(p.Name()); err == nil && processRunsWith(pid, dir) {
			cmdline, _ := os.ReadFile("/proc/" + p.Name() + "/cmdline")
			t.Errorf("process %d still runs: %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
}
