#!/bin/bash
# Routes and neighbours that change under a running xgwd, with traffic
# through the workers: a route's next hop moved to another router (the
# traffic follows, and no packet goes to the old router once the new one
# answered), the next hop's neighbour entry deleted and then all of the
# link's flushed (xgwd asks the kernel to resolve it again and the traffic
# resumes).  A 100/s UDP probe from the client records which router
# answered each datagram; the figures (time to follow, datagrams lost) are
# printed, not asserted.  The MTU lowered on a live path is faults.sh's.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- [sw: br0] -+- [r1] 198.18.2.11
#                                                                               +- [r2] 198.18.2.12
#   198.18.50.1 (on both routers' lo): 198.18.50.0/24 via r1, then via r2
set -u
XGWD=${1:?usage: reroute.sh XGWD XGWCTL}
XGWCTL=${2:?usage: reroute.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 missing"

CLI=$(mkns cli); GW=$(mkns gw); SW=$(mkns sw)
cli_gw "$CLI" "$GW"
veth "$GW" gw-s "$SW" sw-g
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
ip -n "$SW" link set sw-g master br0
ip -n "$GW" addr add 198.18.2.1/24 dev gw-s
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=0 # only xgw forwards
cat >"$XGW_TMP/echo.py" <<'PY'
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("198.18.50.1", 7777))
while True:
    d, a = u.recvfrom(2048)
    u.sendto(sys.argv[1].encode() + b" " + d, a)
PY
R=()
for i in 1 2; do
	ns=$(mkns r$i)
	R+=("$ns")
	lan_backend "$ns" "$SW" $i
	ip -n "$ns" addr add 198.18.50.1/32 dev lo
	ip netns exec "$ns" python3 "$XGW_TMP/echo.py" r$i &
	XGW_PIDS+=($!)
done
ip -n "$GW" route add 198.18.50.0/24 via 198.18.2.11 dev gw-s
start_xgwd "$GW" "$XGWD" 4096
ctl steer add --dst 198.18.50.1 --proto udp >/dev/null || fail "steer add"
ctl steer add --dst 198.18.1.2 --proto udp >/dev/null || fail "steer add"

# The probe: a datagram every 10 ms until $P.stop exists (60 s at most);
# $P.ready once 50 datagrams in a row were answered (the path resolved and
# steady); writes $P: per datagram [sent, answered by, received] (epoch
# seconds).
P="$XGW_TMP/probe.json"
cat >"$XGW_TMP/probe.py" <<'PY'
import json, os, socket, sys, threading, time
out = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("198.18.50.1", 7777))
u.settimeout(0.2)
sent, got, done = [], {}, threading.Event()
def rx():
    ready = False
    while not done.is_set():
        try:
            name, seq = u.recv(2048).decode().split()
            got[int(seq)] = (name, time.time())
            if not ready and all(i in got for i in range(int(seq) - 49, int(seq) + 1)):
                ready = True
                open(out + ".ready", "w").close()
        except (OSError, ValueError):
            pass
threading.Thread(target=rx, daemon=True).start()
t0 = time.time()
while not os.path.exists(out + ".stop") and time.time() - t0 < 60:
    sent.append(time.time())
    try:
        u.send(b"%d" % (len(sent) - 1))
    except OSError:
        pass
    time.sleep(0.01)
time.sleep(0.3)
done.set()
json.dump([[t] + list(got.get(i, (None, None))) for i, t in enumerate(sent)], open(out, "w"))
PY
ip netns exec "$CLI" python3 "$XGW_TMP/probe.py" "$P" &
probe=$!
XGW_PIDS+=($probe)
now() { date +%s.%N; }
wait_for test -e "$P.ready" ||
	fail "no steady answers through xgw before any change: $(ctl stats --json | jget 'd["drops"]')"
