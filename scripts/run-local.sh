#!/usr/bin/env bash
# Runs bin/otelcol-dockerlogs with collector-config.yaml against the engine at DOCKER_HOST, next to a log store and a
# Prometheus a person can look at: what `make run` does, through scripts/with-docker.sh (which starts a private
# dockerd when no engine answers).
#
#   - Logs: without LOKI_ENDPOINT, a VictoriaLogs (VLOGS_BIN, installed by `make victoria-logs`) on
#     127.0.0.1:VLOGS_PORT receives the records over OTLP (deploy/run/victoria-logs.yaml) and shows them in its
#     web UI; with LOKI_ENDPOINT, the records go to that Loki and no store is started.
#   - Metrics: Prometheus (Debian's package, installed by scripts/tool.sh when missing and possible) on
#     127.0.0.1:PROM_PORT scrapes the collector's own metrics (127.0.0.1:8888) and evaluates the alert rules of
#     alerts/ (deploy/run/prometheus.yml). Without it the run goes on and says so.
#   - Console: every record is also printed by the debug exporter (deploy/run/console.yaml); CONSOLE=0 leaves it out.
#
# When the engine has no running container (a private engine starts empty), a demo container is started first
# so there is something to see: DEMO_NAME (default otelcol-dockerlogs-demo), from the loggen test program
# imported as a FROM scratch image, printing "demo seq=N stream=stdout|stderr" twice a second. Set DEMO=0 to
# never start it, DEMO=1 to always start it.
#
# Once the collector answers, the addresses of the logs and the metrics are printed. Ctrl-C (or SIGTERM) stops
# the collector, then Prometheus, the log store and the demo container: everything this script started.
#
# Environment: LOKI_ENDPOINT (optional, see collector-config.yaml); RUN_DIR (default .cache/run) holds the
# collector's storage (OTELCOL_STORAGE_DIR, default RUN_DIR/storage), the data of the log store and of Prometheus,
# and their logs, so a restarted run keeps its history; VLOGS_PORT (default 9428), PROM_PORT (default 9090).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "run-local.sh: $*" >&2; }
die() { say "$*"; exit 1; }

bin=bin/otelcol-dockerlogs
[ -x "$bin" ] || die "$bin is missing: run make otelcol (make run does)"
: "${DOCKER_HOST:=unix:///var/run/docker.sock}"
export DOCKER_HOST
RUN_DIR=$(mkdir -p "${RUN_DIR:-.cache/run}" && cd "${RUN_DIR:-.cache/run}" && pwd)
export OTELCOL_STORAGE_DIR=${OTELCOL_STORAGE_DIR:-$RUN_DIR/storage}
# Prometheus scrapes 127.0.0.1:8888: the collector must not listen on an address "localhost" resolves to instead.
export OTELCOL_LISTEN_HOST=${OTELCOL_LISTEN_HOST:-127.0.0.1}
export VLOGS_PORT=${VLOGS_PORT:-9428}
PROM_PORT=${PROM_PORT:-9090}
VLOGS_BIN=${VLOGS_BIN:-.cache/tools/victoria-logs-v1.52.1/victoria-logs}
mkdir -p "$OTELCOL_STORAGE_DIR"

demo_name=${DEMO_NAME:-otelcol-dockerlogs-demo}
demo_image=otelcol-dockerlogs-demo:latest
demo_started=

# The processes started here, stopped at the end in reverse order: name and pid.
started_names=()
started_pids=()
collector=

# alive tells whether pid is a running process: an exited child stays a zombie (state Z) that kill -0 still
# finds, and a process that is exiting can have a stat file that reads empty for a moment.
alive() {
	local state
	state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] && [ "$state" != Z ]
}

# stop_pid sends SIGTERM, waits up to 20 s, then sends SIGKILL; it reaps the child.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		if ! alive "$pid"; then
			wait "$pid" 2>/dev/null || true
			return 0
		fi
		sleep 0.1
	done
	say "pid $pid still running 20s after SIGTERM; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local status=$? i
	trap - INT TERM HUP
	if [ -n "$collector" ]; then
		stop_pid "$collector"
	fi
	for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
		say "stopping ${started_names[i]}"
		stop_pid "${started_pids[i]}"
	done
	if [ -n "$demo_started" ]; then
		say "removing $demo_name"
		docker rm -f "$demo_name" >/dev/null 2>&1 || true
	fi
	exit "$status"
}
trap cleanup EXIT
# While the collector runs, a signal stops it and the script goes on to clean up; before, it ends the script.
on_signal() {
	if [ -n "$collector" ]; then
		kill -TERM "$collector" 2>/dev/null || true
	else
		exit "$1"
	fi
}
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# listening tells whether something accepts TCP connections on 127.0.0.1:port.
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_listening name pid port: waits up to 60 s until the process listens on the port; fails when it exits.
wait_listening() {
	local name=$1 pid=$2 port=$3 log=${4:-} i
	for ((i = 0; i < 600; i++)); do
		listening "$port" && return 0
		if ! alive "$pid"; then
			[ -z "$log" ] || tail -n 20 "$log" >&2
			die "$name exited during start-up${log:+ (log: $log)}"
		fi
		sleep 0.1
	done
	die "$name does not listen on 127.0.0.1:$port after 60s${log:+ (log: $log)}"
}

# start name log cmd...: starts a background process whose output goes to log, stopped by cleanup.
start() {
	local name=$1 log=$2
	shift 2
	"$@" </dev/null >"$log" 2>&1 &
	started_names+=("$name")
	started_pids+=("$!")
}

