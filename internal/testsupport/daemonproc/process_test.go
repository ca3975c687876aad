package daemonproc

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStartReportsADaemonThatExits runs a command that exits at once: the error says so and quotes its log.
func TestStartReportsADaemonThatExits(t *testing.T) {
	dir := t.TempDir()
	p, err := Start(Command{
		Name: "test daemon", Host: "unix://" + filepath.Join(dir, "none.sock"), LogPath: filepath.Join(dir, "log"),
		Path: "/bin/sh", Args: []string{"-c", "echo cannot start: no config; exit 3"},
	}, time.Minute)
	require.Error(t, err)
	assert.Nil(t, p)
	assert.Contains(t, err.Error(), "test daemon exited during start-up (exit status 3)")
	assert.Contains(t, err.Error(), "cannot start: no config")
}

// TestStartStopsADaemonThatNeverAnswers runs a command that never serves its socket: after the timeout the error
// names the socket and the process is gone (goleak checks that its waiter ended).
func TestStartStopsADaemonThatNeverAnswers(t *testing.T) {
	dir := t.TempDir()
	host := "unix://" + filepath.Join(dir, "none.sock")
	p, err := Start(Command{
		Name: "test daemon", Host: host, LogPath: filepath.Join(dir, "log"),
		Path: "/bin/sh", Args: []string{"-c", "echo listening nowhere; exec sleep 600"},
	}, 300*time.Millisecond)
	require.Error(t, err)
	assert.Nil(t, p)
	assert.Contains(t, err.Error(), "test daemon did not answer at "+host)
	assert.Contains(t, err.Error(), "listening nowhere")
}

// TestStopOfNothingIsNoError stops a process that never started.
func TestStopOfNothingIsNoError(t *testing.T) {
	var p *Process
	assert.False(t, p.Running())
	assert.NoError(t, p.Stop(time.Second))
}
