#!/bin/bash
# Service load balancing through the AF_XDP workers, configured only with
# xgwctl on a running xgwd: real TCP from a client to a VIP, spread over
# three backends by weight; a long connection survives backend removal;
# weight 0 drains; a deny rule blocks; echo to the VIP is answered; with
# SNAT the backends need no route back; a long connection survives a move
# of its service to the other datapath.
#
# XGW_DATAPATH=user (default) or kernel: which datapath serves the services
# (the XDP one needs forwarding on for bpf_fib_lookup, and GRO on the peers
# that receive XDP_TX/redirected frames).  Where the two differ, the kernel
# run checks the difference: an rr kernel service is refused.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- [sw: br0] -+- [be1] 198.18.2.11:8080
#                                                                               +- [be2] 198.18.2.12:8080
#   VIP 198.18.100.1:80/tcp -> backends :8080                                   +- [be3] 198.18.2.13:8080
set -u
XGWD=${1:?usage: lb.sh XGWD XGWCTL}
XGWCTL=${2:?usage: lb.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
# XGW_XDP_MODE=native|skb: the attach mode of xgwd's steering program (the
# matrix in meson.build runs both where the mode matters).
XDP_MODE=${XGW_XDP_MODE:-auto}
echo "# XDP attach mode: $XDP_MODE"
DP=${XGW_DATAPATH:-user}
case "$DP" in user) OTHER=kernel ;; kernel) OTHER=user ;; *) fail "XGW_DATAPATH=$DP" ;; esac
echo "# datapath: $DP"
command -v python3 >/dev/null || skip "python3 missing"

CLI=$(mkns cli); GW=$(mkns gw); SW=$(mkns sw)
cli_gw "$CLI" "$GW"
veth "$GW" gw-s "$SW" sw-g
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
ip -n "$SW" link set sw-g master br0
ip -n "$GW" addr add 198.18.2.1/24 dev gw-s
# user: forwarding off proves the workers do it; kernel: bpf_fib_lookup
# answers "forwarding disabled" without it.
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=$([ "$DP" = kernel ] && echo 1 || echo 0)
# Frames the XDP datapath sends (XDP_TX, redirect) reach a veth peer only
# through its XDP program (lib.sh).
xdp_rx_peer "$CLI" c0
xdp_rx_peer "$SW" sw-g
BE=()
for i in 1 2 3; do
	ns=$(mkns be$i)
	BE+=("$ns")
	lan_backend "$ns" "$SW" $i
done

# Backends: a TCP server that says its name, then echoes lines.
cat >"$XGW_TMP/be.py" <<'PY'
import socket, socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write((sys.argv[2] + "\n").encode())
        for line in self.rfile:
            self.wfile.write(line)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
S((sys.argv[1], 8080), H).serve_forever()
PY
for i in 1 2 3; do
	ip netns exec "${BE[$((i-1))]}" python3 "$XGW_TMP/be.py" 198.18.2.1$i be$i &
	XGW_PIDS+=($!)
done

# IPv6 too: the same backends on 2001:db8:2::1N, a v6 VIP later on.
ip -n "$CLI" addr add 2001:db8:1::2/64 dev c0 nodad
ip -n "$CLI" -6 route add default via 2001:db8:1::1
ip -n "$GW" addr add 2001:db8:1::1/64 dev gw-c nodad
ip -n "$GW" addr add 2001:db8:2::1/64 dev gw-s nodad
ip netns exec "$GW" sysctl -qw net.ipv6.conf.all.forwarding=0
for i in 1 2 3; do
	ip -n "${BE[$((i-1))]}" addr add 2001:db8:2::1$i/64 dev b0 nodad
	ip -n "${BE[$((i-1))]}" -6 route add default via 2001:db8:2::1
	ip netns exec "${BE[$((i-1))]}" python3 "$XGW_TMP/be.py" 2001:db8:2::1$i be$i-v6 &
	XGW_PIDS+=($!)
done

# Client: N fresh connections to the VIP; counts which backend answered.
cat >"$XGW_TMP/cli.py" <<'PY'
import collections, json, socket, sys
n, timeout = int(sys.argv[1]), float(sys.argv[2])
vip = sys.argv[3] if len(sys.argv) > 3 else "198.18.100.1"
seen, fails = collections.Counter(), 0
for _ in range(n):
    try:
        s = socket.create_connection((vip, 80), timeout=timeout)
        f = s.makefile("r")
        seen[f.readline().strip()] += 1
        s.close()
    except OSError:
        fails += 1
