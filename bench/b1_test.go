package bench

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// history is the container of B1 (and of B3's planned rotations): -lines lines of ~100 B written at once, then
// 10 lines/s, as a long-lived service with a long log.
var history = struct {
	sync.Mutex
	byHost map[string][3]string // engine -> id, name, json-file
}{byHost: map[string][3]string{}}

func historyContainer(t *testing.T, cli *client.Client) (id, name, logPath string) {
	t.Helper()
	history.Lock()
	defer history.Unlock()
	if h, ok := history.byHost[cli.DaemonHost()]; ok {
		return h[0], h[1], h[2]
	}
	name = fmt.Sprintf("bench-%d-history", time.Now().Unix())
	id = startGen(t, cli, name, nil, "-burst", strconv.Itoa(*flagLines), "-size", "100", "-rate", "10")
	began := time.Now()
	eventually(t, 20*time.Minute, time.Second, "the history to be written", func() (bool, string) {
		_, seq := lastLine(t, cli, id)
		return seq >= *flagLines-1, fmt.Sprintf("last seq %d", seq)
	})
	t.Logf("history of %d lines written in %v", *flagLines, time.Since(began).Round(time.Second))
	info, err := cli.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	history.byHost[cli.DaemonHost()] = [3]string{id, name, info.LogPath}
	return id, name, info.LogPath
}

// reading is one reader's figures on the history.
type reading struct {
	what          string
	lines         int64
	wall          time.Duration
	cpu, daemon   time.Duration
	hasCPU        bool
	rss           int64
	notes         string
	rate          float64
	usPerLine     float64
	daemonPerLine float64
}

// background is the daemon's CPU per second with no reader, measured before B1's readers.
var background float64

func (r *reading) finish() {
	r.daemon -= time.Duration(background * r.wall.Seconds() * float64(time.Second))
	r.rate = float64(r.lines) / r.wall.Seconds()
	r.usPerLine = float64(r.cpu.Nanoseconds()) / 1e3 / float64(r.lines)
	r.daemonPerLine = float64(r.daemon.Nanoseconds()) / 1e3 / float64(r.lines)
}

// runProcess times a reference reader to its end: wall, its own CPU (rusage) and the daemon's.
// Its stdout goes to a counter of newlines, or is parsed as the count when the reader prints one.
func runProcess(t *testing.T, daemon int, what string, cmd *exec.Cmd, printsCount bool) reading {
	t.Helper()
	out := &lineCounter{keep: printsCount}
	cmd.Stdout = out
	d0, _ := procCPU(daemon)
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	d1, _ := procCPU(daemon)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	lines := out.n
	if printsCount {
		lines, _ = strconv.ParseInt(strings.TrimSpace(string(out.kept)), 10, 64)
	}
	r := reading{what: what, lines: lines, wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), daemon: d1 - d0, hasCPU: true}
	r.finish()
	return r
}

const b1DockerLogs = `
receivers:
  docker_logs:
    start_at: beginning
    include:
      names: [%q]
`

// b1NoCompression sends the export requests uncompressed.
const b1NoCompression = `
exporters:
  otlp_http:
    compression: none
`

// b1LogFiles is docker_logs reading the json-file from its files (log_files), the directory being the daemon's own.
const b1LogFiles = `
receivers:
  docker_logs:
    start_at: beginning
    include:
      names: [%q]
    log_files:
      enabled: true
      directory: %q
`

const b1FileLog = `
receivers:
  file_log:
    include: [%q]
    start_at: beginning
    operators:
      - type: container
        format: docker
        add_metadata_from_filepath: false
service:
  pipelines:
    logs:
      receivers: [file_log]
`

