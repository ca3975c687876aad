package dockertest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clockTicks is the unit of /proc/PID/stat times on Linux.
const clockTicks = 100

// DaemonPID finds the dockerd to measure: the private one's pid file beside its socket, else the oldest dockerd.
func DaemonPID(t testing.TB) int {
	t.Helper()
	if host := os.Getenv("DOCKER_HOST"); strings.HasPrefix(host, "unix://") {
		pidFile := strings.TrimSuffix(strings.TrimPrefix(host, "unix://"), "docker.sock") + "docker.pid"
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
	}
	out, err := exec.Command("pgrep", "-o", "-x", "dockerd").Output()
	if err != nil {
		t.Fatalf("no dockerd process to measure: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("pgrep dockerd printed %q: %v", out, err)
	}
	return pid
}

// ProcessCPU returns a process's user plus system CPU time so far.
func ProcessCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatalf("read CPU time of process %d: %v", pid, err)
	}
	// The fields after the command name, which ends at the last ')'.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}