print(json.dumps({"seen": seen, "fails": fails}))
PY
conns() { ip netns exec "$CLI" python3 "$XGW_TMP/cli.py" "$1" "${2:-2}" ${3:-}; }
# The client's TCP segments sent and received (its kernel's count): every
# one of them went through the VIP.
tcp_segs() {
	ip netns exec "$CLI" python3 -c 'l = [x.split() for x in open("/proc/net/snmp") if x.startswith("Tcp:")]
t = dict(zip(l[0], l[1])); print(t["OutSegs"], t["InSegs"])'
}

CORE=$(xgw_core)
SOCK="$XGW_TMP/xgw.sock"
cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [
    { "name": "client", "iface": "gw-c", "xdp_mode": "$XDP_MODE", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "backend", "iface": "gw-s", "xdp_mode": "$XDP_MODE", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": 65536, "tcp_close_timeout_s": 120 },
  "metrics": { "listen": "127.0.0.1:9100" },
  "ctl": { "socket": "$SOCK" } }
JSON
ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/xgwd.log" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
ctl() { ip netns exec "$GW" "$XGWCTL" -s "$SOCK" "$@"; }
wait_for ctl ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd did not start"; }
if [ "$XDP_MODE" != auto ]; then
	m=$(ip netns exec "$GW" "$XGWCTL" -s "$SOCK" ports --json | jget "sorted(set(p['xdp_mode'] for p in d))")
	[ "$m" = "['$XDP_MODE']" ] || fail "ports run XDP in $m, not $XDP_MODE"
fi

ctl service add 198.18.100.1:80/tcp --datapath "$DP" || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.11:8080 --weight 1 || fail "backend add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.12:8080 --weight 2 || fail "backend add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.13:8080 --weight 1 || fail "backend add"
ctl service add 198.18.100.1:80/tcp 2>/dev/null && fail "duplicate service accepted"
ok "service ($DP datapath) and backends configured through xgwctl"

# drops: both datapaths' drop counters and the steering program's, for
# the message of a failed connection (a SYN lost in the gateway leaves a
# named counter, or none: then it was lost elsewhere).
drops() { ctl stats --json | jget '{"workers": d["drops"], "kernel": d.get("kernel", {}).get("drops"), "xdp": [p["xdp"] for p in d["ports"]]}'; }

# Weights 1:2:1 over 400 connections: expect 100/200/100.
read -r out0 in0 <<<"$(tcp_segs)"
out=$(conns 400)
echo "  400 connections: $out"
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || { ctl stats; fail "connections failed"; }
for b in "be1 100" "be2 200" "be3 100"; do
	set -- $b
	got=$(echo "$out" | jget "d['seen'].get('$1', 0)")
	# Maglev spreads flows by hash: binomial noise, sd ~9-10 here.
	python3 -c "import sys; sys.exit(0 if abs($got - $2) <= 0.4 * $2 else 1)" ||
		fail "$1 got $got connections, expected about $2 (weights 1:2:1)"
done
ok "400 TCP connections through the VIP spread 1:2:1 (replies carry the VIP: TCP established)"

# Per-service and per-backend counters, whichever datapath serves it: at
# least the segments the client sent (in) and received (out), 400 new
# connections, each backend's as many as answered from it, the backends
# adding up to the service.  Closed connections stay (TIME_WAIT, 120 s).
sleep 0.5 # the last FINs and ACKs
read -r out1 in1 <<<"$(tcp_segs)"
sent=$((out1 - out0)); got=$((in1 - in0))
svc_ok() {
	ctl service list --json >"$XGW_TMP/svc.json" || return 1
	python3 - "$XGW_TMP/svc.json" "$sent" "$got" "$DP" "$out" <<'PY'
import json, sys
d, sent, got, dp, seen = json.load(open(sys.argv[1]))[0], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])["seen"]
s = d["stats"]
bad = []
if s["datapath"] != dp: bad.append("datapath %s" % s["datapath"])
if s["conns_new"] != 400: bad.append("conns_new %d" % s["conns_new"])
if not 0 < s["conns_active"] <= 400: bad.append("conns_active %d" % s["conns_active"])
if s["pkts_in"] < sent or s["pkts_out"] < got:
    bad.append("packets in %d out %d, the client sent %d got %d" % (s["pkts_in"], s["pkts_out"], sent, got))