sleep 1
t1=$(now)
ip -n "$GW" route replace 198.18.50.0/24 via 198.18.2.12 dev gw-s || fail "route replace"
sleep 2
t2=$(now)
ip -n "$GW" neigh del 198.18.2.12 dev gw-s || fail "neigh del"
sleep 2
t3=$(now)
ip -n "$GW" neigh flush dev gw-s || fail "neigh flush"
sleep 2
t4=$(now)
touch "$P.stop"
wait $probe || fail "probe"
nn=$(ctl stats --json | jget 'd["drops"].get("no_neighbour", 0)')

# Per phase [from, to): answered by whom, lost, the first answer of the
# phase's router after its start and the last datagram that went astray.
python3 - "$P" "$t1" "$t2" "$t3" "$t4" >"$XGW_TMP/phases.json" <<'PY' || fail "probe analysis"
import json, sys
rows, t = json.load(open(sys.argv[1])), [float(x) for x in sys.argv[2:]]
phases = {"before": (0, t[0], "r1"), "moved": (t[0], t[1], "r2"),
          "neigh_del": (t[1], t[2], "r2"), "neigh_flush": (t[2], t[3], "r2")}
res = {}
for k, (a, b, want) in phases.items():
    ph = [r for r in rows if a <= r[0] < b]
    tail = [r for r in ph if r[0] >= b - 0.5]   # its last 500 ms
    first = min((r[2] for r in ph if r[1] == want), default=None)
    ok = [r for r in ph if r[1]]
    res[k] = {"sent": len(ph), "by": {n: sum(r[1] == n for r in ph) for n in ("r1", "r2")},
              "lost": sum(r[1] is None for r in ph),
              "tail_ok": sum(r[1] == want for r in tail), "tail": len(tail),
              "stray_after_first": sum(1 for r in ph if first and r[1] not in (want, None)
                                       and r[2] > first),
              "follow_ms": int((first - a) * 1000) if first and a else None,
              # the longest stretch without an answer (send times)
              "gap_ms": int(max((y[0] - x[0] for x, y in zip(ok, ok[1:])), default=0) * 1000)}
print(json.dumps(res))
PY
ph=$(cat "$XGW_TMP/phases.json")
echo "# phases: $ph"
q() { echo "$ph" | jget "$1"; }
# Most of the last 500 ms of each phase answered by its router: the traffic
# got there and stayed (UDP on a shared machine: allow a datagram or two).
for k in before moved neigh_del neigh_flush; do
	[ "$(q "d['$k']['tail_ok'] >= d['$k']['tail'] - 2 and d['$k']['tail'] >= 20")" = True ] ||
		fail "$k: the last 500 ms not answered by its router: $(q "d['$k']"); drops: $(ctl stats --json | jget 'd["drops"]')"
done
[ "$(q "d['before']['by']['r2']")" = 0 ] || fail "r2 answered before the route moved"
[ "$(q "d['moved']['stray_after_first']")" = 0 ] ||
	fail "datagrams to r1 after r2 had answered: $(q "d['moved']")"
ok "next hop moved r1 -> r2 under 100 datagrams/s: followed in $(q "d['moved']['follow_ms']") ms, $(q "d['moved']['lost']") lost, none to r1 after r2's first answer"
ip -n "$GW" neigh show 198.18.2.12 dev gw-s | grep -q lladdr ||
	fail "the kernel has no entry for 198.18.2.12 after the flush"
ok "neighbour deleted, then flushed: resolved again, traffic back (longest gaps $(q "d['neigh_del']['gap_ms']") and $(q "d['neigh_flush']['gap_ms']") ms, lost $(q "d['neigh_del']['lost']") and $(q "d['neigh_flush']['lost']"); no_neighbour drops: $nn)"

kill -TERM "$XGWD_PID"
wait "$XGWD_PID" || fail "xgwd did not exit 0 on SIGTERM"
if sanitizer_report "$XGW_TMP/xgwd.log" 100; then
	fail "sanitizer report in xgwd's log"
fi
ok "xgwd stopped cleanly"
echo "PASS"
