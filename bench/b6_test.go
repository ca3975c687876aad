package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/distrotest"
	"github.com/otelcol-dockerlogs/otelcol-dockerlogs/internal/testsupport/dockertest"
)

// b6Agent reads each agent's containers from their start; the records carry their engine's docker.engine.id (and
// host.name, alike here: both engines run on one machine).
const b6Agent = `
receivers:
  docker_logs:
    start_at: beginning
    include:
      names: [%q]
`

// b6GatewayPort moves the gateway overlay of deploy/swarm/gateway.yaml from 0.0.0.0:4318 to a free local port.
const b6GatewayPort = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
`

// TestB6 runs two engines (the shared one and a private dockerd), one agent per engine, both sending OTLP/HTTP
// to one gateway collector that exports to the sink: every line of every container of both engines, once.
func TestB6(t *testing.T) {
	benchEnabled(t)
	cliA := benchEngine(t)
	priv := dockertest.StartDaemon(t, dockertest.DaemonOptions{})
	cliB := priv.Client(t)
	// The private daemon removes its containers itself when it stops.
	t.Cleanup(func() { forget(cliB) })
	engines := []struct {
		host string
		cli  *client.Client
		id   string
	}{{"engine-a", cliA, engineID(t, cliA)}, {"engine-b", cliB, engineID(t, cliB)}}
	n, d := *flagB6Containers, *flagB6Duration
	prefix := fmt.Sprintf("bench-%d-hosts-", time.Now().Unix())
	s := startSink(t, true)
	gwPort := freePort(t)
	gw := startCollector(t, "gateway", map[string]string{"DOCKER_HOST": cliA.DaemonHost(), "LOKI_ENDPOINT": s.URL,
		"OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")}, shippedConfig(t),
		filepath.Join(distrotest.ModuleRoot(t), "deploy", "swarm", "gateway.yaml"), writeFile(t, t.TempDir(), "gw.yaml", fmt.Sprintf(b6GatewayPort, gwPort)))
	gw.waitHealthy(t)
	ids := map[string]map[string]string{}
	agents := map[string]*collector{}
	began := time.Now()
	for _, e := range engines {
		ids[e.host] = startFleet(t, e.cli, prefix+e.host+"-", n, nil, "-rate", "20", "-both")
		// As in deploy/: the agent's LOKI_ENDPOINT is the gateway, which serves the path the exporter posts to.
		agents[e.host] = startCollector(t, "agent-"+e.host, map[string]string{"DOCKER_HOST": e.cli.DaemonHost(),
			"LOKI_ENDPOINT": fmt.Sprintf("http://127.0.0.1:%d", gwPort), "OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")},
			shippedConfig(t), writeFile(t, t.TempDir(), "agent.yaml", fmt.Sprintf(b6Agent, prefix+"*")))
	}
	time.Sleep(time.Until(began.Add(d)))
	cut := time.Now()
	type want struct {
		host, key string
		n         int
	}
	var wants []want
	for _, e := range engines {
		for name, id := range ids[e.host] {
			wants = append(wants, want{e.host, name, linesUntil(t, e.cli, id, cut)})
		}
	}
	eventually(t, 3*time.Minute, time.Second, "every line of both engines up to the cut in the sink", func() (bool, string) {
		gw.alive(t)
		missing := 0
		for _, w := range wants {
			missing += s.tally(w.key, 0, w.n).missing
		}
		return missing == 0, fmt.Sprintf("%d missing", missing)
	})
	per := map[string]*tally{}
	for _, w := range wants {
		r := s.tally(w.key, 0, w.n)
		if per[w.host] == nil {
			per[w.host] = &tally{}
		}
		p := per[w.host]
		p.want, p.missing, p.dups = p.want+r.want, p.missing+r.missing, p.dups+r.dups
	}
	// Records that reached the sink without their engine's docker.engine.id, or with another's.
	var stray []string
	for _, e := range engines {
		for name := range ids[e.host] {
			if got := s.enginesOf(name); len(got) != 1 || got[0] != e.id {
				stray = append(stray, fmt.Sprintf("%s: engine ids %v, want %s", name, got, e.id))
			}
		}
	}
	sort.Strings(stray)
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["B6"], runContext(cliA))
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	ok := len(stray) == 0
	var parts []string
	for _, e := range engines {
		p := per[e.host]
		ok = ok && p.missing == 0 && p.dups == 0
		parts = append(parts, fmt.Sprintf("%s: %d lines of %d containers, %d missing, %d duplicated", e.host, p.want, n, p.missing, p.dups))
	}
	fmt.Fprintf(&b, "| both hosts complete, once each | %s; records without their host: %d | %s |\n\n", strings.Join(parts, "; "), len(stray), yes(ok))
	fmt.Fprintf(&b, "Two engines on one machine: the benchmark's engine and a second, private `dockerd` (`dockertest.StartDaemon`: its own socket, data\n"+
		"and exec roots). One agent per engine (`bin/otelcol-dockerlogs`, shipped configuration, `otlp_http` pointed at the\n"+
		"gateway through `LOKI_ENDPOINT`), one gateway (the shipped configuration plus `deploy/swarm/gateway.yaml`: the `otlp`\n"+
		"receiver on HTTP instead of `docker_logs`, its disk queue exporting to the sink). %d containers per engine writing 20 lines/s for %v; every line each wrote up\n"+
		"to the cut checked in the sink by container. The hosts are told apart by `docker.engine.id`, which the receiver\n"+
		"reads from each engine's `/info` (`host.name` too, the same for both engines here: they run on one machine); every\n"+
		"container's records must carry its own engine's ID (see [deploy.md](deploy.md)).\n\n", n, d)
	b.WriteString("| process | CPU |\n|---|---|\n")
	for _, e := range engines {
		c := agents[e.host]
		fmt.Fprintf(&b, "| agent %s | %.2f s |\n", e.host, c.cpu(t).Seconds())
	}
	fmt.Fprintf(&b, "| gateway | %.2f s |\n\n", gw.cpu(t).Seconds())
	setSection("B6", b.String())
	fmt.Print(b.String())
	if !ok {
		t.Errorf("B6: %s; stray keys %v", strings.Join(parts, "; "), stray)
	}
}

// forget drops an engine's containers from the run's removal list.
func forget(cli *client.Client) {
	started.Lock()
	defer started.Unlock()
	delete(started.ids, cli)
}

// engineID returns the engine's ID, which the receiver sets as docker.engine.id.
func engineID(t *testing.T, cli *client.Client) string {
	t.Helper()
	info, err := cli.Info(context.Background())
	if err != nil {
		t.Fatalf("engine info: %v", err)
	}
	return info.ID
}