if s["bytes_in"] < 54 * s["pkts_in"] or s["bytes_out"] < 54 * s["pkts_out"]: bad.append("bytes")
for k in ("pkts_in", "pkts_out", "bytes_in", "bytes_out", "conns_new", "conns_active"):
    if sum(b["stats"][k] for b in d["backends"]) != s[k]: bad.append("backends' %s" % k)
for b in d["backends"]:
    name = "be%s" % b["ip"][-1]
    if b["stats"]["conns_new"] != seen.get(name, 0):
        bad.append("%s conns_new %d, answered %d" % (name, b["stats"]["conns_new"], seen.get(name, 0)))
print("; ".join(bad) or "%d in, %d out, active %d" % (s["pkts_in"], s["pkts_out"], s["conns_active"]))
sys.exit(1 if bad else 0)
PY
}
wait_for svc_ok >/dev/null || { svc_ok; fail "service counters ($DP datapath)"; }
echo "  service: $(svc_ok)"
n=$(ctl backend list 198.18.100.1:80/tcp --json | jget 'sum(b["stats"]["conns_new"] for b in d)')
[ "$n" = 400 ] || fail "backend list: $n new connections"
n=$(ctl stats --json | jget '[s for s in d["services"] if s["vip"] == "198.18.100.1"][0]["conns_new"]')
[ "$n" = 400 ] || fail "stats: services: $n new connections"
ip netns exec "$GW" python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=5).read().decode())' \
	>"$XGW_TMP/metrics.txt" || fail "metrics not served"
grep -qx 'xgw_service_connections_total{vip="198.18.100.1",port="80",proto="tcp"} 400' "$XGW_TMP/metrics.txt" ||
	{ grep '^xgw_service_conn' "$XGW_TMP/metrics.txt"; fail "metrics: service connections"; }
m=$(awk -F'[{} ]' '$1 == "xgw_backend_connections_total" && $2 ~ /vip="198.18.100.1"/ && $2 ~ /backend="198.18.2.1[123]:8080"/ {n += $NF} END {print n + 0}' "$XGW_TMP/metrics.txt")
[ "$m" = 400 ] || { grep '^xgw_backend_conn' "$XGW_TMP/metrics.txt"; fail "metrics: backends' connections $m"; }
ok "per-service and per-backend counters ($DP datapath): service list, backend list, stats, metrics"

# Closed connections stay 120 s (TIME_WAIT, set above) so that a slow,
# loaded machine still finds them.
if [ "$DP" = kernel ]; then
	n=$(ctl stats --json | jget 'd["kernel"]["ct_created"]')
else
	n=$(ctl stats --json | jget 'd["conntrack"]["created"]')
fi
[ "$n" -ge 400 ] || fail "conntrack created $n entries, expected >= 400"
ctl ct list --json >"$XGW_TMP/ct.json" || fail "ct list"
[ -s "$XGW_TMP/ct.json" ] && jget "d[-1][\"backend\"]" <"$XGW_TMP/ct.json" | grep -q "^198.18.2.1[123]:8080$" ||
	{ head -c 600 "$XGW_TMP/ct.json"; fail "ct list does not show the backend"; }
ok "conntrack created $n entries and lists them with their backends"

# ICMP echo to the VIP is answered by xgw.
ip netns exec "$CLI" ping -c 2 -i 0.2 -W 2 198.18.100.1 >/dev/null ||
	{ ctl stats --json | jget 'd.get("kernel"), d["drops"]'; fail "ping to the VIP not answered"; }
ok "ICMP echo to the VIP answered"

