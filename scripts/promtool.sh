#!/usr/bin/env bash
# Runs promtool with the given arguments, finding or installing it first.
#
# Usage: scripts/promtool.sh ARGS...        e.g. scripts/promtool.sh test rules alerts/docker-logs.rules.test.yml
#
# promtool comes from PATH, else from .cache/tools/promtool (gitignored), else it is taken from Debian's
# `prometheus` package: `apt-get download` and `dpkg-deb -x` of that one package into .cache/tools, which needs
# no root (unless the package lists must be fetched first) and, unlike `apt-get install prometheus`, installs no
# Prometheus server, no service and none of the package's web UI dependencies. Measured on this project's kind
# of machine: about 2 s, where `go install github.com/prometheus/prometheus/cmd/promtool` took 10.5 minutes cold
# (a 1.8 GB module download and 3.4 GB of memory to build).
#
# Without promtool and without a way to get it, the rules are skipped on a developer machine and fail under CI=true.
set -euo pipefail

say() { echo "promtool.sh: $*" >&2; }

[ $# -gt 0 ] || { echo "usage: $0 ARGS..." >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=$root/.cache/tools/promtool
cached=$tools/usr/bin/promtool

# unavailable REASON ARGS...: fail under CI=true, else skip the promtool run.
unavailable() {
	if [ "${CI:-}" = true ]; then
		say "$1 (CI=true: failing)"
		exit 1
	fi
	say "$1; skipping 'promtool ${*:2}' (install Prometheus' promtool to run it)"
	exit 0
}

find_promtool() {
	if command -v promtool >/dev/null 2>&1; then
		command -v promtool
	elif [ -x "$cached" ]; then
		echo "$cached"
	else
		return 1
	fi
}

install_from_debian() {
	command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 || return 1
	local dl
	dl=$(mktemp -d)
	trap 'rm -rf "$dl"' RETURN
	if ! (cd "$dl" && apt-get download prometheus >/dev/null 2>&1); then
		[ "$(id -u)" = 0 ] || return 1
		say "fetching the apt package lists"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
		(cd "$dl" && apt-get download prometheus >/dev/null 2>&1) || return 1
	fi
	mkdir -p "$tools"
	dpkg-deb --fsys-tarfile "$dl"/prometheus_*.deb | tar -x -C "$tools" ./usr/bin/promtool
	[ -x "$cached" ]
}

if ! bin=$(find_promtool); then
	say "promtool not found; extracting it from Debian's prometheus package into .cache/tools"
	install_from_debian || unavailable "promtool is not installed and could not be taken from Debian's prometheus package" "$@"
	bin=$cached
fi
exec "$bin" "$@"
