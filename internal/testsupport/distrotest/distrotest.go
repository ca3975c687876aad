// Package distrotest helps tests that run the built distribution (bin/otelcol-dockerlogs) with the shipped
// configuration: where the module is, and an overlay that moves the configuration's fixed ports.
package distrotest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot is the directory of go.mod above the test's working directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// PortsOverlay is a configuration overlay that moves the shipped configuration's fixed listening ports (health
// check :13133, pprof :1777, metrics :8888) to the given ones on 127.0.0.1, so that a collector runs beside any
// other on the machine.
func PortsOverlay(health, pprof, metrics int) string {
	return fmt.Sprintf(`
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
  pprof:
    endpoint: 127.0.0.1:%d
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
`, health, pprof, metrics)
}