# A client port reused for another VIP onto the same backend (a client may:
# the destination differs), so that both connections want one backend
# tuple (be1:8080 -> client:port).  While the first is open the second is
# refused (conntrack_invalid): DNAT cannot tell their replies apart.  Once
# the first has closed (TIME_WAIT, 120 s here) a new SYN takes the tuple
# over (conntrack reused), as be1's own TCP would; before, it was refused
# until the closed entry expired: the connections that timed out in the
# remap case below under load.
ctl service add 198.18.100.5:80/tcp --datapath "$DP" || fail "service add .5"
ctl service add 198.18.100.6:80/tcp --datapath "$DP" || fail "service add .6"
ctl backend add 198.18.100.5:80/tcp 198.18.2.11:8080 || fail "backend add .5"
ctl backend add 198.18.100.6:80/tcp 198.18.2.11:8080 || fail "backend add .6"
reused() {
	ctl stats --json | jget '(d["kernel"]["ct_reused"] if "'"$DP"'" == "kernel" else d["conntrack"]["reused"])'
}
r0=$(reused)
out=$(ip netns exec "$CLI" python3 - <<'PY'
import json, socket
def conn(port, vip, timeout=3.0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.1.2", port))
    s.settimeout(timeout)
    s.connect((vip, 80))
    return s, s.makefile("r").readline().strip()
res = {}
# live: the second is refused while the first holds the tuple
a, res["first"] = conn(45001, "198.18.100.5")
try:
    b, name = conn(45001, "198.18.100.6", 1.5)
    res["while_open"] = name
    b.close()
except OSError as e:
    res["while_open"] = "refused: %s" % e
a.close()
# closed: the client closes first, be1 answers with its FIN
import time; time.sleep(0.3)
try:
    b, res["after_close"] = conn(45001, "198.18.100.6")
    b.close()
except OSError as e:
    res["after_close"] = "failed: %s" % e
print(json.dumps(res))
PY
)
echo "  port reuse: $out"
[ "$(echo "$out" | jget 'd["first"]')" = be1 ] || fail "port reuse: first connection: $out"
echo "$out" | jget 'd["while_open"]' | grep -q '^refused' || fail "port reuse: a live backend tuple given to another flow: $out"
[ "$(echo "$out" | jget 'd["after_close"]')" = be1 ] ||
	fail "port reuse: a closed connection's backend tuple not taken over by a new SYN: $out; drops: $(drops)"
r1=$(reused)
[ "$r1" -ge $((r0 + 1)) ] || fail "port reuse: conntrack reused $r0 -> $r1"
ok "a client port reused for another VIP onto the same backend: refused while the first is open, taken over once it closed (reused $r0 -> $r1)"

# A client whose source port is in the health checks' range (65024-65535:
# Windows and macOS pick ephemeral ports up to 65535): the backend's
# replies are steered to the datapath as any other (the steering program
# leaves a backend's packet to such a port to the kernel only when a
# socket of the gateway holds it: a check's).  Before, they went to the
# kernel and the connection hung.
out=$(ip netns exec "$CLI" python3 - <<'PY'
import json, socket
res = {}
for port in (65100, 65535):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.1.2", port))
    s.settimeout(3)
    try:
        s.connect(("198.18.100.5", 80))
        f = s.makefile("rwb")
        name = f.readline().strip().decode()
        f.write(b"high port\n"); f.flush()
        res[port] = name if f.readline() == b"high port\n" else "no echo"
    except OSError as e:
        res[port] = "failed: %s" % e
    s.close()
print(json.dumps(res))
PY
)
[ "$(echo "$out" | jget 'sorted(set(d.values()))')" = "['be1']" ] ||
	fail "a client port in the checks' range: $out; drops: $(drops)"
ok "clients from ports 65100 and 65535 (the checks' range) served and echoed ($out)"

# Stickiness under remapping: 40 long connections through a Maglev service
# of two backends; then a third backend is added and the weights change
# (1:1 -> 3:1:1), which moves a large share of the Maglev table.  Every
# connection keeps echoing on the backend it started with (conntrack, not
# Maglev, routes it; ct list agrees), and new connections use the new
# backend.  Then conntrack is flushed under the same connections: each one
# Maglev now maps elsewhere is picked up mid-stream by another backend,
# which resets it; their number is how many conntrack kept in place.
ctl service add 198.18.100.4:80/tcp --datapath "$DP" || fail "remap service add"
ctl backend add 198.18.100.4:80/tcp 198.18.2.11:8080 --weight 1 || fail "backend add"
ctl backend add 198.18.100.4:80/tcp 198.18.2.12:8080 --weight 1 || fail "backend add"
# new_ok N [BE]: N new connections to the service, none failed (and, with
# BE, one of them to BE).  Connections here used to time out under load
# (a few of 40-100, after a change): their client port had carried a
# connection to another VIP onto the same backend moments before, whose
# closed entry still held the backend tuple (the port reuse case above).
new_ok() {
	out=$(ip netns exec "$CLI" python3 "$HERE/conns.py" new 198.18.100.4 80 "$1")
	[ "$(echo "$out" | jget 'd["failed"]')" = 0 ] &&
		{ [ -z "${2:-}" ] || [ "$(echo "$out" | jget "d['backends'].get('$2', 0)")" -gt 0 ]; }
}
new_ok 10 || fail "new connections through 198.18.100.4: $out; drops: $(drops)"
H="$XGW_TMP/hold.json"
ip netns exec "$CLI" python3 "$HERE/conns.py" hold 198.18.100.4 80 40 30 "$H" >/dev/null 2>&1 &
hold=$!
XGW_PIDS+=($hold)
wait_for test -s "$H.ready" || fail "long connections did not start"
jget '[r["broken"] for r in d if r["broken"]]' <"$H.ready" | grep -qx '\[\]' ||
	fail "long connections through 198.18.100.4: $(cat "$H.ready"); drops: $(ctl stats --json | jget '{"drops": d["drops"], "kernel": d.get("kernel")}')"
sleep 1
ctl backend add 198.18.100.4:80/tcp 198.18.2.13:8080 --weight 1 || fail "backend add under load"
ctl backend set 198.18.100.4:80/tcp 198.18.2.11:8080 --weight 3 || fail "backend set under load"
new_ok 60 be3 || fail "new connections after the remap: $out; drops: $(drops)"
sleep 2
ctl ct list --json >"$XGW_TMP/ct4.json" || fail "ct list"
t_flush=$(date +%s.%N)
ctl ct flush >/dev/null || fail "ct flush"
sleep 2
touch "$H.stop"
wait $hold
python3 - "$H" "$XGW_TMP/ct4.json" "$t_flush" <<'PY' >"$XGW_TMP/remap.txt" || { cat "$XGW_TMP/remap.txt"; fail "connections moved under remapping"; }
import json, sys
res, ct, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), float(sys.argv[3])
be = {e["sport"]: e["backend"] for e in ct if e["dst"] == "198.18.100.4"}
before = [r for r in res if r["broken"] and r["broken_at"] < t]
wrong = [r for r in res if be.get(r["port"]) != "198.18.2.1%s:8080" % r["backend"][-1]]
moved = [r for r in res if r["broken"] and r["broken_at"] >= t]
print(len(res) - len(before), "of", len(res), "kept their backend across the remap;",
      len(moved), "moved once conntrack was flushed (Maglev alone)")
