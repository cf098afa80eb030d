#!/bin/bash
# Install what xgw needs to build, test and demo on Debian 12 (idempotent:
# a second run installs nothing).  Run as root.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config clang llvm
	libbpf-dev libxdp-dev bpftool linux-libc-dev
	liburcu-dev libnuma-dev libjansson-dev libmnl-dev libmicrohttpd-dev libpcap-dev libcmocka-dev
	libsystemd-dev go-md2man
	# the Debian package (scripts/deb.sh)
	debhelper dpkg-dev
	libclang-rt-14-dev
	iproute2 iputils-ping ethtool nftables curl python3 procps tcpdump
	dpdk dpdk-dev gnuplot-nox valgrind
	iperf3 wrk nginx-light bird2
	# independent dissectors for the tunnel tests (tests/netns/tunnel.sh)
	tshark python3-scapy
)
# gcc-multilib provides asm/ headers for clang -target bpf on some setups.
[ "$(uname -m)" = x86_64 ] && PKGS+=(gcc-multilib)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root to install" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture: no.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
