package bench

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// b7Recipes are the processor recipes of recipes/ whose cost per line B7 measures.
var b7Recipes = []string{"mask-secrets.yaml", "drop-health-checks.yaml", "deployment-environment.yaml", "warn-and-above.yaml", "rename-attributes.yaml"}

// TestB7 reads B1's history container with the shipped configuration, then with each processor recipe added,
// one after the other, and states what each recipe adds to the collector's CPU per line. The history's lines
// are plain text that no recipe drops or rewrites, so every line still reaches the sink: the figure is what a
// line costs to be looked at.
func TestB7(t *testing.T) {
	benchEnabled(t)
	cli := benchEngine(t)
	_, name, _ := historyContainer(t, cli)
	daemon, err := daemonPID(cli.DaemonHost())
	if err != nil {
		t.Fatal(err)
	}
	lines := int64(*flagLines)
	dir := t.TempDir()
	shipped := writeFile(t, dir, "docker_logs.yaml", fmt.Sprintf(b1DockerLogs, name))
	root := filepath.Dir(shippedConfig(t))
	base := collectorRead(t, cli, daemon, "as shipped", nil, []string{shipped}, lines, "", 0)
	rs := []reading{base}
	for _, recipe := range b7Recipes {
		rs = append(rs, collectorRead(t, cli, daemon, "as shipped + `recipes/"+recipe+"`", nil,
			[]string{filepath.Join(root, "recipes", recipe), shipped}, lines, "", 0))
	}
	again := collectorRead(t, cli, daemon, "as shipped, again", nil, []string{shipped}, lines, "", 0)
	rs = append(rs, again)
	ref := (base.usPerLine + again.usPerLine) / 2
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sectionTitles["B7"], runContext(cli))
	fmt.Fprintf(&b, "B1's history container (%d lines of ~100 B) read from its first line by the distribution as shipped, then with\n"+
		"each processor recipe of `recipes/` added, then as shipped again; the reference is the mean of the two shipped runs.\n"+
		"No line of the history matches a recipe's pattern, so all of them reach the sink: the figure is the cost of looking.\n\n", lines)
	b.WriteString("| run | lines | wall | collector CPU/line | added per line | RSS |\n|---|---|---|---|---|---|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %d | %.2f s | %.2f us | %+.2f us | %.0f MiB |\n", r.what, r.lines, r.wall.Seconds(), r.usPerLine, r.usPerLine-ref, float64(r.rss)/(1<<20))
	}
	b.WriteString("\n")
	setSection("B7", b.String())
	fmt.Print(b.String())
}