if before or wrong or not moved:
    print("broken before the flush:", before[:3], "ct disagrees:", wrong[:3], ct[:2])
    sys.exit(1)
PY
ok "remap under open connections: $(cat "$XGW_TMP/remap.txt"); new connections $out"

# A long connection survives the removal of the other backends and an
# addition; consistency comes from conntrack.
cat >"$XGW_TMP/long.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("198.18.100.1", 80), timeout=3)
f = s.makefile("rw")
name = f.readline().strip()
open(sys.argv[1], "w").write(name)
for i in range(40):            # 4 s of echoes across the reconfiguration
    f.write(f"ping {i}\n"); f.flush()
    if f.readline().strip() != f"ping {i}":
        print("MISMATCH"); sys.exit(1)
    time.sleep(0.1)
print("OK", name)
PY
rm -f "$XGW_TMP/long.name"
ip netns exec "$CLI" python3 "$XGW_TMP/long.py" "$XGW_TMP/long.name" >"$XGW_TMP/long.out" 2>&1 &
long=$!
wait_for test -s "$XGW_TMP/long.name" || fail "long connection did not start"
mine=$(cat "$XGW_TMP/long.name")
for i in 1 2 3; do
	[ "be$i" = "$mine" ] && continue
	ctl backend del 198.18.100.1:80/tcp 198.18.2.1$i:8080 || fail "backend del"
done
ctl service add 198.18.100.2:80/tcp --datapath "$DP" || fail "unrelated service add"
wait $long || { cat "$XGW_TMP/long.out"; fail "long connection broke when other backends were removed"; }
ok "long connection to $mine survived removal of the other backends ($(cat "$XGW_TMP/long.out"))"

# Back to three backends; then drain be2 (weight 0): no new connections.
for i in 1 2 3; do
	[ "be$i" = "$mine" ] && continue
	ctl backend add 198.18.100.1:80/tcp 198.18.2.1$i:8080 --weight 1 || fail "backend re-add"
done
ctl backend del 198.18.100.1:80/tcp 198.18.2.12:8080 || fail "backend del"
ctl backend add 198.18.100.1:80/tcp 198.18.2.12:8080 --weight 0 || fail "weight 0"
out=$(conns 100)
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || fail "connections failed after drain: $out; drops: $(drops)"
[ "$(echo "$out" | jget "d['seen'].get('be2', 0)")" = 0 ] || fail "drained be2 got connections: $out"
ok "weight 0 drains: 100 new connections, none to be2 ($out)"

# Policy: deny blocks, deleting the rule restores.
id=$(ctl policy add deny --src 198.18.1.2/32 --dst 198.18.100.1/32 --proto tcp --dport 80) ||
	fail "policy add"
