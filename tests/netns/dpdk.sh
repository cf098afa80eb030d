#!/bin/bash
# The DPDK port backend in xgwd: both ports are rte_ethdev ports of DPDK's
# net_af_xdp driver on the gateway's veths (the same interfaces the AF_XDP
# backend serves in lb.sh), EAL without huge pages.  Real TCP through a
# service: the handshake, data echoed both ways, closes; the PMD's own
# counters (rte_eth_stats, xstats) in xgwctl stats and the metrics.  A
# DPDK port takes every frame of its queue (no kernel exception path), so
# the peers have static neighbour entries for the gateway's addresses.
# Then the two backends mixed: the client port on AF_XDP, the backend on
# DPDK, in one worker.
#
#   [cli] c0 198.18.1.2 --- gw-c [gw: xgwd, net_af_xdp x2] gw-s --- b0 198.18.2.11 [be]
#   VIP 198.18.100.1:80/tcp -> 198.18.2.11:8080 (echo)
set -u
XGWD=${1:?usage: dpdk.sh XGWD XGWCTL XGW_HAVE_DPDK}
XGWCTL=${2:?usage: dpdk.sh XGWD XGWCTL XGW_HAVE_DPDK}
HAVE_DPDK=${3:?usage: dpdk.sh XGWD XGWCTL XGW_HAVE_DPDK}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
[ "$HAVE_DPDK" = 1 ] || skip "xgw built without DPDK (meson -Ddpdk=enabled, libdpdk-dev)"
command -v python3 >/dev/null || skip "python3 missing"

CLI=$(mkns cli); GW=$(mkns gw); BE=$(mkns be)
cli_gw "$CLI" "$GW"
gw_be "$GW" "$BE"
echo_servers "$BE"
mac() { ip -n "$1" -j link show "$2" | jget 'd[0]["address"]'; }
GWC_MAC=$(mac "$GW" gw-c); GWS_MAC=$(mac "$GW" gw-s)
CLI_MAC=$(mac "$CLI" c0); BE_MAC=$(mac "$BE" b0)
ip -n "$CLI" neigh replace 198.18.1.1 lladdr "$GWC_MAC" dev c0 nud permanent
ip -n "$BE" neigh replace 198.18.2.1 lladdr "$GWS_MAC" dev b0 nud permanent

CORE=$(xgw_core)
SOCK="$XGW_TMP/xgw.sock"
XGW_GW_NS=$GW
XGW_CTL_BIN=$XGWCTL
# port NAME IFACE DEVICE: a DPDK port on IFACE through net_af_xdp (DEVICE
# its vdev name), or DEVICE "af_xdp": xgw's own AF_XDP port.
port() {
	if [ "$3" = af_xdp ]; then
		echo "{ \"name\": \"$1\", \"iface\": \"$2\","
	else
		echo "{ \"name\": \"$1\", \"driver\": \"dpdk\", \"iface\": \"$2\","
		echo "  \"device\": \"$3,iface=$2,start_queue=0,queue_count=1\","
	fi
	echo "  \"queues\": [ { \"queue\": 0, \"core\": $CORE } ] }"
}
# write_cfg CLIENT_DEVICE [BACKEND_DEVICE]
write_cfg() {
	cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [ $(port client gw-c "$1"), $(port backend gw-s "${2:-net_af_xdp1}") ],
  "dpdk": { "eal_args": [ "--no-huge", "-m", "1024", "--no-pci" ], "mbufs": 16384 },
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": 65536 },
  "metrics": { "listen": "127.0.0.1:9100" },
  "neighbours": [
    { "ip": "198.18.1.2", "mac": "$CLI_MAC", "port": "client" },
    { "ip": "198.18.2.11", "mac": "$BE_MAC", "port": "backend" } ],
  "services": [ { "vip": "198.18.100.1", "port": 80, "proto": "tcp",
    "backends": [ { "ip": "198.18.2.11", "port": 8080 } ] } ],
  "ctl": { "socket": "$SOCK" } }
JSON
}

# A device that does not exist: refused at start, naming it.
write_cfg net_nosuchdriver0
ip netns exec "$GW" timeout 60 "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/bad.log" 2>&1 &&
	fail "xgwd started with a device that does not exist"
grep -q 'net_nosuchdriver0' "$XGW_TMP/bad.log" ||
	{ cat "$XGW_TMP/bad.log"; fail "the error does not name the device"; }
ok "an unknown DPDK device is refused with its name"

