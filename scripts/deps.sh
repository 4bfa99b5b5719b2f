#!/bin/sh
# Install the Debian 12 packages sluice needs to build, test and run its
# demo, if any is missing. Run as root (or with sudo available).
set -eu

PKGS="build-essential pkg-config meson ninja-build iputils-ping
libdpdk-dev dpdk-dev libhyperscan-dev libconfig-dev libcmocka-dev
libpcap-dev libjson-c-dev libssl-dev
python3 python3-scapy iproute2 ethtool curl bind9-dnsutils openssl
clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: missing packages:$missing; run as root or install them" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