out=$(conns 3 1)
[ "$(echo "$out" | jget 'd["fails"]')" = 3 ] || fail "deny rule did not block: $out"
ctl stats --json | jget 'd["drops"].get("policy_denied", 0)' | grep -qv '^0$' ||
	fail "policy drops not counted"
hits=$(ctl stats --json | jget "[r['hits'] for r in d['policy']['rules'] if r['id'] == $id][0]")
[ "$hits" -ge 3 ] || fail "deny rule hit counter is $hits, expected >= 3"
# Writes that leave the rules alone (be2's weight, there and back) keep
# their counts.
ctl backend set 198.18.100.1:80/tcp 198.18.2.12:8080 --weight 1 >/dev/null || fail "backend set"
ctl backend set 198.18.100.1:80/tcp 198.18.2.12:8080 --weight 0 >/dev/null || fail "backend set"
h2=$(ctl stats --json | jget "[r['hits'] for r in d['policy']['rules'] if r['id'] == $id][0]")
[ "$h2" -ge "$hits" ] || fail "deny rule hit counter went from $hits to $h2 with a backend write"
ctl policy del "$id" || fail "policy del"
out=$(conns 3)
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || fail "connections still blocked after policy del: $out"
ok "deny rule blocks (policy_denied counted); deleting it restores"

# A long connection across a move of its service to the other datapath and
# back: no conntrack entry moves; the new datapath picks the flow up
# mid-stream with the same Maglev table and seed, so the same backend.
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1 # for the kernel side
rm -f "$XGW_TMP/long.name"
ip netns exec "$CLI" python3 "$XGW_TMP/long.py" "$XGW_TMP/long.name" >"$XGW_TMP/long.out" 2>&1 &
long=$!
wait_for test -s "$XGW_TMP/long.name" || fail "long connection did not start"
sleep 1
new0=$(ctl service list --json | jget 'd[0]["stats"]["conns_new"]')
ctl service move 198.18.100.1:80/tcp --datapath "$OTHER" || fail "service move to $OTHER"
ctl service list --json | jget 'd[0]["datapath"]' | grep -qx "$OTHER" || fail "service not moved"
out=$(conns 10)
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || fail "connections failed on the $OTHER datapath: $out; drops: $(drops)"
sleep 0.5
ctl service move 198.18.100.1:80/tcp --datapath "$DP" || fail "service move back to $DP"
wait $long || { cat "$XGW_TMP/long.out"; ctl stats; fail "long connection broke across the datapath move"; }
ok "long connection survived a move to the $OTHER datapath and back ($(cat "$XGW_TMP/long.out"))"
out=$(conns 20)
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || fail "connections failed after the moves: $out; drops: $(drops)"
# The service's counts go on across the moves: both datapaths' (10 on
# $OTHER, 20 and the long one on $DP).
new1=$(ctl service list --json | jget 'd[0]["stats"]["conns_new"]')
[ "$new1" -ge $((new0 + 31)) ] || fail "conns_new $new0 -> $new1 across the moves, expected +31 at least"
ok "the service's counters went on across the moves ($new0 -> $new1 new connections)"
[ "$DP" = kernel ] || ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=0

if [ "$DP" = kernel ]; then
	ctl ct list --json | jget '[e for e in d if e.get("datapath") == "kernel"][0]["state"]' >/dev/null ||
		fail "ct list shows no kernel-datapath connection"
	ctl stats --json | jget 'd["kernel"]["redirect"] + d["kernel"]["tx"]' | grep -qv '^0$' ||
		fail "no packet left through XDP_TX or redirect"
	ok "ct list shows kernel-datapath connections; XDP forwarded packets"
	# bpf_fib_lookup for IPv6 needs IPv6 forwarding on too.
	ip netns exec "$GW" sysctl -qw net.ipv6.conf.all.forwarding=1
	# What the kernel datapath does not do is refused, not ignored.
	e=$(ctl service add 198.18.100.3:80/tcp --algo rr --datapath kernel 2>&1) &&
		fail "rr kernel service accepted"
	echo "$e" | grep -q "balances with maglev only" || fail "unclear refusal: $e"
	ok "an rr kernel service is refused with a clear error ($e)"
fi

