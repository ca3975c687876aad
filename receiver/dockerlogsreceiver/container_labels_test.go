package dockerlogsreceiver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/receiver/dockerlogsreceiver/internal/selection"
)

// TestEnabledLabelOptsContainersInAndOut runs four writing containers that the include rules all select, labelled
// io.otelcol.docker_logs.enabled false, true, not at all and "maybe", and checks which ones are read: by default
// every one but false (maybe is ignored); with include_by_label_only, only true.
func TestEnabledLabelOptsContainersInAndOut(t *testing.T) {
	cli := dockertest.Engine(t)
	suffix := fmt.Sprint(time.Now().UnixNano() % 1_000_000_000)
	run := func(name string, labels map[string]string) string {
		return dockertest.StartContainer(t, cli, dockertest.ContainerSpec{Name: name + "-" + suffix, Cmd: []string{"-rate", "50"}, Labels: labels})
	}
	off := run("optin-off", map[string]string{enabledLabel: "false"})
	on := run("optin-on", map[string]string{enabledLabel: "true"})
	plain := run("optin-plain", nil)
	maybe := run("optin-maybe", map[string]string{enabledLabel: "maybe"})
	for _, tc := range []struct {
		name    string
		byLabel bool
		want    map[string]bool
	}{
		{"rules and the label", false, map[string]bool{off: false, on: true, plain: true, maybe: true}},
		{"include_by_label_only", true, map[string]bool{off: false, on: true, plain: false, maybe: false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Include = selection.Rules{Names: []string{"optin-*-" + suffix}}
			cfg.IncludeByLabelOnly = tc.byLabel
			sink := &collector{}
			r := startReceiver(t, cfg, sink, nil)
			// Every case reads the labelled-true container: wait for it, then long enough for the others to show.
			require.Eventually(t, func() bool { return sink.count(on) > 30 }, 2*time.Minute, 20*time.Millisecond)
			for id, read := range tc.want {
				if read {
					require.Eventually(t, func() bool { return sink.count(id) > 0 }, time.Minute, 20*time.Millisecond)
				}
			}
			require.NoError(t, r.Shutdown(context.Background()))
			for id, read := range tc.want {
				assert.Equal(t, read, sink.count(id) > 0, "container %s read", id[:12])
			}
		})
	}
}
