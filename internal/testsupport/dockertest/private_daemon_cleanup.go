package dockertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/daemonproc"
)

// cleanup removes the daemon's containers, stops it and what it left running, and removes its directories.
func (d *Daemon) cleanup(t testing.TB) {
	var errs []error
	// A stopped live-restore daemon leaves its containers running: only a running daemon can remove them.
	if !d.Running() && d.liveRestore && d.answered {
		errs = append(errs, d.start())
	}
	if d.Running() {
		errs = append(errs, daemonproc.RemoveContainers(d.Host, apiTimeout))
	}
	errs = append(errs, d.stop())
	errs = append(errs, d.stopContainerd(), daemonproc.UnmountUnder(d.dir), os.RemoveAll(d.dir))
	if err := errors.Join(errs...); err != nil {
		t.Errorf("clean up private dockerd in %s: %v", d.dir, err)
	}
}

// stopContainerd ends the containerd that dockerd started under its exec root, should it outlive dockerd.
func (d *Daemon) stopContainerd() error {
	b, err := os.ReadFile(filepath.Join(d.dir, "exec", "containerd", "containerd.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	// The pid file may be stale: only a process started over this exec root is ours.
	if err != nil || !processRunsWith(pid, d.dir) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(daemonStopTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !processRunsWith(pid, d.dir) {
			return nil
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("containerd (pid %d) did not stop within %v of SIGTERM; killed", pid, daemonStopTimeout)
}

// processRunsWith tells whether pid is a live process (not a zombie) whose command line contains text.
func processRunsWith(pid int, text string) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil || strings.Contains(string(stat[strings.LastIndexByte(string(stat), ')')+1:]), " Z ") {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.Contains(string(cmdline), text)
}
