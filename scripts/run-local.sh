#!/usr/bin/env bash
# Runs bin/otelcol-dockerlogs with collector-config.yaml and a console view against the engine at DOCKER_HOST: what `make run` does,
# through scripts/with-docker.sh (which starts a private dockerd when no engine answers).
#
# When the engine has no running container (a private engine starts empty), a demo container is started first
# so there is something on the console: otelcol-dockerlogs-demo, from the loggen test program imported as a
# FROM scratch image, printing "demo seq=N stream=stdout|stderr" twice a second. It is removed when the
# collector stops. Set DEMO=0 to never start it, DEMO=1 to always start it.
#
# Environment: LOKI_ENDPOINT (optional, see collector-config.yaml), OTELCOL_STORAGE_DIR (default .cache/run/storage).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "run-local.sh: $*" >&2; }

bin=bin/otelcol-dockerlogs
[ -x "$bin" ] || { say "$bin is missing: run make otelcol (make run does)"; exit 1; }
: "${DOCKER_HOST:=unix:///var/run/docker.sock}"
export DOCKER_HOST
export OTELCOL_STORAGE_DIR=${OTELCOL_STORAGE_DIR:-$PWD/.cache/run/storage}
mkdir -p "$OTELCOL_STORAGE_DIR"

demo_name=otelcol-dockerlogs-demo
demo_image=otelcol-dockerlogs-demo:latest
demo_started=

# build_demo_image builds the static loggen binary and imports it as a one-file image, as internal/testsupport/dockertest does.
build_demo_image() {
	local dir status=0
	dir=$(mktemp -d)
	{
		CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$dir/loggen" ./internal/testsupport/loggen &&
			tar -C "$dir" -cf - loggen |
			docker import -c 'ENTRYPOINT ["/loggen"]' -c 'LABEL otelcol-dockerlogs.demo=1' \
				-m "loggen demo for make run" - "$demo_image" >/dev/null
	} || status=$?
	rm -rf "$dir"
	return "$status"
}

running=$(docker ps -q | wc -l)
if [ "${DEMO:-auto}" = 1 ] || { [ "${DEMO:-auto}" = auto ] && [ "$running" -eq 0 ]; }; then
	if ! docker image inspect "$demo_image" >/dev/null 2>&1; then
		say "building the demo image $demo_image (loggen)"
		build_demo_image
	fi
	docker rm -f "$demo_name" >/dev/null 2>&1 || true
	docker run -d --rm --name "$demo_name" --network none --label otelcol-dockerlogs.demo=1 \
		"$demo_image" -rate 2 -streams both -prefix demo >/dev/null
	demo_started=1
	say "the engine ran no container: started $demo_name (removed on exit); its lines appear below"
else
	say "$running container(s) running on the engine; their new lines appear below"
fi

# The shipped configuration, plus a console view (deploy/run/console.yaml) so there is something to watch.
say "collector: $bin --config collector-config.yaml --config deploy/run/console.yaml (engine $DOCKER_HOST, Loki ${LOKI_ENDPOINT:-http://localhost:3100, absent is fine}); Ctrl-C stops"
status=0
"$bin" --config collector-config.yaml --config deploy/run/console.yaml --feature-gates=+extension.healthcheck.useComponentStatus &
collector=$!
trap 'kill -TERM $collector 2>/dev/null || true' INT TERM HUP
wait "$collector" || status=$?
# A trapped signal interrupts wait; wait again until the collector has shut down.
while kill -0 "$collector" 2>/dev/null; do
	wait "$collector" || status=$?
done
if [ -n "$demo_started" ]; then
	docker rm -f "$demo_name" >/dev/null 2>&1 || true
fi
# The collector ends with 0 on SIGTERM or SIGINT; 130/143 are what a killed wait reports.
case $status in 130 | 143) status=0 ;; esac
exit "$status"
