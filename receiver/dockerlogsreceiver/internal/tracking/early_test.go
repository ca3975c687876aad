package tracking

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

func TestStreamIsTTY(t *testing.T) {
	for _, tc := range []struct {
		first   byte
		tty     bool
		wantErr bool
	}{
		{'2', true, false}, // "2026-12-07T..."
		{'0', true, false},
		{'9', true, false},
		{1, false, false}, // stdout frame
		{2, false, false}, // stderr frame
		{3, false, false}, // in-band error frame
		{0, false, true},
		{'{', false, true},
		{'T', false, true},
	} {
		tty, err := streamIsTTY(tc.first)
		if tc.wantErr {
			require.Error(t, err, "byte %#x", tc.first)
			continue
		}
		require.NoError(t, err, "byte %#x", tc.first)
		require.Equal(t, tc.tty, tty, "byte %#x", tc.first)
	}
}

// TestTTYToldByTheStreamsFirstBytes checks the rule of streamIsTTY against the engine: the stream of a removed
// container with a TTY and of one without, read through a parked stream the way track reads them.
func TestTTYToldByTheStreamsFirstBytes(t *testing.T) {
	cli := dockertest.Engine(t)
	client := engineClient(t)
	for _, tty := range []bool{true, false} {
		id := dockertest.StartContainer(t, cli, dockertest.ContainerSpec{TTY: tty, Cmd: []string{"-count", "10", "-streams", "both"}})
		dockertest.WaitExit(t, cli, id, time.Minute)
		early := newEarlyStreams()
		early.open(context.Background(), id, dockerLogsSince(0), 1, client.Logs)
		got, err := early.tty(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, tty, got, "container with tty %v", tty)
		body, ok, err := early.take(context.Background(), id, dockerLogsSince(0))
		require.True(t, ok)
		require.NoError(t, err)
		// The bytes peeked at are read again: every line arrives.
		all, err := io.ReadAll(body)
		require.NoError(t, err)
		require.NoError(t, body.Close())
		require.Equal(t, 10, strings.Count(string(all), "loggen seq="), "%q", all)
		early.stop()
	}
}