# SNAT: backends lose their route back to the client; replies go to the
# gateway's address and are reverse-translated.
ctl service del 198.18.100.1:80/tcp || fail "service del"
ctl ct flush || fail "ct flush"
ctl service add 198.18.100.1:80/tcp --snat --datapath "$DP" || fail "service add --snat"
for i in 1 2 3; do
	ctl backend add 198.18.100.1:80/tcp 198.18.2.1$i:8080 || fail "backend add"
	ip -n "${BE[$((i-1))]}" route del default
done
out=$(conns 60)
echo "  SNAT, 60 connections: $out"
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || { ctl stats; fail "SNAT connections failed"; }
[ "$(echo "$out" | jget 'len(d["seen"])')" = 3 ] || fail "SNAT: not all backends used: $out"
ctl ct list --json | jget 'd[0].get("snat", "")' | grep -q '^198.18.2.1:' ||
	fail "SNAT address not in conntrack"
ok "SNAT: 60 connections with no route back from the backends"

# An IPv6 service: NAT of 128-bit addresses, replies steered by source, and
# the backends' neighbour discovery left to the kernel (ICMPv6 from a
# backend other than an error must not be diverted to the workers).
ctl service add "[2001:db8:100::1]:80/tcp" --datapath "$DP" || fail "v6 service add"
for i in 1 2 3; do
	ctl backend add "[2001:db8:100::1]:80/tcp" "[2001:db8:2::1$i]:8080" || fail "v6 backend add"
done
out=$(conns 30 2 2001:db8:100::1)
echo "  IPv6, 30 connections: $out"
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || { ctl stats; fail "IPv6 connections failed"; }
[ "$(echo "$out" | jget 'len(d["seen"])')" = 3 ] || fail "IPv6: not all backends used: $out"
ip -n "$GW" -6 neigh show dev gw-s | grep -q "2001:db8:2::11 .*lladdr" ||
	fail "the gateway's kernel did not learn a v6 backend's MAC (ND diverted?)"
ok "IPv6 service: 30 connections over 3 backends; ND answers reach the kernel"

# Path MTU discovery through the VIP: the backends' LAN goes to MTU 1300
# under an open connection (SNAT service), whose client then sends a
# 4000-byte line in segments that no longer fit.  The workers answer them
# with fragmentation needed quoting the packet as sent (to the VIP); the
# kernel datapath hands them to the workers untouched (counted
# punted_to_user) for that answer.  The client learns MTU 1300 for the VIP
# and the line is echoed.
lanmtu() {
	ip -n "$GW" link set gw-s mtu "$1" && ip -n "$SW" link set sw-g mtu "$1" || return 1
	for i in 1 2 3; do ip -n "${BE[$((i-1))]}" link set b0 mtu "$1" || return 1; done
}
icmp_sent() { ctl stats --json | jget 'sum(w["icmp_sent"] for w in d["workers"])'; }
punted() { ctl stats --json | jget 'd["kernel"]["punted_to_user"]'; }
rm -f "$XGW_TMP/pmtu_ready" "$XGW_TMP/pmtu_go"
ip netns exec "$CLI" python3 "$HERE/pmtu_line.py" "$XGW_TMP" 198.18.100.1 80 --greeting >"$XGW_TMP/pmtu.out" 2>&1 &
pmtu=$!
wait_for test -e "$XGW_TMP/pmtu_ready" || fail "PMTU: connection through the VIP did not start"
i0=$(icmp_sent); k0=$(punted)
lanmtu 1300 || fail "cannot set MTU 1300"
be_mtu() { [ "$(ctl ports --json | jget '[p["mtu"] for p in d if p["name"] == "backend"][0]')" = "$1" ]; }
wait_for be_mtu 1300 || fail "MTU change not seen by xgwd"
touch "$XGW_TMP/pmtu_go"
wait $pmtu
out=$(cat "$XGW_TMP/pmtu.out")
i1=$(icmp_sent); k1=$(punted)
case $out in '{"ok": true, '*) ;; *) ctl stats; fail "PMTU: 4000-byte line through the VIP: $out" ;; esac
ip -n "$CLI" route get 198.18.100.1 | grep -q "mtu 1300" ||
	fail "client did not learn MTU 1300 for the VIP: $(ip -n "$CLI" route get 198.18.100.1); $out"
[ "$i1" -gt "$i0" ] || fail "PMTU: the workers sent no ICMP error ($i0 -> $i1)"
if [ "$DP" = kernel ]; then
	[ "$k1" -gt "$k0" ] || fail "PMTU: the kernel datapath handed nothing on ($k0 -> $k1)"
