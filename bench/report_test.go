package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
)

// sectionOrder is the order of the sections of docs/benchmarks.md; each is rewritten only by a run that measured it.
// "notes" is written by hand (what limits a missed target) and kept as it is by every run.
// A section whose ID is not listed (a variant such as B4_api500x50) follows the listed one its ID starts with.
var sectionOrder = []string{"notes", "B1", "B3", "B4", "B5", "B5churn", "B6", "B7", "B8", "micro"}

var sections = struct {
	sync.Mutex
	text map[string]string
}{text: map[string]string{}}

// setSection records a benchmark's section of the page, written when the run ends.
func setSection(id, body string) {
	sections.Lock()
	defer sections.Unlock()
	sections.text[id] = body
}

// runContext says when, where and with which flags a section was measured.
func runContext(cli *client.Client) string {
	ver := "no engine"
	if cli != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if v, err := cli.ServerVersion(ctx); err == nil {
			ver = fmt.Sprintf("Docker %s (API %s), %s logging", v.Version, v.APIVersion, "json-file")
		}
	}
	var set []string
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "doc" && !strings.HasPrefix(f.Name, "test.") {
			set = append(set, "-"+f.Name+"="+f.Value.String())
		}
	})
	args := "defaults"
	if len(set) > 0 {
		args = "`" + strings.Join(set, " ") + "`"
	}
	return fmt.Sprintf("_Measured %s on %d CPUs, %s; flags: %s._", time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), ver, args)
}

var markerRE = regexp.MustCompile(`(?s)<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\w+ -->`)

// writeReport rewrites the page: the header from pageHeader, the sections measured by this run, and the
// sections of the page as it was for the others.
func writeReport() error {
	sections.Lock()
	defer sections.Unlock()
	if len(sections.text) == 0 {
		return nil
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		if root == filepath.Dir(root) {
			return fmt.Errorf("no go.mod above the working directory")
		}
		root = filepath.Dir(root)
	}
	path := filepath.Join(root, *flagDoc)
	old := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		for _, m := range markerRE.FindAllStringSubmatch(string(b), -1) {
			old[m[1]] = m[2]
		}
	}
	var page strings.Builder
	page.WriteString(pageHeader)
	for _, id := range pageOrder(old) {
		body, ok := sections.text[id]
		if !ok {
			body, ok = old[id]
		}
		if !ok {
			body = fmt.Sprintf("## %s\n\nNot measured yet.\n\n", sectionTitles[id])
		}
		fmt.Fprintf(&page, "<!-- bench:%s -->\n%s<!-- /bench:%s -->\n\n", id, strings.TrimRight(body, "\n")+"\n\n", id)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", path)
	return os.WriteFile(path, []byte(strings.TrimRight(page.String(), "\n")+"\n"), 0o644)
}

// pageOrder is sectionOrder with the variants measured now or on the page placed after their listed section.
func pageOrder(old map[string]string) []string {
	extra := map[string][]string{}
	seen := map[string]bool{}
	for _, src := range []map[string]string{sections.text, old} {
		for id := range src {
			if seen[id] || slices.Contains(sectionOrder, id) {
				continue
			}
			seen[id] = true
			after := ""
			for _, s := range sectionOrder {
				if strings.HasPrefix(id, s) && len(s) > len(after) {
					after = s
				}
			}
			if after == "" {
				after = sectionOrder[len(sectionOrder)-1]
			}
			extra[after] = append(extra[after], id)
		}
	}
	var out []string
	for _, id := range sectionOrder {
		out = append(out, id)
		sort.Strings(extra[id])
		out = append(out, extra[id]...)
	}
	return out
}

var sectionTitles = map[string]string{
	"B1":      "B1: throughput of the distribution as shipped",
	"B3":      "B3: reopen and restart cost",
	"B4":      "B4: many containers on few streams",
	"B5":      "B5: soak",
	"B5churn": "B5': churn soak, containers started and removed every second",
	"B6":      "B6: many hosts, one gateway",
	"B7":      "B7: what each processor recipe costs per line",
	"B8":      "B8: one noisy container beside quiet ones, with and without a read limit",
	"micro":   "Micro-benchmarks of the hot path",
	"notes":   "Where the targets stand, and what limits them",
}

