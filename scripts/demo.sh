#!/bin/bash
# The xgw demo: installs dependencies, builds, then shows a real client
# reaching real servers through the gateway's AF_XDP workers.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw: xgwd, ip_forward=0] gw-s 198.18.2.1 --- [srv] s0 198.18.2.2
#
# Everything lives in network namespaces named xgwdemo-<random>-*, removed on
# exit.  Only 198.18.0.0/15 addresses are used.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, XDP)" >&2; exit 1; }
scripts/install-deps.sh
scripts/build.sh >/dev/null
B=$PWD/build

P="xgwdemo-$(printf '%04x' $((RANDOM % 65536)))"
CLI=$P-cli GW=$P-gw SRV=$P-srv
TMP=$(mktemp -d /tmp/xgw-demo.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in $CLI $GW $SRV; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

for n in $CLI $GW $SRV; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add c0 netns $CLI type veth peer name gw-c netns $GW
ip link add gw-s netns $GW type veth peer name s0 netns $SRV
for x in "$CLI c0" "$GW gw-c" "$GW gw-s" "$SRV s0"; do set -- $x; ip -n "$1" link set "$2" up; done
# veth leaves checksums to "the NIC" (TX offload); frames that XDP diverts
# into AF_XDP never meet one, so the senders compute their own.
ip netns exec $CLI ethtool -K c0 tx off >/dev/null
ip netns exec $SRV ethtool -K s0 tx off >/dev/null
ip -n $CLI addr add 198.18.1.2/24 dev c0
ip -n $CLI route add default via 198.18.1.1
ip -n $GW addr add 198.18.1.1/24 dev gw-c
ip -n $GW addr add 198.18.2.1/24 dev gw-s
ip -n $SRV addr add 198.18.2.2/24 dev s0
ip -n $SRV route add default via 198.18.2.1
ip netns exec $GW sysctl -qw net.ipv4.ip_forward=0

CORE=$(($(nproc) - 1))
cat >"$TMP/xgw.json" <<JSON
{
  "ports": [
    { "name": "client", "iface": "gw-c", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "server", "iface": "gw-s", "queues": [ { "queue": 0, "core": $CORE } ] }
  ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "steer": [ { "dst": "198.18.2.2", "proto": "tcp", "dport": 80 },
             { "dst": "198.18.1.2", "proto": "tcp" },
             { "dst": "198.18.2.2", "proto": "icmp" },
             { "dst": "198.18.1.2", "proto": "icmp" } ],
  "ctl": { "socket": "$TMP/xgw.sock" }
}
JSON

mkdir -p "$TMP/www"; echo "hello from the server behind xgw" >"$TMP/www/index.html"
ip netns exec $SRV python3 -m http.server 80 --bind 198.18.2.2 --directory "$TMP/www" \
	>/dev/null 2>&1 &
PIDS+=($!)
ip netns exec $GW "$B/xgwd/xgwd" -c "$TMP/xgw.json" 2>"$TMP/xgwd.log" &
PIDS+=($!)
for i in $(seq 50); do [ -S "$TMP/xgw.sock" ] && break; sleep 0.1; done
CTL="ip netns exec $GW $B/ctl/xgwctl -s $TMP/xgw.sock"

echo "== xgwd is up (kernel forwarding is OFF in the gateway namespace)"
$CTL ports
echo; echo "== ping through the AF_XDP workers"
ip netns exec $CLI ping -c 3 -i 0.2 198.18.2.2
echo; echo "== 20 HTTP requests through xgw"
ok=0
for i in $(seq 20); do
	if ip netns exec $CLI curl -s --max-time 3 http://198.18.2.2/ >/dev/null; then ok=$((ok+1)); fi
done
ip netns exec $CLI curl -s --max-time 3 http://198.18.2.2/
echo "$ok/20 requests answered"
echo; echo "== xgwctl stats"
$CTL stats
[ "$ok" = 20 ]
