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

// selectionFixture is three running containers that differ by name, labels and environment.
type selectionFixture struct {
	web, db, webDev string // container IDs
	suffix          string
}

func startSelectionFixture(t *testing.T) selectionFixture {
	cli := dockertest.Engine(t)
	suffix := fmt.Sprint(time.Now().UnixNano() % 1_000_000_000)
	run := func(name string, labels map[string]string, env []string) string {
		return dockertest.StartContainer(t, cli, dockertest.ContainerSpec{
			Name: name + "-" + suffix, Cmd: []string{"-rate", "50"}, Labels: labels, Env: env,
		})
	}
	return selectionFixture{
		web:    run("sel-web", map[string]string{"team": "payments", "env": "prod"}, []string{"APP_VERSION=1.2.3", "SECRET=hunter2"}),
		db:     run("sel-db", map[string]string{"team": "platform"}, []string{"APP_VERSION=16"}),
		webDev: run("sel-web-dev", map[string]string{"team": "payments", "env": "dev"}, nil),
		suffix: suffix,
	}
}

// readWhich runs a receiver with the rules and reports which of the fixture's containers it read.
func readWhich(t *testing.T, f selectionFixture, include, exclude selection.Rules) (web, db, webDev bool) {
	t.Helper()
	cfg := testConfig()
	cfg.Include, cfg.Exclude = include, exclude
	sink := &collector{}
	r := startReceiver(t, cfg, sink, nil)
	// The rules select at least one container in every case below: wait for it, then a little longer.
	require.Eventually(t, func() bool {
		return sink.count(f.web)+sink.count(f.db)+sink.count(f.webDev) > 30
	}, 2*time.Minute, 20*time.Millisecond)
	time.Sleep(700 * time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))
	return sink.count(f.web) > 0, sink.count(f.db) > 0, sink.count(f.webDev) > 0
}

func TestSelectionRules(t *testing.T) {
	f := startSelectionFixture(t)
	for _, tc := range []struct {
		name             string
		include, exclude selection.Rules
		web, db, webDev  bool
	}{
		{"include name glob", selection.Rules{Names: []string{"sel-web*-" + f.suffix}}, selection.Rules{}, true, false, true},
		{"include name regex", selection.Rules{Names: []string{"/^sel-db-[0-9]+$/"}}, selection.Rules{}, false, true, false},
		{"include label pushed to the engine", selection.Rules{Labels: map[string]string{"team": "payments"}}, selection.Rules{}, true, false, true},
		{"include image", selection.Rules{Images: []string{dockertest.LoggenTag}, Names: []string{"sel-*-" + f.suffix}}, selection.Rules{}, true, true, true},
		{"include negated name", selection.Rules{Names: []string{"!sel-db-*"}}, selection.Rules{Names: []string{"!sel-*-" + f.suffix}}, true, false, true},
		{"exclude label", selection.Rules{Names: []string{"sel-*-" + f.suffix}}, selection.Rules{Labels: map[string]string{"env": "dev"}}, true, true, false},
		{"exclude image regex", selection.Rules{Names: []string{"sel-*-" + f.suffix}}, selection.Rules{Images: []string{"/loggen/"}, Names: []string{"x"}}, false, false, false},
		{"exclude wins over include", selection.Rules{Labels: map[string]string{"team": "payments"}}, selection.Rules{Labels: map[string]string{"env": "dev"}}, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.web && !tc.db && !tc.webDev {
				// Nothing to wait for: run briefly and check that nothing of the fixture arrived.
				cfg := testConfig()
				cfg.Include, cfg.Exclude = tc.include, tc.exclude
				sink := &collector{}
				r := startReceiver(t, cfg, sink, nil)
				time.Sleep(1500 * time.Millisecond)
				require.NoError(t, r.Shutdown(context.Background()))
				assert.Zero(t, sink.count(f.web)+sink.count(f.db)+sink.count(f.webDev))
				return
			}
			web, db, webDev := readWhich(t, f, tc.include, tc.exclude)
			assert.Equal(t, []bool{tc.web, tc.db, tc.webDev}, []bool{web, db, webDev}, "read: web, db, web-dev")
		})
	}
}

func TestRenamedContainerIsSelectedAgain(t *testing.T) {
	cli := dockertest.Engine(t)
	f := startSelectionFixture(t)
	cfg := testConfig()
	cfg.Include = selection.Rules{Names: []string{"sel-web-" + f.suffix, "sel-renamed-*"}}
	sink := &collector{}
	startReceiver(t, cfg, sink, nil)
	require.Eventually(t, func() bool { return sink.count(f.web) > 10 }, 2*time.Minute, 20*time.Millisecond)
	assert.Zero(t, sink.count(f.db))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// db comes into the selection, web falls out of it.
	require.NoError(t, cli.ContainerRename(ctx, f.db, "sel-renamed-"+f.suffix))
	require.NoError(t, cli.ContainerRename(ctx, f.web, "sel-gone-"+f.suffix))
	require.Eventually(t, func() bool { return sink.count(f.db) > 10 }, 2*time.Minute, 20*time.Millisecond)
	for _, r := range sink.of(f.db) {
		assert.Equal(t, "sel-renamed-"+f.suffix, r.name)
	}
	time.Sleep(500 * time.Millisecond)
	settled := sink.count(f.web)
	time.Sleep(time.Second)
	assert.Equal(t, settled, sink.count(f.web), "the renamed-away container is no longer read")

	// Renamed back, web resumes where it stopped: the lines written meanwhile arrive, none twice.
	require.NoError(t, cli.ContainerRename(ctx, f.web, "sel-web-"+f.suffix))
	require.Eventually(t, func() bool { return sink.count(f.web) > settled+50 }, 2*time.Minute, 20*time.Millisecond)
	seqs := seqsByStream(t, sink.of(f.web))["stdout"]
	assert.Equal(t, wantSeqs(seqs[0], seqs[0]+len(seqs), 1), seqs, "no gap and no duplicate across the two renames")
}

func TestLabelsAndEnvBecomeResourceAttributes(t *testing.T) {
	f := startSelectionFixture(t)
	cfg := testConfig()
	cfg.Include = selection.Rules{Names: []string{"sel-*-" + f.suffix}}
	cfg.ContainerLabelsToAttributes = map[string]string{"team": "team", "absent": "never"}
	cfg.EnvVarsToAttributes = map[string]string{"APP_VERSION": "app.version"}
	sink := &collector{}
	startReceiver(t, cfg, sink, nil)
	require.Eventually(t, func() bool { return sink.count(f.web) > 0 && sink.count(f.webDev) > 0 }, 2*time.Minute, 20*time.Millisecond)

	web := sink.of(f.web)[0].resource
	assert.Equal(t, "payments", web["team"])
	assert.Equal(t, "1.2.3", web["app.version"])
	assert.NotContains(t, web, "never")
	for k, v := range web {
		assert.NotContains(t, fmt.Sprint(v), "hunter2", "unmapped environment variable leaked into %s", k)
	}
	dev := sink.of(f.webDev)[0].resource
	assert.Equal(t, "payments", dev["team"])
	assert.NotContains(t, dev, "app.version", "a container without the variable gets no attribute")
}
