#!/bin/sh
# deps.sh [bench]: installs the Debian packages Sekisho builds and tests
# with (and, with "bench", the benchmarks' peers), when any is missing.
# Needs root to install; without root it only reports.
set -eu
PKGS="build-essential libssl-dev libnftnl-dev libmnl-dev libconfig-dev
libcmocka-dev libseccomp-dev curl openssl nftables iproute2 nginx-light clang valgrind
python3 procps e2fsprogs util-linux bc iputils-ping man-db systemd rclone
debhelper dpkg-dev lintian mmdebstrap chromium"
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS python3-pandas time default-jre-headless default-jdk-headless"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