// TestB1 reads one container's history of -lines lines with docker logs, the minimal client, the distribution
// as shipped (docker_logs), the same distribution with file_log + container parser, and docker_logs reading the
// json-file from its files (log_files), one after the other.
func TestB1(t *testing.T) {
	benchEnabled(t)
	cli := benchEngine(t)
	id, name, logPath := historyContainer(t, cli)
	daemon, err := daemonPID(cli.DaemonHost())
	if err != nil {
		t.Fatal(err)
	}
	// The daemon's CPU with no reader (the container's 10 lines/s, and whatever else uses the engine) is taken off
	// each reader's figure.
	i0 := must(procCPU(daemon))
	time.Sleep(10 * time.Second)
	idle := (must(procCPU(daemon)) - i0).Seconds() / 10
	background = idle
	lines := int64(*flagLines)
	dockerLogs := func() reading {
		cmd := exec.Command("docker", "logs", "--timestamps", id)
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+cli.DaemonHost())
		return runProcess(t, daemon, "`docker logs --timestamps`", cmd, false)
	}
	var rs []reading
	rs = append(rs, dockerLogs())
	minc := exec.Command(built(t, "./bench/minclient"), id)
	minc.Env = append(os.Environ(), "DOCKER_HOST="+cli.DaemonHost())
	rs = append(rs, runProcess(t, daemon, "minimal client (official client + `stdcopy`, counting lines)", minc, true))
	for _, r := range rs {
		if r.lines < lines {
			t.Fatalf("%s read %d lines, want %d", r.what, r.lines, lines)
		}
	}

	dir := t.TempDir()
	profPath := filepath.Join(workDir(t), "b1-docker_logs.pprof")
	profFor := min(max(rs[0].wall*3/2, 5*time.Second), time.Minute)
	shipped := writeFile(t, dir, "docker_logs.yaml", fmt.Sprintf(b1DockerLogs, name))
	rs = append(rs, collectorRead(t, cli, daemon, "distribution as shipped: `docker_logs` -> `memory_limiter` -> `otlp_http` (disk queue)",
		nil, []string{shipped}, lines, profPath, profFor))
	rs = append(rs, collectorRead(t, cli, daemon, "same distribution: `file_log` + `container` parser on the json-file, same pipeline",
		nil, []string{writeFile(t, dir, "file_log.yaml", fmt.Sprintf(b1FileLog, logPath))}, lines, "", 0))
	// The daemon's containers directory, as the collector (a process on this host) sees it.
	containersDir := filepath.Dir(filepath.Dir(logPath))
	rs = append(rs, collectorRead(t, cli, daemon, "same distribution: `docker_logs` with `log_files` (the json-file read from its files), same pipeline",
		nil, []string{writeFile(t, dir, "log_files.yaml", fmt.Sprintf(b1LogFiles, name, containersDir))}, lines, "", 0))
	// What two parts of the shipped pipeline cost, each taken away alone: gzip, and the garbage collector's pace.
	rs = append(rs, collectorRead(t, cli, daemon, "as shipped, but `compression: none` on `otlp_http`",
		nil, []string{shipped, writeFile(t, dir, "nogzip.yaml", b1NoCompression)}, lines, "", 0))
	rs = append(rs, collectorRead(t, cli, daemon, "as shipped, but with `GOGC=200` in the collector's environment",
		map[string]string{"GOGC": "200"}, []string{shipped}, lines, "", 0))
	// A baseline build reads the same history with the same configuration, for a ratio measured in this run.
	base := baselineBuild(t)
	if base.bin != "" {
		rs = append(rs, collectorReadBin(t, base, cli, daemon, "baseline "+base.label+", as shipped", nil, []string{shipped}, lines, "", 0))
	}
	rs = append(rs, dockerLogs())
	last := rs[len(rs)-1]
	if last.lines < lines {
		t.Fatalf("docker logs read %d lines, want %d", last.lines, lines)
	}

	dl := reading{rate: (rs[0].rate + last.rate) / 2, daemonPerLine: (rs[0].daemonPerLine + last.daemonPerLine) / 2}
	col, mc, fl, lf, noGzip, gogc := rs[2], rs[1], rs[3], rs[4], rs[5], rs[6]
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["B1"], runContext(cli))
	fmt.Fprintf(&b, "One container holding %d lines of ~100 B (json-file, %.0f MiB), read from its first line by each reader in turn.\n"+
		"`docker logs` ran first and last; its figure in the ratios is the mean of the two. The collector's wall time runs from\n"+
		"its process start to the last record in the sink (start-up and the exporter's batch timeout included). dockerd\n"+
		"CPU is net of its CPU with no reader, %.3f CPU-s/s measured over 10 s before (times each reader's wall time).\n\n",
		lines, fileMiB(logPath), background)
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| collector rate >= 0.9x `docker logs` | %.2fx (%.0f vs %.0f lines/s) | %s |\n", col.rate/dl.rate, col.rate, dl.rate, yes(col.rate/dl.rate >= 0.9))
	fmt.Fprintf(&b, "| collector CPU per line <= 1.3x minimal client | %.2fx (%.2f vs %.2f us/line) | %s |\n", col.usPerLine/mc.usPerLine, col.usPerLine, mc.usPerLine, yes(col.usPerLine/mc.usPerLine <= 1.3))
	fmt.Fprintf(&b, "| dockerd CPU per line <= `docker logs`' | %.2fx (%.2f vs %.2f us/line) | %s |\n", col.daemonPerLine/dl.daemonPerLine, col.daemonPerLine, dl.daemonPerLine, yes(col.daemonPerLine <= dl.daemonPerLine))
	lfHost, flHost := lf.usPerLine+lf.daemonPerLine, fl.usPerLine+fl.daemonPerLine
	fmt.Fprintf(&b, "| direct file path (`log_files`): host CPU per line <= `file_log`'s | %.2fx (%.2f vs %.2f us/line) | %s |\n\n", lfHost/flHost, lfHost, flHost, yes(lfHost <= flHost))
	b.WriteString("| reader | lines | wall | rate | vs `docker logs` | reader CPU | reader CPU/line | dockerd CPU | dockerd CPU/line | RSS |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		rss := ""
		if r.rss > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(r.rss)/(1<<20))
		}
		fmt.Fprintf(&b, "| %s | %d | %.2f s | %.0f/s | %.2fx | %.2f s | %.2f us | %.2f s | %.2f us | %s |\n",
			r.what, r.lines, r.wall.Seconds(), r.rate, r.rate/dl.rate, r.cpu.Seconds(), r.usPerLine, r.daemon.Seconds(), r.daemonPerLine, rss)
	}
	fmt.Fprintf(&b, "\n`file_log` costs the daemon nothing for reading (what is left of its dockerd CPU is noise); per line of the host\n"+
		"(collector + dockerd): `docker_logs` %.2f us, `docker_logs` with `log_files` %.2f us, `file_log` %.2f us, minimal client %.2f us.\n\n",
		col.usPerLine+col.daemonPerLine, lfHost, flHost, mc.usPerLine+mc.daemonPerLine)
	fmt.Fprintf(&b, "Taken away one at a time from the shipped pipeline: gzip costs the collector %.2f us/line (%.0f%% of its CPU per line),\n"+
		"the garbage collector's default pace %.2f us/line over `GOGC=200` (%.0f%%), with peak RSS %.0f MiB at `GOGC=200` against %.0f MiB.\n\n",
		col.usPerLine-noGzip.usPerLine, 100*(col.usPerLine-noGzip.usPerLine)/col.usPerLine,
		col.usPerLine-gogc.usPerLine, 100*(col.usPerLine-gogc.usPerLine)/col.usPerLine, float64(gogc.rss)/(1<<20), float64(col.rss)/(1<<20))
	if base.bin != "" {
		bl := rs[7]
		fmt.Fprintf(&b, "Against the baseline (%s) in this run: collector CPU per line %.2f vs %.2f us (%.2fx), rate %.0f vs %.0f lines/s (%.2fx),\n"+
			"dockerd CPU per line %.2f vs %.2f us (%.2fx).\n\n", base.label, col.usPerLine, bl.usPerLine, col.usPerLine/bl.usPerLine,
			col.rate, bl.rate, col.rate/bl.rate, col.daemonPerLine, bl.daemonPerLine, col.daemonPerLine/bl.daemonPerLine)
	}
	b.WriteString(profileSection(t, profPath, profFor))
	setSection("B1", b.String())
	fmt.Print(b.String())
}