# urlencode prints its argument percent-encoded for a URL's query.
urlencode() {
	local s=$1 out= c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9.~_-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}

# check_ports fails when the collector's fixed addresses (collector-config.yaml) are taken: checked first, so
# nothing is started in vain, and again just before the collector starts.
check_ports() {
	local port
	for port in 8888 13133 1777; do
		! listening "$port" || die "127.0.0.1:$port is in use: is another collector running? (the collector needs :8888, :13133 and :1777)"
	done
}
check_ports

# 1. Where the logs go.
configs=(--config collector-config.yaml)
if [ -n "${LOKI_ENDPOINT:-}" ]; then
	say "records go to Loki at $LOKI_ENDPOINT (LOKI_ENDPOINT); no local log store"
else
	[ -x "$VLOGS_BIN" ] || die "$VLOGS_BIN is missing: run make victoria-logs (make run does), or set LOKI_ENDPOINT"
	! listening "$VLOGS_PORT" || die "127.0.0.1:$VLOGS_PORT is in use: set VLOGS_PORT to a free port for the log store"
	vlog=$RUN_DIR/victoria-logs.log
	start "the log store (VictoriaLogs)" "$vlog" "$VLOGS_BIN" -httpListenAddr="127.0.0.1:$VLOGS_PORT" \
		-storageDataPath="$RUN_DIR/victoria-logs" -retentionPeriod=7d -loggerLevel=WARN
	wait_listening "VictoriaLogs" "${started_pids[-1]}" "$VLOGS_PORT" "$vlog"
	configs+=(--config deploy/run/victoria-logs.yaml)
	say "log store: VictoriaLogs on 127.0.0.1:$VLOGS_PORT (data in $RUN_DIR/victoria-logs)"
fi

# 2. Prometheus over the collector's metrics, with the alert rules.
prom_url=
if prom=$(scripts/tool.sh prometheus); then
	! listening "$PROM_PORT" || die "127.0.0.1:$PROM_PORT is in use (a system Prometheus?): set PROM_PORT to a free port"
	plog=$RUN_DIR/prometheus.log
	start "Prometheus" "$plog" "$prom" --config.file=deploy/run/prometheus.yml --storage.tsdb.path="$RUN_DIR/prometheus" \
		--storage.tsdb.retention.time=7d --web.listen-address="127.0.0.1:$PROM_PORT"
	wait_listening "Prometheus" "${started_pids[-1]}" "$PROM_PORT" "$plog"
	prom_url=http://127.0.0.1:$PROM_PORT
	say "metrics: Prometheus on 127.0.0.1:$PROM_PORT, scraping 127.0.0.1:8888 with the rules of alerts/ (data in $RUN_DIR/prometheus)"
else
	say "no Prometheus (see above): the metrics are only on http://127.0.0.1:8888/metrics"
fi

# 3. Something to read.
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
	demo_started=1
	docker run -d --rm --name "$demo_name" --network none --label otelcol-dockerlogs.demo=1 \
		"$demo_image" -rate 2 -streams both -prefix demo >/dev/null
	say "started $demo_name (removed on exit): \"demo seq=N\" twice a second"
else
	say "$running container(s) running on the engine; their new lines are read"
fi

# 4. The collector.
if [ "${CONSOLE:-1}" != 0 ]; then
	# The shipped configuration plus a console view, so there is something to watch here too.
	configs+=(--config deploy/run/console.yaml)
fi
check_ports
say "collector: $bin ${configs[*]} (engine $DOCKER_HOST); Ctrl-C stops everything"
"$bin" "${configs[@]}" --feature-gates=+extension.healthcheck.useComponentStatus &
collector=$!
for ((i = 0; i < 600; i++)); do
	listening 13133 && break
	alive "$collector" || break
	sleep 0.1
done

if alive "$collector"; then
	if [ -n "${LOKI_ENDPOINT:-}" ]; then
		logs="in Loki at $LOKI_ENDPOINT, e.g. Grafana -> Explore -> Loki -> {service_name=~\".+\"}"
	else
		query='*'
		[ -z "$demo_started" ] || query="container.name:=\"$demo_name\""
		logs="http://127.0.0.1:$VLOGS_PORT/select/vmui/#/?query=$(urlencode "$query")&g0.range_input=15m&g0.relative_time=last_15_minutes"
	fi
	metrics="http://127.0.0.1:8888/metrics (no Prometheus)"
	alerts="none without Prometheus"
	if [ -n "$prom_url" ]; then
		metrics="$prom_url/graph?g0.expr=$(urlencode 'sum by (iostream) (rate(otelcol_docker_logs_lines_read[1m]))')&g0.tab=0&g0.range_input=15m"
		alerts="$prom_url/alerts (the rules of alerts/docker-logs.rules.yml)"
	fi
	cat >&2 <<-EOF
		run-local.sh: ---------------------------------------------------------------------------------------------
		run-local.sh: logs:    $logs
		run-local.sh: metrics: $metrics
		run-local.sh: alerts:  $alerts
		run-local.sh: collector: health http://127.0.0.1:13133/, metrics http://127.0.0.1:8888/metrics
		run-local.sh: ---------------------------------------------------------------------------------------------
	EOF
fi

status=0
wait "$collector" || status=$?
# A trapped signal interrupts wait; wait again until the collector has shut down.
while alive "$collector"; do
	status=0
	wait "$collector" || status=$?
done
collector=
# The collector ends with 0 on SIGTERM or SIGINT; 130/143 are what a killed wait reports.
case $status in 130 | 143) status=0 ;; esac
exit "$status"
