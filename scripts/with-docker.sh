#!/usr/bin/env bash
# Runs a command with DOCKER_HOST set to a Docker engine that answers, starting a private dockerd when none does.
#
# Usage: scripts/with-docker.sh CMD [ARGS...]
#
# The private daemon lives in ${DOCKERD_DIR:-$PWD/.cache/dockerd} (data, socket, pid file, dockerd.log). Its data
# stays between runs so images are kept; the daemon itself is stopped when CMD ends. Exits with CMD's status.
set -euo pipefail

say() { echo "with-docker.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

# engine_version prints the server version when an engine answers within 5 s at the DOCKER_HOST in effect.
engine_version() {
	command -v docker >/dev/null 2>&1 &&
		timeout 5 docker version --format '{{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null
}

# alive tells whether pid is a running process; an exited child stays a zombie that kill -0 still finds.
alive() {
	kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# stop_pid sends SIGTERM, waits up to 20 s, then sends SIGKILL.
stop_pid() {
	local pid=$1 i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		alive "$pid" || return 0
		sleep 0.1
	done
	say "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) still running 20s after SIGTERM; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		alive "$pid" || return 0
		sleep 0.1
	done
}

# run_cmd runs the command in the background so a SIGTERM sent to this script is forwarded at once instead of after CMD ends.
run_cmd() {
	local child status=0
	# An explicit stdin redirection keeps the terminal: a background job would otherwise read /dev/null.
	"$@" <&0 9>&- &
	child=$!
	trap 'kill -INT $child 2>/dev/null || true' INT
	trap 'kill -TERM $child 2>/dev/null || true' TERM
	trap 'kill -HUP $child 2>/dev/null || true' HUP
	wait "$child" || status=$?
	# A trapped signal interrupts wait; keep waiting until the child has really ended.
	while alive "$child"; do
		status=0
		wait "$child" || status=$?
	done
	return "$status"
}

# 1. An engine that already answers (DOCKER_HOST, the docker context, or the default socket).
use_running_engine() {
	local v host
	v=$(engine_version) || return 1
	host=${DOCKER_HOST:-$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)}
	export DOCKER_HOST=${host:-unix:///var/run/docker.sock}
	say "using Docker engine at $DOCKER_HOST ($v)"
	exec "$@"
}
use_running_engine "$@" || true
say "no Docker engine answers at ${DOCKER_HOST:-the default socket}"

# 2. Make sure dockerd can be started here.
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] || die "dockerd or docker is not installed and only root may install docker.io; start an engine and set DOCKER_HOST"
	command -v apt-get >/dev/null 2>&1 || die "dockerd or docker is not installed and apt-get is missing"
	say "installing docker.io with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || die "apt-get update failed"
	apt-get install -y -qq docker.io >/dev/null || die "apt-get install docker.io failed"
	command -v dockerd >/dev/null 2>&1 || die "dockerd is still not in PATH ($PATH) after installing docker.io"
	# On a machine with systemd the package starts the system engine itself.
	use_running_engine "$@" || true
fi
[ "$(id -u)" = 0 ] || die "no Docker engine answers and a private dockerd needs root; start an engine and set DOCKER_HOST"

# 3. A private dockerd.
dir=${DOCKERD_DIR:-$PWD/.cache/dockerd}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
exec_root=$dir/exec
# containerd makes sockets up to 33 bytes below the exec root, and a unix socket path must fit in 107 bytes.
if [ ${#exec_root} -gt 50 ]; then
	exec_root=/tmp/otelcol-dockerlogs-exec-$(printf %s "$dir" | sha256sum | cut -c1-12)
fi
sock=$dir/docker.sock
if [ ${#sock} -gt 100 ]; then
	sock=$exec_root/docker.sock
fi
mkdir -p "$exec_root"
pidfile=$dir/docker.pid
owner=$dir/started-by-with-docker

# Runs in one DOCKERD_DIR take turns: the first one would stop the daemon under the second.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$dir/lock"
	if ! flock -n 9; then
		say "waiting for another with-docker.sh run using $dir"
		flock 9
	fi
fi

daemon_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local status=$?
	if [ -n "$daemon_pid" ]; then
		stop_pid "$daemon_pid"
		wait "$daemon_pid" 2>/dev/null || true
		if alive "$daemon_pid"; then
			say "dockerd (pid $daemon_pid) did not stop; see $dir/dockerd.log"
		else
			rm -f "$pidfile" "$sock" "$owner"
			# dockerd leaves its default network namespace mounted; unmounted, the folder can be removed.
			umount "$exec_root/netns/default" 2>/dev/null || true
		fi
	fi
	exit "$status"
}
trap cleanup EXIT
# Without these a signal would end the script without running the EXIT trap that stops the daemon.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

old_pid=$(cat "$pidfile" 2>/dev/null || true)
if v=$(DOCKER_HOST=unix://$sock engine_version); then
	export DOCKER_HOST=unix://$sock
	if [ -e "$owner" ] && [ -n "$old_pid" ]; then
		# Left behind by a run that was killed before it could stop its daemon: adopt it and stop it at the end.
		daemon_pid=$old_pid
		say "using Docker engine at $DOCKER_HOST ($v), a private dockerd left by an earlier run (pid $old_pid)"
	else
		say "using Docker engine at $DOCKER_HOST ($v), a private dockerd started elsewhere; left running"
	fi
	status=0
	run_cmd "$@" || status=$?
	exit "$status"
fi

# runs_with pid text: whether the process's command line contains text, so a reused pid is never taken for ours.
runs_with() {
	alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# A daemon from a killed run that no longer answers would keep the data root locked.
if [ -n "$old_pid" ] && runs_with "$old_pid" "--pidfile $pidfile"; then
	say "stopping a stale dockerd (pid $old_pid) that does not answer"
	stop_pid "$old_pid"
fi
# dockerd reuses the containerd its pid file names when that process exists, even as a dead zombie, and then times out.
containerd_pidfile=$exec_root/containerd/containerd.pid
containerd_pid=$(cat "$containerd_pidfile" 2>/dev/null || true)
if [ -n "$containerd_pid" ] && runs_with "$containerd_pid" "$exec_root/containerd"; then
	say "stopping a stale containerd (pid $containerd_pid)"
	stop_pid "$containerd_pid"
fi
rm -f "$pidfile" "$sock" "$owner" "$containerd_pidfile"

start=$(date +%s%N)
dockerd --data-root "$dir/data" --exec-root "$exec_root" -H "unix://$sock" --pidfile "$pidfile" \
	--storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
	</dev/null >"$dir/dockerd.log" 2>&1 9>&- &
daemon_pid=$!
echo "$$" >"$owner"

export DOCKER_HOST=unix://$sock
deadline=$((SECONDS + 60))
while :; do
	if v=$(engine_version); then
		break
	fi
	if ! alive "$daemon_pid" || [ "$SECONDS" -ge "$deadline" ]; then
		tail -n 30 "$dir/dockerd.log" >&2 || true
		alive "$daemon_pid" && die "dockerd did not answer at $DOCKER_HOST within 60s (log: $dir/dockerd.log)"
		die "dockerd exited during start-up (log: $dir/dockerd.log)"
	fi
	sleep 0.5
done
ms=$((($(date +%s%N) - start) / 1000000))
say "started private dockerd at $DOCKER_HOST ($v) in $((ms / 1000)).$((ms % 1000 / 100))s"
status=0
run_cmd "$@" || status=$?
exit "$status"