// collectorRead runs the distribution with the shipped configuration and overlays, and env added to its
// environment, until the sink holds lines records, profiling it for profFor into profPath when set.
func collectorRead(t *testing.T, cli *client.Client, daemon int, what string, env map[string]string, overlays []string, lines int64, profPath string, profFor time.Duration) reading {
	t.Helper()
	return collectorReadBin(t, baseline{bin: distBinary(t), config: shippedConfig(t)}, cli, daemon, what, env, overlays, lines, profPath, profFor)
}

// collectorReadBin is collectorRead with another build of the distribution and its shipped configuration.
func collectorReadBin(t *testing.T, build baseline, cli *client.Client, daemon int, what string, env map[string]string, overlays []string, lines int64, profPath string, profFor time.Duration) reading {
	t.Helper()
	s := startSink(t, false)
	d0, _ := procCPU(daemon)
	vars := map[string]string{"DOCKER_HOST": cli.DaemonHost(), "LOKI_ENDPOINT": s.URL, "OTELCOL_STORAGE_DIR": filepath.Join(t.TempDir(), "storage")}
	maps.Copy(vars, env)
	c := startCollectorBin(t, build.bin, "b1", vars, append([]string{build.config}, overlays...)...)
	profiled := make(chan error, 1)
	profiling := false
	var rss int64
	eventually(t, 20*time.Minute, 10*time.Millisecond, what+": every line in the sink", func() (bool, string) {
		c.alive(t)
		n := s.records.Load()
		if profPath != "" && !profiling && n > 0 {
			profiling = true
			go func() { profiled <- c.profile(profFor, profPath) }()
		}
		if m, err := procRSS(c.pid); err == nil && m > rss {
			rss = m
		}
		return n >= lines, fmt.Sprintf("%d records", n)
	})
	wall := time.Since(c.started)
	cpu := c.cpu(t)
	d1, _ := procCPU(daemon)
	if profiling {
		if err := <-profiled; err != nil {
			t.Errorf("profile: %v", err)
		}
	}
	c.stop(t)
	r := reading{what: what, lines: s.records.Load(), wall: wall, cpu: cpu, daemon: d1 - d0, rss: rss, hasCPU: true}
	r.finish()
	return r
}