// pageHeader opens docs/benchmarks.md; the sections below it are written by the benchmarks themselves.
const pageHeader = "# Benchmarks\n\n" +
	"Figures of `bin/otelcol-dockerlogs` against a real Docker engine, written by `make bench` (the code is in\n" +
	"[`bench/`](../bench)). Every figure in a section comes from one run; the machines this project runs on are\n" +
	"shared 2-core machines, so absolute times drift from run to run by up to 2x: compare the ratios measured in\n" +
	"one run. The benchmarks print figures and assert no speed; they fail only when lines are lost or a process\n" +
	"misbehaves. CPU is read from `/proc/PID/stat` (utime + stime) of the collector, the reference readers and\n" +
	"`dockerd`; on a shared engine its CPU includes whatever else ran on it at the time (`-own-engine` avoids that).\n\n" +
	"What these figures mean for a fleet (lines per core, memory per container and stream, agents and gateways):\n" +
	"[capacity.md](capacity.md).\n\n" +
	"## How to reproduce\n\n" +
	"```sh\n" +
	"make bench                                   # everything, with the defaults of the targets (about 40 minutes)\n" +
	"make bench BENCH_RUN=TestB1                  # one benchmark: TestB1, TestB3, TestB4, TestB5, TestB6, TestB7, TestB8, TestMicro\n" +
	"make bench BENCH_RUN=TestB4 BENCH_ARGS='-b4-containers=60 -b4-duration=3m'\n" +
	"make bench BENCH_RUN=TestB5 BENCH_ARGS='-b5-duration=3m'\n" +
	"make bench BENCH_RUN=TestB4 BENCH_ARGS='-b4-containers=500 -b4-streams=50'             # B4 at 500 on the API\n" +
	"make bench BENCH_RUN=TestB4 BENCH_ARGS='-b4-containers=500 -b4-streams=500 -b4-files'  # B4 at 500 on the files\n" +
	"make bench BENCH_RUN=TestB4 BENCH_ARGS='-b4-profile=60s -baseline-rev=main'             # profile, and compare with main\n" +
	"make bench BENCH_RUN=TestB5Churn BENCH_ARGS='-b5-churn'                                     # B5' churn soak, 30 minutes\n" +
	"make bench BENCH_RUN=TestB5Churn BENCH_ARGS='-b5-churn -b5-churn-containers=100'            # B5' with more containers than streams\n" +
	"```\n\n" +
	"`make bench` builds the distribution (`make otelcol`), runs `go test ./bench` with `DOCKERLOGS_BENCH=1`\n" +
	"through `scripts/with-docker.sh` (the engine at `DOCKER_HOST`, else a private `dockerd`), and rewrites the\n" +
	"sections of this page that the run measured; the others are kept. Flags (after `-args`, or in `BENCH_ARGS`):\n" +
	"`-lines` (B1, 1,000,000), `-b3-containers` (5), `-b3-history` (200,000), `-b4-containers` (200),\n" +
	"`-b4-duration` (5m), `-b5-containers` (50), `-b5-duration` (10m), `-b6-containers` (5 per engine),\n" +
	"`-b6-duration` (30s), `-own-engine` (each benchmark on a private `dockerd` of its own, so that no other user of a\n" +
	"shared engine adds to the daemon CPU measured; needs root). B4's variants: `-b4-streams` (20, `max_concurrent_streams`),\n" +
	"`-b4-files` (read the json-file files, `log_files`), `-b4-profile` (a CPU profile of that length once the start-up\n" +
	"backlog is read); a variant other than 200 containers on 20 streams of the API gets a section of its own. Comparing\n" +
	"builds in one run: `-baseline-bin=PATH` (another `otelcol-dockerlogs` binary) or `-baseline-rev=REV` (the\n" +
	"distribution of a git revision, exported with `git archive` and built with `make otelcol` into `.cache/bench/`):\n" +
	"B1 reads the history with it too, B4 runs it first on a fleet of its own, and both print the two figures and their\n" +
	"ratio. B5' (`TestB5Churn`) runs only with `-b5-churn`: `-b5-churn-containers` (50 alive; another number, such as\n" +
	"100 on the 50 streams, gets a section of its own), `-b5-churn-duration` (30m; 1h for the long soak). Collector\n" +
	"logs and the CPU profiles are left in `.cache/bench/`.\n\n" +
	"Every collector runs the shipped `collector-config.yaml` (receiver -> `memory_limiter` -> `otlp_http` with\n" +
	"its queue on disk), with the log store replaced by a local OTLP/HTTP sink that counts and checks the\n" +
	"records, plus a small overlay per benchmark (which containers, the setting under test, free ports).\n" +
	"The workload containers run `bench/benchgen`: the sequence-numbered ~100-byte lines of `loggen`, first a\n" +
	"burst of history, then a steady rate.\n\n" +
	"## Targets\n\n" +
	"| benchmark | target |\n|---|---|\n" +
	"| B1 | collector rate >= 0.9x `docker logs --timestamps`; collector CPU per line <= 1.3x the minimal client's; dockerd CPU per line <= that for `docker logs` |\n" +
	"| B3 | dockerd CPU per planned rotation <= 2% of a naive `since` reopen; after a restart, first new line within 0.5 s and dockerd CPU per container <= 2% of a naive reopen |\n" +
	"| B4 | every line once; max delivery lag <= 2x the predicted cycle; on the file path with a stream per container, p99 lag <= 2 s |\n" +
	"| B5 | goroutine slope \\|s\\| < 0.1/min; open files flat; RSS growth < 1 MiB over 10 minutes |\n" +
	"| B5' | 50 containers, one started and one removed every second: goroutines, open files, RSS and positions saved flat; every removed container whole or counted `removed_unread` |\n" +
	"| B6 | every line of both hosts' containers once, told apart by host |\n" +
	"| B7 | states what each processor recipe adds per line (no target) |\n" +
	"| B8 | with a read limit, the quiet containers' p99 delivery lag <= 2 s beside one container writing as fast as it can |\n\n"
