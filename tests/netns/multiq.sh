#!/bin/bash
# Two queues on two workers: both veths of the gateway have two RX and two
# TX queues, queue q served by the worker on core q, so the kernel's queue
# choice on each side (the sender's TX queue hash) puts the two directions
# of many flows on different workers: a connection created by one worker
# is found, reverse-translated and closed by the other (one conntrack table,
# lock-free lookups).  Real TCP and UDP through a VIP, with and without SNAT.
#
#   [cli] c0 198.18.1.2 =2q= gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 =2q= b0 198.18.2.11 [be]
set -u
XGWD=${1:?usage: multiq.sh XGWD XGWCTL}
XGWCTL=${2:?usage: multiq.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
[ "$(nproc)" -ge 2 ] || skip "needs two cores"
N=${XGW_MULTIQ_CONNS:-300}

CLI=$(mkns cli); GW=$(mkns gw); BEN=$(mkns be)
cli_gw "$CLI" "$GW" 2
gw_be "$GW" "$BEN" 2

echo_servers "$BEN"
# n connections to VIP:port (three lines echoed each, then closed) and n
# UDP round trips to the UDP VIP, each from a new socket (a new source
# port: a new flow hash, a new queue draw on each side).
cat >"$XGW_TMP/cli.py" <<'PY'
import json, socket, sys
n, vip = int(sys.argv[1]), sys.argv[2]
ok_t = ok_u = 0
for i in range(n):
    try:
        s = socket.create_connection((vip, 80), timeout=2)
        f = s.makefile("rb")
        good = True
        for k in range(3):
            s.sendall(b"%d-%d\n" % (i, k))
            good &= f.readline() == b"%d-%d\n" % (i, k)
        s.close()
        ok_t += good
    except OSError:
        pass
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2)
        u.sendto(b"u%d" % i, ("198.18.100.2", 53))
        ok_u += u.recvfrom(2048)[0] == b"u%d" % i
        u.close()
    except OSError:
        pass
print(json.dumps({"tcp": ok_t, "udp": ok_u}))
PY

start_xgwd "$GW" "$XGWD" 65536 2
ctl service add 198.18.100.1:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.11:8080 >/dev/null || fail "backend add"
ctl service add 198.18.100.3:80/tcp --snat >/dev/null || fail "service add"
ctl backend add 198.18.100.3:80/tcp 198.18.2.11:8080 >/dev/null || fail "backend add"
ctl service add 198.18.100.2:53/udp >/dev/null || fail "service add"
ctl backend add 198.18.100.2:53/udp 198.18.2.11:5353 >/dev/null || fail "backend add"
n=$(ctl stats --json | jget 'len(d["workers"])')
[ "$n" = 2 ] || fail "$n workers, expected 2"
ok "xgwd with two workers, each serving queue q of both ports"

for vip in 198.18.100.1 198.18.100.3; do
	out=$(ip netns exec "$CLI" python3 "$XGW_TMP/cli.py" "$N" "$vip")
	[ "$out" = "{\"tcp\": $N, \"udp\": $N}" ] || { ctl stats; fail "$vip: $out of $N each"; }
done
ok "$N TCP connections (3 lines each) to a DNAT and to an SNAT VIP, and $((2 * N)) UDP round trips, all answered"

ctl stats --json >"$XGW_TMP/stats.json"
python3 - "$XGW_TMP/stats.json" >"$XGW_TMP/q.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rx = {(p["name"], q["queue"]): q["rx_packets"] for p in d["ports"] for q in p["queues"]}
print("  rx per (port, queue): " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in sorted(rx.items())))
print("  per worker: " + ", ".join(f"w{w['id']} rx {w['rx_packets']} created {w['ct_created']} "
                                  f"dropped {sum(w['drops'].values())}" for w in d["workers"]))
sys.exit(0 if all(v > 0 for v in rx.values()) and len(rx) == 4 else 1)
PY
rc=$?
cat "$XGW_TMP/q.txt"
[ $rc = 0 ] || fail "not every (port, queue) carried traffic: the two directions never split"
# The first packet towards a neighbour not yet resolved is dropped by
# design (README: no_neighbour): at most one per next hop and worker.
drops=$(jget 'sum(n for r, n in d["drops"].items() if r != "no_neighbour")' <"$XGW_TMP/stats.json")
[ "$drops" = 0 ] || fail "$drops drops: $(jget 'd["drops"]' <"$XGW_TMP/stats.json")"
ok "both queues of both ports carried traffic, both workers created connections, no drop but first-packet no_neighbour"
if sanitizer_report "$XGW_TMP/xgwd.log" 40; then fail "sanitizer report in xgwd's log"; fi
ok "no sanitizer report"
