#!/bin/bash
# A fleet of two gateways behind an ECMP router: each runs xgwd and its own
# BIRD, announcing the same VIP over BGP; the router's BIRD merges the two
# routes into one ECMP route (merge paths on) hashed on L4
# (fib_multipath_hash_policy=1).  Backends on a LAN shared by both.
#
#   [cli] c0 198.18.1.2 -- r-c 198.18.1.1 [rt: BIRD AS 65000] r-g1 198.18.9.1/30 -- g-r 198.18.9.2 [gw1: xgwd+BIRD AS 65001] g-s 198.18.2.1 --+
#                                                             r-g2 198.18.9.5/30 -- g-r 198.18.9.6 [gw2: xgwd+BIRD AS 65001] g-s 198.18.2.2 --+- [sw: br0]
#                                                                                                   [be1..be3] 198.18.2.11-13:8080 ---------+
#   VIP 198.18.100.1:80/tcp, user datapath, HTTP checks every 400 ms, fall 2.
#
# Backends return a flow's packets through the gateway that sent it them:
# each tags its conntrack entry with the source MAC of the flow's latest
# packet and routes replies by that mark (nft + ip rule), so that a flow
# moved to the other gateway gets its replies through that one too.  (A
# DNAT gateway needs symmetric paths; this is one way, SNAT another, at
# the cost of failover.)
#
# Shown: new connections spread over both gateways; the VIP announced by
# both, and withdrawn by a drained one; the death of a gateway (xgwd and
# BIRD kill -9, its host silent) withdraws its route within the BGP hold
# time and its established connections go on through the other gateway to
# the same backends (picked up mid-stream by the same Maglev table); a
# killed backend is marked down, the VIP stays; the last one killed: the
# VIP is withdrawn.  Figures: connections surviving, stalls.
#
#   fleet.sh XGWD XGWCTL
set -u
XGWD=${1:?usage: fleet.sh XGWD XGWCTL}
XGWCTL=${2:?usage: fleet.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
command -v bird >/dev/null || skip "bird (BIRD 2) not installed"
command -v nft >/dev/null || skip "nft not installed"
START=$(date +%s)

RT=$(mkns rt); CLI=$(mkns cli); SW=$(mkns sw)
GW=("$(mkns gw1)" "$(mkns gw2)")
veth "$CLI" c0 "$RT" r-c
no_tx_csum "$CLI" c0
ip -n "$CLI" addr add 198.18.1.2/24 dev c0
ip -n "$CLI" route add default via 198.18.1.1
ip -n "$RT" addr add 198.18.1.1/24 dev r-c
ip netns exec "$RT" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$RT" sysctl -qw net.ipv4.fib_multipath_hash_policy=1
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
for g in 1 2; do
	ns=${GW[$((g - 1))]}
	veth "$ns" g-r "$RT" r-g$g
	ip -n "$RT" addr add 198.18.9.$((g * 4 - 3))/30 dev r-g$g
	ip -n "$ns" addr add 198.18.9.$((g * 4 - 2))/30 dev g-r
	veth "$ns" g-s "$SW" sw-g$g
	ip -n "$SW" link set sw-g$g master br0
	ip -n "$ns" addr add 198.18.2.$g/24 dev g-s
	ip -n "$ns" route add 198.18.1.0/24 via 198.18.9.$((g * 4 - 3))
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0
	xdp_rx_peer "$RT" r-g$g
	xdp_rx_peer "$SW" sw-g$g
done
MAC1=$(ip -n "${GW[0]}" -j link show g-s | jget "d[0]['address']")
MAC2=$(ip -n "${GW[1]}" -j link show g-s | jget "d[0]['address']")
BE=()
for i in 1 2 3; do
	ns=$(mkns be$i)
	BE+=("$ns")
	lan_backend "$ns" "$SW" $i
	# Replies through the gateway that sent the flow's latest packet
	# (rules below override the default route).
	for g in 1 2; do
		ip -n "$ns" rule add fwmark $g table 10$g
		ip -n "$ns" route add default via 198.18.2.$g table 10$g
	done
	ip netns exec "$ns" nft -f - <<NFT || fail "nft on be$i"
table inet ret {
	chain c_pre { type filter hook prerouting priority -150;
		ether saddr $MAC1 ct mark set 1; ether saddr $MAC2 ct mark set 2; }
	chain c_out { type route hook output priority -150; meta mark set ct mark; }
}
NFT
done
declare -A BEPID
start_be() {
	ip netns exec "${BE[$(($1 - 1))]}" python3 "$HERE/health_be.py" be$1 198.18.2.1$1 "$XGW_TMP" &
	BEPID[$1]=$!
	XGW_PIDS+=($!)
}
stop_be() { kill "${BEPID[$1]}"; wait "${BEPID[$1]}" 2>/dev/null; }
for i in 1 2 3; do start_be $i; done

# BIRD: the router merges equal routes from both gateways into ECMP.
cat >"$XGW_TMP/bird-rt.conf" <<'EOF'
router id 198.18.1.1;
protocol device { scan time 1; }
protocol kernel { merge paths on; ipv4 { import none; export all; }; }
template bgp gwpeer {
	local as 65000;
	hold time 3; keepalive time 1; connect retry time 1;
	ipv4 { import all; export none; };
}
protocol bgp peer_gw1 from gwpeer { neighbor 198.18.9.2 as 65001; }
protocol bgp peer_gw2 from gwpeer { neighbor 198.18.9.6 as 65001; }
EOF
for g in 1 2; do
	cat >"$XGW_TMP/bird-gw$g.conf" <<EOF
router id 198.18.9.$((g * 4 - 2));
protocol device { scan time 1; }
protocol kernel vips { kernel table 200; learn; scan time 1; ipv4 { import all; export none; }; }
protocol bgp to_router {
	local 198.18.9.$((g * 4 - 2)) as 65001;
	neighbor 198.18.9.$((g * 4 - 3)) as 65000;
	hold time 3; keepalive time 1; connect retry time 1;
	ipv4 { import none; export where proto = "vips"; };
}
EOF
done
declare -A BIRDPID
start_bird() { # NAME NS
	ip netns exec "$2" bird -f -c "$XGW_TMP/bird-$1.conf" -s "$XGW_TMP/bird-$1.ctl" \
		-P "$XGW_TMP/bird-$1.pid" >"$XGW_TMP/bird-$1.log" 2>&1 &
	BIRDPID[$1]=$!
	XGW_PIDS+=($!)
}
start_bird rt "$RT"
start_bird gw1 "${GW[0]}"
start_bird gw2 "${GW[1]}"

CORE=$(xgw_core)
for g in 1 2; do
	cat >"$XGW_TMP/xgw$g.json" <<JSON
{ "ports": [
    { "name": "client", "iface": "g-r", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "backend", "iface": "g-s", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": 65536 },
  "announce": { "speaker": "bird", "table": 200, "drain_timeout_s": 2 },
  "services": [
    { "vip": "198.18.100.1", "port": 80, "proto": "tcp",
      "check": { "type": "http", "path": "/health", "interval_ms": 400, "timeout_ms": 300,
                 "rise": 2, "fall": 2 },
      "backends": [ { "ip": "198.18.2.11", "port": 8080 }, { "ip": "198.18.2.12", "port": 8080 },
                    { "ip": "198.18.2.13", "port": 8080 } ] } ],
  "ctl": { "socket": "$XGW_TMP/xgw$g.sock" } }
JSON
done
declare -A XPID
start_xgwd() { # G
	ip netns exec "${GW[$(($1 - 1))]}" "$XGWD" -c "$XGW_TMP/xgw$1.json" >>"$XGW_TMP/xgwd$1.log" 2>&1 &
	XPID[$1]=$!
	XGW_PIDS+=($!)
	wait_for ctlg "$1" ports || { tail -20 "$XGW_TMP/xgwd$1.log"; fail "xgwd on gw$1 did not start"; }
}
ctlg() { local g=$1; shift; ip netns exec "${GW[$((g - 1))]}" "$XGWCTL" -s "$XGW_TMP/xgw$g.sock" "$@"; }
start_xgwd 1
start_xgwd 2

# nexthops: the gateways the router's VIP route goes to ("1 2", "1", "").
nexthops() {
	ip -n "$RT" route show 198.18.100.1 | grep -o 'via 198.18.9.[26]' |
		sed 's/via 198.18.9.2/1/; s/via 198.18.9.6/2/' | sort | tr '\n' ' ' | sed 's/ $//'
}
is_nh() { [ "$(nexthops)" = "$1" ]; }
ms() { date +%s%3N; }
# wait_nh WANT LIMIT_MS: until the route's gateways are WANT; prints the ms.
wait_nh() {
	local t0
	t0=$(ms)
	until is_nh "$1"; do
		[ $(($(ms) - t0)) -gt "$2" ] && return 1
		sleep 0.05
	done
	echo $(($(ms) - t0))
}
created() { ctlg "$1" stats --json | jget "sum(w.get('ct_created', 0) for w in d['workers'])"; }
new_conns() { ip netns exec "$CLI" python3 "$HERE/conns.py" new 198.18.100.1 80 "$1"; }

wait_nh "1 2" 30000 >/dev/null ||
	{ ip -n "$RT" route; tail "$XGW_TMP"/bird-*.log; fail "the router has no ECMP route to the VIP via both gateways"; }
echo "# router: $(ip -n "$RT" route show 198.18.100.1 | tr '\n' ' ')"
ok "the VIP is announced by both gateways: one ECMP route on the router"

c1=$(created 1) c2=$(created 2)
r=$(new_conns 60)
d1=$(($(created 1) - c1)) d2=$(($(created 2) - c2))
echo "# 60 new connections: gw1 took $d1, gw2 $d2; backends: $r"
[ "$d1" -ge 10 ] && [ "$d2" -ge 10 ] || fail "connections not spread over both gateways: $d1 / $d2"
echo "$r" | jget "d['failed'] == 0 and len(d['backends']) == 3" | grep -q True ||
	fail "connections failed or missed a backend: $r"
ok "new connections spread over both gateways ($d1 / $d2 of 60)"

# Drain gw2: its route leaves the router, gw1 serves everything, xgwd exits.
t0=$(ms)
ctlg 2 drain >/dev/null || fail "drain gw2"
t=$(wait_nh 1 10000) || fail "drained gw2 still on the router: $(nexthops)"
for _ in $(seq 1 100); do kill -0 "${XPID[2]}" 2>/dev/null || break; sleep 0.1; done
kill -0 "${XPID[2]}" 2>/dev/null && fail "drained xgwd on gw2 did not exit"
r=$(new_conns 20)
echo "$r" | jget "d['failed'] == 0" | grep -q True || fail "connections failed with gw2 drained: $r"
ok "drained gw2: withdrawn from the router in $t ms; xgwd exited; gw1 serves ($r)"
start_xgwd 2
wait_nh "1 2" 20000 >/dev/null || fail "gw2 not announced again after its restart"

# The death of gw1 under 20 established connections.
HOLD_S=25
ip netns exec "$CLI" python3 "$HERE/conns.py" hold 198.18.100.1 80 20 $HOLD_S "$XGW_TMP/hold.json" &
HOLD=$!
XGW_PIDS+=($HOLD)
wait_for test -f "$XGW_TMP/hold.json.ready" || fail "held connections did not open"
sleep 1
# Which gateway carries each: the client ports in each one's conntrack.
ports1=$(ctlg 1 ct list --json --limit 0 | jget "','.join(str(c['sport']) for c in d if c['state'] == 'established')")
on1=$(echo "$ports1" | tr ',' ' ' | wc -w)
on2=$(ctlg 2 ct list --json --limit 0 | jget "sum(1 for c in d if c['state'] == 'established')")
echo "# established before: $on1 through gw1, $on2 through gw2"
[ "$on1" -gt 0 ] || fail "no held connection through gw1: nothing to fail over"
t0=$(ms)
# The host dies: first it goes silent (nothing in or out, ARP included;
# its links stay up), so that neither xgwd's nor BIRD's end closes a
# connection; then its processes are killed.  Only the BGP hold timer
# tells the router.
ip netns exec "${GW[0]}" nft -f - <<'NFT' || fail "nft on gw1"
table inet dead {
	chain c_in { type filter hook input priority -300; policy drop; }
	chain c_fwd { type filter hook forward priority -300; policy drop; }
	chain c_out { type filter hook output priority -300; policy drop; }
}
table arp dead {
	chain c_in { type filter hook input priority 0; policy drop; }
	chain c_out { type filter hook output priority 0; policy drop; }
}
NFT
kill -9 "${XPID[1]}" "${BIRDPID[gw1]}"
wait "${XPID[1]}" 2>/dev/null
t=$(wait_nh 2 10000) || fail "dead gw1's route still on the router after 10 s: $(nexthops)"
[ "$t" -le 4500 ] || fail "dead gw1 withdrawn after $t ms: more than the 3 s hold time + 1.5 s"
# Not sooner than a hold timer can expire (keepalives every 1 s): else a
# closed session, not the silence, withdrew it.
[ "$t" -ge 1500 ] || fail "dead gw1 withdrawn after only $t ms: the session was closed, not timed out"
ok "gw1 killed (xgwd and BIRD kill -9, host silent): its route withdrawn in $t ms (hold time 3 s)"
wait "$HOLD"
res=$(jget "'%d %d %d %d' % (sum(1 for c in d if not c['broken']), max(c['max_stall_ms'] for c in d), sorted(c['max_stall_ms'] for c in d if c['port'] in ($ports1,))[len([c for c in d if c['port'] in ($ports1,)]) // 2], max(c['max_stall_ms'] for c in d if c['port'] not in ($ports1,)))" <"$XGW_TMP/hold.json")
read -r alive stall med other <<<"$res"
jget "' '.join('%d:%d%s' % (c['port'], c['max_stall_ms'], '*' if c['port'] in ($ports1,) else '') for c in d)" <"$XGW_TMP/hold.json" | sed 's/^/# port:stall (* = through gw1): /'

echo "# after gw1's death: $alive of 20 connections alive; the $on1 moved: median stall $med ms, longest $stall ms; the others' longest stall $other ms"
jget "[c for c in d if c['broken']]" <"$XGW_TMP/hold.json" | grep -q '^\[\]$' ||
	fail "connections broke: $(jget "[c for c in d if c['broken']]" <"$XGW_TMP/hold.json")"
ok "all 20 established connections survived gw1's death ($on1 moved to gw2, same backends); longest stall $stall ms"

# A backend killed: down on gw2, no new connection to it, VIP stays.
stop_be 3
health() { ctlg 2 backend list 198.18.100.1:80/tcp --json | jget "[b['health']['state'] for b in d if b['ip'] == '$1'][0]"; }
for _ in $(seq 1 60); do [ "$(health 198.18.2.13)" = down ] && break; sleep 0.1; done
[ "$(health 198.18.2.13)" = down ] || fail "killed be3 not marked down"
r=$(new_conns 30)
echo "# be3 killed: 30 new connections: $r"
echo "$r" | jget "d['failed'] == 0 and 'be3' not in d['backends']" | grep -q True ||
	fail "a new connection reached be3 or failed: $r"
is_nh 2 || fail "the VIP left the router with two backends up: $(nexthops)"
ok "a killed backend is marked down, gets no new connection; the VIP stays announced"

stop_be 1
stop_be 2
t=$(wait_nh "" 10000) || fail "VIP still on the router with every backend down: $(nexthops)"
ok "every backend killed: the VIP is withdrawn from the router ($t ms)"
echo "# fleet test took $(($(date +%s) - START)) s"
for g in 1 2; do
	if sanitizer_report "$XGW_TMP/xgwd$g.log" 40; then fail "sanitizer report in gw$g's xgwd log"; fi
done
