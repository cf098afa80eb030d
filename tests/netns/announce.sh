#!/bin/bash
# VIP announcement through BIRD: xgwd keeps the VIPs it serves in routing
# table 200 (route protocol 252), the gateway's BIRD learns that table and
# announces it over BGP to a router's BIRD, which installs the routes.
#
#   [rt] r0 198.18.9.2 (BIRD, AS 65000) ---- g0 198.18.9.1 [gw] (xgwd + BIRD, AS 65001)
#
# Checked: a VIP with a usable backend reaches the router; one whose
# backends all have weight 0 does not, until a weight is set; removing the
# last backend withdraws it; a kill -9 leaves the route, and the next xgwd
# replaces it; xgwctl drain withdraws everything and xgwd exits 0.
#
#   announce.sh XGWD XGWCTL
set -uo pipefail
XGWD=$1
XGWCTL=$2
. "$(dirname "$0")/lib.sh"
require_root
command -v bird >/dev/null || skip "bird (BIRD 2) not installed"

GW=$(mkns gw)
RT=$(mkns rt)
veth "$GW" g0 "$RT" r0
ip -n "$GW" addr add 198.18.9.1/24 dev g0
ip -n "$RT" addr add 198.18.9.2/24 dev r0

cat >"$XGW_TMP/bird-gw.conf" <<'EOF'
router id 198.18.9.1;
protocol device { scan time 1; }
# The VIPs xgwd keeps in table 200 (alien routes: learn).
protocol kernel vips {
	kernel table 200;
	learn;
	scan time 1;
	ipv4 { import all; export none; };
}
protocol bgp to_router {
	local 198.18.9.1 as 65001;
	neighbor 198.18.9.2 as 65000;
	hold time 3; keepalive time 1; connect retry time 1;
	ipv4 { import none; export where proto = "vips"; };
}
EOF
cat >"$XGW_TMP/bird-rt.conf" <<'EOF'
router id 198.18.9.2;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; }
protocol bgp to_gw {
	local 198.18.9.2 as 65000;
	neighbor 198.18.9.1 as 65001;
	hold time 3; keepalive time 1; connect retry time 1;
	ipv4 { import all; export none; };
}
EOF
for n in gw rt; do
	ns=$([ $n = gw ] && echo "$GW" || echo "$RT")
	ip netns exec "$ns" bird -f -c "$XGW_TMP/bird-$n.conf" -s "$XGW_TMP/bird-$n.ctl" \
		-P "$XGW_TMP/bird-$n.pid" >"$XGW_TMP/bird-$n.log" 2>&1 &
	XGW_PIDS+=($!)
done
for n in gw rt; do
	wait_for birdc -s "$XGW_TMP/bird-$n.ctl" show status ||
		{ cat "$XGW_TMP/bird-$n.log"; fail "BIRD ($n) did not start"; }
done

CORE=$(xgw_core)
SOCK=$XGW_TMP/xgw.sock
cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [ { "name": "p", "iface": "g0", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": 65536 },
  "announce": { "speaker": "bird", "table": 200, "drain_timeout_s": 5 },
  "ctl": { "socket": "$SOCK" } }
JSON
start_xgwd() {
	ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >>"$XGW_TMP/xgwd.log" 2>&1 &
	XGWD_PID=$!
	XGW_PIDS+=($XGWD_PID)
	wait_for ctl ports || { tail -20 "$XGW_TMP/xgwd.log"; fail "xgwd did not start"; }
}
ctl() { ip netns exec "$GW" "$XGWCTL" -s "$SOCK" "$@"; }
on_router() { ip -n "$RT" route show "$1" | grep -q "via 198.18.9.1"; }
in_table() { ip -n "$GW" route show table 200 | grep -q "blackhole $1 proto 252"; }
# wait_gone CMD...: up to 10 s for CMD to fail.
wait_gone() {
	for _ in $(seq 1 100); do "$@" || return 0; sleep 0.1; done
	return 1
}

start_xgwd
ctl service add 198.18.100.1:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.10:8080 >/dev/null || fail "backend add"
ctl service add 198.18.100.2:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.2:80/tcp 198.18.2.11:8080 --weight 0 >/dev/null || fail "backend add"
wait_for in_table 198.18.100.1 || { ip -n "$GW" route show table 200; fail "VIP not in table 200"; }
# BGP comes up within a few seconds (connect retry 1 s).
for _ in 1 2 3; do wait_for on_router 198.18.100.1 && break; done
on_router 198.18.100.1 || { cat "$XGW_TMP/bird-gw.log"; ip -n "$RT" route; fail "router did not learn 198.18.100.1"; }
in_table 198.18.100.2 && fail "a VIP whose backends all have weight 0 is announced"
ok "a served VIP reaches the router over BGP; one with only drained backends does not"

ctl backend set 198.18.100.2:80/tcp 198.18.2.11:8080 --weight 1 >/dev/null || fail "backend set"
wait_for on_router 198.18.100.2 || fail "VIP not announced once a backend has weight"
ctl backend del 198.18.100.1:80/tcp 198.18.2.10:8080 >/dev/null || fail "backend del"
wait_gone on_router 198.18.100.1 || fail "VIP without backends still on the router"
on_router 198.18.100.2 || fail "the other VIP went away too"
ok "weight set: announced; last backend removed: withdrawn from the router"

# kill -9: the route stays (BGP still up); the next xgwd takes it over.
kill -9 "$XGWD_PID"
wait "$XGWD_PID" 2>/dev/null
in_table 198.18.100.2 || fail "route gone after kill -9 (expected to stay)"
ip link show dev g0 >/dev/null 2>&1 # (XDP program stays attached too)
start_xgwd
wait_for grep -q "removed 1 stale announcement" "$XGW_TMP/xgwd.log" ||
	fail "the new xgwd did not remove its predecessor's route"
in_table 198.18.100.2 && fail "a route of the dead xgwd is still announced by the new one (no service)"
wait_gone on_router 198.18.100.2 || fail "router still has the dead xgwd's VIP"
ok "after kill -9 the next xgwd replaces the stale announcements"

ctl service add 198.18.100.3:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.3:80/tcp 198.18.2.12:8080 >/dev/null || fail "backend add"
wait_for on_router 198.18.100.3 || fail "VIP not announced"
ctl drain >"$XGW_TMP/drain.json" || fail "drain"
wait_gone on_router 198.18.100.3 || fail "drain did not withdraw the VIP"
for _ in $(seq 1 100); do kill -0 "$XGWD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$XGWD_PID" 2>/dev/null && fail "xgwd still running 10 s after drain with no connections"
wait "$XGWD_PID"
rc=$?
[ "$rc" = 0 ] || fail "xgwd exited $rc after drain"
in_table 198.18.100.3 && fail "route left in table 200 after the drain"
ok "drain: withdrawn from the router, xgwd exited 0 with no connection left"
