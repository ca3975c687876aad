#!/usr/bin/env bash
# Prints the path of a program that `make run` and the end-to-end tests use, installing it first when missing.
#
# Usage: scripts/tool.sh prometheus|chromium
#
#   prometheus   the Prometheus server of Debian's `prometheus` package (2.42), web UI included
#   chromium     Debian's `chromium`, for the headless browser checks of the log store's web page
#
# The program comes from PATH; when it is missing and this runs as root with apt-get, the Debian package is
# installed (apt-get install --no-install-recommends, fetching the package lists first when they are missing or
# stale). The package lock is waited for, so runs next to another apt-get do not fail. Debian's prometheus
# package has an init script: in a container the image's policy-rc.d keeps it from starting, on a host with
# systemd the system service starts on :9090 (make run then needs PROM_PORT).
#
# Exits 1 with the reason on stderr when the program is missing and cannot be installed; the callers decide
# what that means (the tests fail under CI=true and skip otherwise, make run goes on without that part).
set -euo pipefail

say() { echo "tool.sh: $*" >&2; }

[ $# -eq 1 ] || { echo "usage: $0 prometheus|chromium" >&2; exit 2; }

case $1 in
prometheus) pkg=prometheus names=(prometheus) ;;
chromium) pkg=chromium names=(chromium chromium-browser) ;;
*) echo "usage: $0 prometheus|chromium" >&2; exit 2 ;;
esac

find_tool() {
	local n
	for n in "${names[@]}"; do
		if command -v "$n" >/dev/null 2>&1; then
			command -v "$n"
			return 0
		fi
	done
	return 1
}

if find_tool; then
	exit 0
fi
[ "$(id -u)" = 0 ] || { say "${names[0]} is not installed and only root may install Debian's $pkg package"; exit 1; }
command -v apt-get >/dev/null 2>&1 || { say "${names[0]} is not installed and apt-get is missing"; exit 1; }

export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
install() { "${apt[@]}" install -y --no-install-recommends "$pkg" >/dev/null; }

say "installing Debian's $pkg package"
start=$SECONDS
if ! install 2>/dev/null; then
	say "fetching the apt package lists"
	"${apt[@]}" update >/dev/null || { say "apt-get update failed"; exit 1; }
	install || { say "apt-get install $pkg failed"; exit 1; }
fi
say "installed $pkg in $((SECONDS - start))s"
find_tool || { say "${names[0]} is still not in PATH ($PATH) after installing $pkg"; exit 1; }
