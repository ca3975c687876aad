package distrotest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestModuleRootHoldsGoMod(t *testing.T) {
	_, err := os.Stat(filepath.Join(ModuleRoot(t), "go.mod"))
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(ModuleRoot(t), "collector-config.yaml"))
}

// TestPortsOverlayMovesEachListener parses the overlay and finds the three ports where the shipped
// configuration has its listeners.
func TestPortsOverlayMovesEachListener(t *testing.T) {
	var cfg struct {
		Extensions struct {
			HealthCheck struct{ Endpoint string } `yaml:"health_check"`
			Pprof       struct{ Endpoint string }
		}
		Service struct {
			Telemetry struct {
				Metrics struct {
					Readers []struct {
						Pull struct {
							Exporter struct {
								Prometheus struct {
									Host string
									Port int
								}
							}
						}
					}
				}
			}
		}
	}
	require.NoError(t, yaml.Unmarshal([]byte(PortsOverlay(1, 2, 3)), &cfg))
	assert.Equal(t, "127.0.0.1:1", cfg.Extensions.HealthCheck.Endpoint)
	assert.Equal(t, "127.0.0.1:2", cfg.Extensions.Pprof.Endpoint)
	require.Len(t, cfg.Service.Telemetry.Metrics.Readers, 1)
	prom := cfg.Service.Telemetry.Metrics.Readers[0].Pull.Exporter.Prometheus
	assert.Equal(t, "127.0.0.1", prom.Host)
	assert.Equal(t, 3, prom.Port)
}