write_cfg net_af_xdp0
ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/xgwd.log" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
wait_for ctl ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd did not start"; }
# The PMD's XDP program is attached when the port starts; give it a moment
# to redirect before the first SYN.
sleep 1
grep -q 'is DPDK lcore' "$XGW_TMP/xgwd.log" || fail "the worker did not register with the EAL"
ctl ports --json >"$XGW_TMP/ports.json" || fail "xgwctl ports"
for p in 0 1; do
	drv=$(jget "d[$p]['driver'] + ' ' + d[$p]['queues'][0]['mode']" <"$XGW_TMP/ports.json")
	[ "$drv" = "dpdk dpdk" ] || fail "port $p: driver/mode \"$drv\", expected dpdk dpdk"
done
ok "both ports run on the DPDK backend (xgwctl ports)"

# Real TCP: N connections, each sends lines with sequence numbers and
# reads the echo back in order; LABEL names the run.
cat >"$XGW_TMP/cli.py" <<'PY'
import socket, sys
n, lines = int(sys.argv[1]), int(sys.argv[2])
ok = 0
for c in range(n):
    try:
        s = socket.create_connection(("198.18.100.1", 80), timeout=3)
        f = s.makefile("rw")
        good = True
        for i in range(lines):
            msg = "conn %d line %d %s" % (c, i, "x" * (i * 37 % 1200))
            f.write(msg + "\n"); f.flush()
            good &= f.readline().rstrip("\n") == msg
        s.close()
        ok += good
    except OSError as e:
        print("conn %d: %s" % (c, e), file=sys.stderr)
print(ok)
PY
N=20
tcp_check() {
	local got
	got=$(ip netns exec "$CLI" timeout 120 python3 "$XGW_TMP/cli.py" $N 20)
	[ "$got" = "$N" ] ||
		{ tail -20 "$XGW_TMP/xgwd.log"; fail "$1: $got of $N TCP connections echoed every line in order"; }
	ok "$1: $N TCP connections through the VIP, 20 lines each echoed in order"
}
tcp_check "both ports on DPDK net_af_xdp"

ctl stats --json >"$XGW_TMP/stats.json" || fail "xgwctl stats"
created=$(jget 'd["conntrack"]["created"]' <"$XGW_TMP/stats.json")
[ "$created" -ge "$N" ] || fail "conntrack created $created, expected >= $N"
for p in 0 1; do
	read -r ip op <<<"$(jget "'%d %d' % (d['ports'][$p]['dpdk']['ipackets'], d['ports'][$p]['dpdk']['opackets'])" <"$XGW_TMP/stats.json")"
	[ "$ip" -gt 400 ] && [ "$op" -gt 400 ] ||
		fail "port $p: rte_eth_stats ipackets $ip opackets $op, expected > 400 each"
	q=$(jget "d['ports'][$p]['queues'][0]['rx_packets']" <"$XGW_TMP/stats.json")
	[ "$q" -le "$ip" ] && [ "$q" -gt 400 ] || fail "port $p: queue rx_packets $q vs ipackets $ip"
done
ok "rte_eth_stats in xgwctl stats agree with the queues' counters (conntrack created $created)"

MURL=$(grep -o 'metrics on http://[^ ]*' "$XGW_TMP/xgwd.log" | head -1 | awk '{print $3}')
ip netns exec "$GW" python3 - "$MURL" >"$XGW_TMP/metrics.txt" <<'PY' || fail "metrics not served at $MURL"
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
PY
grep -qE '^xgw_dpdk_ipackets_total\{port="client"\} [1-9]' "$XGW_TMP/metrics.txt" ||
	{ grep dpdk "$XGW_TMP/metrics.txt" | head; fail "no xgw_dpdk_ipackets_total for port client"; }
grep -qE '^xgw_dpdk_xstat_total\{port="backend",name="rx_good_packets"\} [1-9]' "$XGW_TMP/metrics.txt" ||
	{ grep dpdk "$XGW_TMP/metrics.txt" | head; fail "no rx_good_packets xstat for port backend"; }
ok "the PMD's stats and xstats in the metrics"

kill -TERM "$XGWD_PID"
wait "$XGWD_PID"; rc=$?
[ "$rc" = 0 ] || { tail "$XGW_TMP/xgwd.log"; fail "xgwd exited $rc on SIGTERM"; }
ok "xgwd stops cleanly (DPDK ports stopped and closed)"

# Both backends in one worker: the client port on xgw's AF_XDP layer (its
# steering program), the backend port on DPDK; frames cross between them.
# A queue just released may report EBUSY for about a second.
sleep 2
write_cfg af_xdp net_af_xdp1
ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/xgwd.log" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
wait_for ctl ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd (mixed) did not start"; }
sleep 1
drv=$(ctl ports --json | jget "d[0]['driver'] + ' ' + d[1]['driver']")
[ "$drv" = "af_xdp dpdk" ] || fail "mixed: drivers \"$drv\", expected af_xdp dpdk"
tcp_check "client port on AF_XDP, backend port on DPDK"
kill -TERM "$XGWD_PID"
wait "$XGWD_PID" || fail "xgwd (mixed) exited $? on SIGTERM"