// profileSection renders the top entries of the collector's CPU profile.
func profileSection(t *testing.T, path string, d time.Duration) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CPU profile of the collector (`docker_logs` run), %v from its first record in the sink\n"+
		"(`pprof` extension; file `.cache/bench/%s`; `go tool pprof -top` on it, long generic names cut):\n\n", d.Round(time.Second), filepath.Base(path))
	for _, mode := range [][]string{{"-top", "-nodecount=20"}, {"-top", "-cum", "-nodecount=25"}} {
		out, err := exec.Command("go", append([]string{"tool", "pprof"}, append(mode, path)...)...).Output()
		if err != nil {
			fmt.Fprintf(&b, "(go tool pprof %s: %v)\n\n", strings.Join(mode, " "), err)
			continue
		}
		b.WriteString("```\n" + trimPprof(string(out)) + "```\n\n")
	}
	return b.String()
}

// trimPprof drops pprof's preamble lines about the file and build.
func trimPprof(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		if len(l) > 160 {
			l = l[:157] + "..."
		}
		if l != "" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n") + "\n"
}

func fileMiB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / (1 << 20)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// lineCounter counts the newlines written to it, keeping the bytes when asked.
type lineCounter struct {
	n    int64
	keep bool
	kept []byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += int64(bytes.Count(p, []byte{'\n'}))
	if c.keep {
		c.kept = append(c.kept, p...)
	}
	return len(p), nil
}
