#!/bin/bash
# The xgw demo: installs dependencies, builds, then puts a VIP in front of
# three real HTTP backends and sends real client requests through xgw's
# AF_XDP workers (Maglev + conntrack + DNAT; the kernel does no forwarding).
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw: xgwd] gw-s 198.18.2.1 --- [sw: bridge] -+- [be1] 198.18.2.11:8080
#                                                                                       +- [be2] 198.18.2.12:8080
#   VIP 198.18.100.1:80/tcp                                                              +- [be3] 198.18.2.13:8080
#
# Everything lives in network namespaces named xgwdemo-<random>-*, removed on
# exit.  Only addresses from 198.18.0.0/15 are used.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, XDP)" >&2; exit 1; }
scripts/install-deps.sh
scripts/build.sh >/dev/null
B=$PWD/build

P="xgwdemo-$(printf '%04x' $((RANDOM % 65536)))"
TMP=$(mktemp -d /tmp/xgw-demo.XXXXXX)
PIDS=()
# Stop what we started.  The PIDs we hold are those of `ip netns exec` or
# of a subshell around it, not always the server itself, so every process
# left in our namespaces is ended by namespace: xgwd first with SIGTERM (it
# detaches its XDP programs), then anything still there with SIGKILL.
cleanup() {
	local n pids
	local nss=$(ip netns list | awk -v p="$P-" 'index($1, p) == 1 {print $1}')
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for n in $nss; do
		pids=$(ip netns pids "$n" 2>/dev/null) && [ -n "$pids" ] && kill $pids 2>/dev/null
	done
	for i in $(seq 30); do
		pids=$(for n in $nss; do ip netns pids "$n" 2>/dev/null; done)
		[ -z "$pids" ] && break
		sleep 0.1
	done
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	wait 2>/dev/null || true
	for n in $nss; do ip netns del "$n"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap "exit 130" INT TERM

ns() { ip netns add "$P-$1"; ip -n "$P-$1" link set lo up; }
link() { # ns1 if1 ns2 if2
	ip link add "$2" netns "$P-$1" type veth peer name "$4" netns "$P-$3"
	ip -n "$P-$1" link set "$2" up; ip -n "$P-$3" link set "$4" up
}
nsx() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }

ns cli; ns gw; ns sw
link cli c0 gw gw-c
link gw gw-s sw sw-g
ip -n $P-sw link add br0 type bridge; ip -n $P-sw link set br0 up
ip -n $P-sw link set sw-g master br0
# veth leaves checksums to "the NIC" (TX offload); frames that XDP diverts
# into AF_XDP never meet one, so the senders compute their own.
nsx cli ethtool -K c0 tx off >/dev/null
ip -n $P-cli addr add 198.18.1.2/24 dev c0
ip -n $P-cli route add default via 198.18.1.1
ip -n $P-gw addr add 198.18.1.1/24 dev gw-c
ip -n $P-gw addr add 198.18.2.1/24 dev gw-s
nsx gw sysctl -qw net.ipv4.ip_forward=0
for i in 1 2 3; do
	ns be$i
	link be$i b0 sw sw-b$i
	ip -n $P-sw link set sw-b$i master br0
	nsx be$i ethtool -K b0 tx off >/dev/null
	ip -n $P-be$i addr add 198.18.2.1$i/24 dev b0
	ip -n $P-be$i route add default via 198.18.2.1
	mkdir -p "$TMP/www$i"
	echo "hello from backend $i (198.18.2.1$i)" >"$TMP/www$i/index.html"
	nsx be$i python3 -m http.server 8080 --bind 198.18.2.1$i --directory "$TMP/www$i" \
		>/dev/null 2>&1 &
	PIDS+=($!)
done

CORE=$(($(nproc) - 1))
cat >"$TMP/xgw.json" <<JSON
{
  "ports": [
    { "name": "client",  "iface": "gw-c", "zerocopy": "auto", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "backend", "iface": "gw-s", "zerocopy": "auto", "queues": [ { "queue": 0, "core": $CORE } ] }
  ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": 65536 },
  "ctl": { "socket": "$TMP/xgw.sock" }
}
JSON
nsx gw "$B/xgwd/xgwd" -c "$TMP/xgw.json" 2>"$TMP/xgwd.log" &
PIDS+=($!)
CTL() { nsx gw "$B/ctl/xgwctl" -s "$TMP/xgw.sock" "$@"; }
for i in $(seq 100); do CTL ports >/dev/null 2>&1 && break; sleep 0.1; done

echo "== xgwd is up; kernel forwarding is OFF in the gateway namespace"
CTL ports
echo
echo "== configure the service with xgwctl"
show() { echo "\$ xgwctl $*"; CTL "$@"; }
show service add 198.18.100.1:80/tcp
show backend add 198.18.100.1:80/tcp 198.18.2.11:8080 --weight 1
show backend add 198.18.100.1:80/tcp 198.18.2.12:8080 --weight 1
show backend add 198.18.100.1:80/tcp 198.18.2.13:8080 --weight 1
for i in 1 2 3; do # let the backends' HTTP servers come up
	for t in $(seq 50); do nsx be$i python3 -c "import socket; socket.create_connection(('198.18.2.1$i', 8080), 1)" 2>/dev/null && break; sleep 0.1; done
done
CTL service list
echo
echo "== 30 HTTP requests from the client to http://198.18.100.1/"
ok=0
for i in $(seq 30); do
	if r=$(nsx cli curl -s --max-time 3 http://198.18.100.1/); then
		printf "%2d: %s\n" "$i" "$r"; ok=$((ok + 1))
	else
		printf "%2d: FAILED\n" "$i"
	fi
done
echo "$ok/30 requests answered"
echo
echo "== conntrack (first 5)"
CTL ct list --limit 5
echo
echo "== xgwctl stats"
CTL stats
[ "$ok" = 30 ]
