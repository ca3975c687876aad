// Package e2e tests the otelcol-dockerlogs distribution end to end: the ocb-built binary, the FROM scratch
// image running against a real Docker engine, a real log store (VictoriaLogs, over OTLP/HTTP) and the compose file.
//
// The tests build what they need with make (`make image victoria-logs`), skip with -short, and skip without a
// Docker engine except under CI=true, where they fail. Run them with `make test` or
// `scripts/with-docker.sh go test -race -count=1 ./e2e/...`.
package e2e
