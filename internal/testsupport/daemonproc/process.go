// Package daemonproc runs an API daemon of one test's own (a private dockerd, a Podman service) as a child
// process: started with its output in a log file, pinged until it answers, stopped with SIGTERM and, if need be,
// SIGKILL; with the clean-up both need (their containers removed, their mounts detached).
package daemonproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/client"
)

// Process is one run of a daemon; a restart is a new Process over the same directories.
type Process struct {
	// Name says which daemon it is in error messages ("private dockerd").
	Name string
	// Host is the API socket it serves, unix://PATH.
	Host string

	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
}

// Command is what to run and where its output goes.
type Command struct {
	Name    string // as Process.Name
	Host    string // as Process.Host
	LogPath string // the daemon's output is appended here
	Env     []string
	Path    string
	Args    []string
}

// Start runs the command and waits until the daemon answers a ping at its Host, it exits, or timeout passes.
func Start(c Command, timeout time.Duration) (*Process, error) {
	logFile, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// The child has its own copy of the descriptor.
	defer logFile.Close()
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Name, err)
	}
	p := &Process{Name: c.Name, Host: c.Host, logPath: c.LogPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitAnswers(timeout); err != nil {
		_ = p.Stop(timeout)
		return nil, err
	}
	return p, nil
}

// Running tells whether the process runs; a nil Process does not.
func (p *Process) Running() bool {
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits until the process has exited, killing it if it does not within timeout.
func (p *Process) Stop(timeout time.Duration) error {
	if !p.Running() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("%s at %s did not stop within %v of SIGTERM; killed\n%s", p.Name, p.Host, timeout, p.LogTail())
}

// waitAnswers pings the daemon until it answers, it exits, or timeout passes.
func (p *Process) waitAnswers(timeout time.Duration) error {
	cli, err := client.NewClientWithOpts(client.WithHost(p.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Ping(ctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case !p.Running():
			return fmt.Errorf("%s exited during start-up (%s):\n%s", p.Name, p.cmd.ProcessState, p.LogTail())
		case time.Now().After(deadline):
			return fmt.Errorf("%s did not answer at %s within %v: %v\n%s", p.Name, p.Host, timeout, err, p.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// LogTail returns the last 30 lines of the daemon's log, for failure messages.
func (p *Process) LogTail() string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}