fi
lanmtu 1500 || fail "cannot set MTU 1500"
ok "PMTU through the $DP datapath: $((i1 - i0)) frag-needed from the workers ($((k1 - k0)) handed on by XDP), client learnt 1300, 4000-byte line echoed in $(echo "$out" | jget 'd["ms"]') ms"

# And the other way: the client's LAN goes to MTU 1300 under an open
# connection, and the backend echoes a 4000-byte line in segments that no
# longer fit it.  The workers answer them with fragmentation needed to the
# backend quoting its reply as sent (to the SNAT address); so does the
# kernel datapath itself, in XDP (icmp_too_big_sent), where before it
# dropped them (exceeds_mtu) and the line never came back.  The backend
# learns MTU 1300 towards the SNAT address.
cli_mtu() { ip -n "$GW" link set gw-c mtu "$1" && ip -n "$CLI" link set c0 mtu "$1"; }
too_big_sent() {
	ctl stats --json | jget '(d["kernel"]["icmp_too_big_sent"] if "'"$DP"'" == "kernel" else sum(w["icmp_sent"] for w in d["workers"]))'
}
# The client forgets the MTU 1300 it learnt for the VIP above: its SYN
# would advertise an MSS that fits 1300, and the backend never send a
# segment too big.
ip -n "$CLI" route flush cache
ip -n "$CLI" route get 198.18.100.1 | grep -q "mtu 1300" && fail "client still holds MTU 1300 for the VIP"
rm -f "$XGW_TMP/pmtu_ready" "$XGW_TMP/pmtu_go"
ip netns exec "$CLI" python3 "$HERE/pmtu_line.py" "$XGW_TMP" 198.18.100.1 80 --greeting >"$XGW_TMP/pmtu.out" 2>&1 &
pmtu=$!
wait_for test -e "$XGW_TMP/pmtu_ready" || fail "PMTU back: connection through the VIP did not start"
t0=$(too_big_sent)
cli_mtu 1300 || fail "cannot set MTU 1300 on the client's LAN"
cl_mtu() { [ "$(ctl ports --json | jget '[p["mtu"] for p in d if p["name"] == "client"][0]')" = "$1" ]; }
wait_for cl_mtu 1300 || fail "MTU change not seen by xgwd"
touch "$XGW_TMP/pmtu_go"
wait $pmtu
out=$(cat "$XGW_TMP/pmtu.out")
t1=$(too_big_sent)
case $out in '{"ok": true, '*) ;; *) ctl stats --json | jget 'd.get("kernel"), d["drops"]'; fail "PMTU back: 4000-byte line echoed through the VIP: $out" ;; esac
[ "$t1" -gt "$t0" ] || fail "PMTU back: no fragmentation needed sent to the backend ($t0 -> $t1)"
learnt=""
for i in 1 2 3; do
	ip -n "${BE[$((i-1))]}" route get 198.18.2.1 | grep -q "mtu 1300" && learnt="$learnt be$i"
done
[ -n "$learnt" ] || fail "PMTU back: no backend learnt MTU 1300 towards the SNAT address"
cli_mtu 1500 || fail "cannot set MTU 1500"
wait_for cl_mtu 1500 || fail "MTU 1500 not seen by xgwd"
ok "PMTU back through the $DP datapath: $((t1 - t0)) fragmentation needed to the backend,$learnt learnt 1300, 4000-byte line echoed in $(echo "$out" | jget 'd["ms"]') ms"

# The running config, dumped by xgwctl, is a file xgwd accepts back.
ctl config get >"$XGW_TMP/dump.json" || fail "config get"
ip netns exec "$GW" "$XGWD" --check -c "$XGW_TMP/dump.json" >/dev/null ||
	fail "xgwd rejects the config that xgwctl dumped"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=[s for s in d['services'] if s['vip'] == '198.18.100.1'][0]; sys.exit(0 if s['snat'] and s['datapath'] == sys.argv[2] and len(s['backends']) == 3 else 1)" "$XGW_TMP/dump.json" "$DP" ||
	fail "dumped config does not hold the running service"
ok "config get round-trips through xgwd --check"

# Clean stop; a sanitizer build of xgwd must leave no report in its log.
kill -TERM "$XGWD_PID"
wait "$XGWD_PID" || { tail -30 "$XGW_TMP/xgwd.log"; fail "xgwd did not exit 0 on SIGTERM"; }
if sanitizer_report "$XGW_TMP/xgwd.log" 100; then
	fail "sanitizer report in xgwd's log"
fi
ok "xgwd stopped cleanly"
echo "PASS"
