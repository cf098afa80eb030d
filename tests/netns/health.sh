#!/bin/bash
# Active health checks against real servers: HTTP checks on a TCP service,
# UDP checks on a UDP one.  A backend whose server dies is marked down
# within interval x fall, gets no new connection, and the VIP stays
# announced (table 200); one whose check fails while it still serves keeps
# its established connection (on_down "keep"), or loses them to a reset
# (on_down "reset"); all down: the VIP is
# withdrawn; a server back: the backend is up again within interval x rise
# and the VIP announced.  Checks come from the gateway's address and a
# check port; what cannot be served is refused.
#
# XGW_DATAPATH=user (default) or kernel: which datapath serves the services.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- [sw: br0] -+- [be1] 198.18.2.11
#                                                                               +- [be2] 198.18.2.12
#   VIP 198.18.100.1:80/tcp -> :8080 (http check /health)                      +- [be3] 198.18.2.13
#   VIP 198.18.100.1:53/udp -> :5353 (udp check)
#
#   health.sh XGWD XGWCTL
set -u
XGWD=${1:?usage: health.sh XGWD XGWCTL}
XGWCTL=${2:?usage: health.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
DP=${XGW_DATAPATH:-user}
echo "# datapath: $DP"
command -v python3 >/dev/null || skip "python3 missing"
command -v curl >/dev/null || skip "curl missing"

CLI=$(mkns cli); GW=$(mkns gw); SW=$(mkns sw)
cli_gw "$CLI" "$GW"
veth "$GW" gw-s "$SW" sw-g
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
ip -n "$SW" link set sw-g master br0
ip -n "$GW" addr add 198.18.2.1/24 dev gw-s
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=$([ "$DP" = kernel ] && echo 1 || echo 0)
xdp_rx_peer "$CLI" c0
xdp_rx_peer "$SW" sw-g
BE=()
for i in 1 2 3; do
	ns=$(mkns be$i)
	BE+=("$ns")
	lan_backend "$ns" "$SW" $i
done
declare -A BEPID
start_be() {
	ip netns exec "${BE[$(($1 - 1))]}" python3 "$HERE/health_be.py" be$1 198.18.2.1$1 "$XGW_TMP" &
	BEPID[$1]=$!
	XGW_PIDS+=($!)
	wait_for ip netns exec "${BE[$(($1 - 1))]}" python3 -c \
		"import socket; socket.create_connection(('198.18.2.1$1', 8080), 1)" ||
		fail "backend be$1 did not start"
}
stop_be() { kill "${BEPID[$1]}"; wait "${BEPID[$1]}" 2>/dev/null; }
for i in 1 2 3; do start_be $i; done

# The backends are Python servers on a shared 2-CPU machine: they may take
# a few hundred ms to answer, hence no shorter timeout.
INTERVAL=400 TIMEOUT=300 FALL=2 RISE=2
# Down within interval x fall + timeout (the last failed check may be a
# timeout), plus SLACK ms for the killed process to exit and the threads
# to be scheduled.
SLACK=250
LIMIT=$((INTERVAL * FALL + TIMEOUT + SLACK))
CORE=$(xgw_core)
SOCK=$XGW_TMP/xgw.sock
cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [
    { "name": "client", "iface": "gw-c", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "backend", "iface": "gw-s", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": 65536 },
  "announce": { "speaker": "bird", "table": 200 },
  "tunnel": { "local_ip": "198.18.2.1" },
  "services": [
    { "vip": "198.18.100.1", "port": 80, "proto": "tcp", "datapath": "$DP",
      "check": { "type": "http", "path": "/health", "status": 200, "interval_ms": $INTERVAL,
                 "timeout_ms": $TIMEOUT, "rise": $RISE, "fall": $FALL, "on_down": "keep" },
      "backends": [ { "ip": "198.18.2.11", "port": 8080 }, { "ip": "198.18.2.12", "port": 8080 },
                    { "ip": "198.18.2.13", "port": 8080 } ] },
    { "vip": "198.18.100.1", "port": 53, "proto": "udp", "datapath": "$DP",
      "check": { "type": "udp", "send": "ping", "expect": "ping", "interval_ms": $INTERVAL,
                 "timeout_ms": $TIMEOUT, "rise": $RISE, "fall": $FALL },
      "backends": [ { "ip": "198.18.2.11", "port": 5353 }, { "ip": "198.18.2.12", "port": 5353 } ] } ],
  "metrics": { "listen": "127.0.0.1:9100" },
  "ctl": { "socket": "$SOCK" } }
JSON
XGW_GW_NS=$GW XGW_CTL_BIN=$XGWCTL
ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/xgwd.log" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
wait_for ctl ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd did not start"; }

SVC=198.18.100.1:80/tcp
USVC=198.18.100.1:53/udp
# health SVC BACKEND: its state ("up", "down", "unchecked").
health() {
	ctl backend list "$1" --json |
		jget "[b['health']['state'] for b in d if '%s:%s' % (b['ip'], b['port']) == '$2'][0]"
}
checks() {
	ctl backend list "$1" --json |
		jget "[b['health'].get('checks', 0) for b in d if '%s:%s' % (b['ip'], b['port']) == '$2'][0]"
}
# checked SVC BACKEND: checked twice at least.
checked() { [ "$(checks "$1" "$2")" -ge 2 ]; }
announced() { ip -n "$GW" route show table 200 | grep -q "blackhole 198.18.100.1 proto 252"; }
new_conns() { ip netns exec "$CLI" python3 "$HERE/conns.py" new 198.18.100.1 80 "$1"; }
ms() { date +%s%3N; }
# wait_state SVC BACKEND STATE LIMIT_MS: polls until the backend is in
# STATE, at most LIMIT_MS (plus one poll).
wait_state() {
	local t0
	t0=$(ms)
	until [ "$(health "$1" "$2")" = "$3" ]; do
		[ $(($(ms) - t0)) -gt "$4" ] && return 1
		sleep 0.05
	done
}
# since T0 TEXT: ms from T0 (date +%s.%3N) to xgwd's first log line with
# TEXT ("198.18.2.12:8080 of 198.18.100.1:80/tcp is down") after T0.
since() {
	awk -v t0="$1" -v what="$2" 'index($0, what) && $1 >= t0 { printf "%d\n", ($1 - t0) * 1000; exit }' \
		"$XGW_TMP/xgwd.log"
}
now() { date +%s.%3N; }
# hold_conns NAME: 24 long connections for 8 s in the background (HOLD),
# results in $XGW_TMP/NAME.json; returns once they are open.
hold_conns() {
	ip netns exec "$CLI" python3 "$HERE/conns.py" hold 198.18.100.1 80 24 8 "$XGW_TMP/$1.json" &
	HOLD=$!
	XGW_PIDS+=($HOLD)
	wait_for test -f "$XGW_TMP/$1.json.ready" || fail "held connections did not open"
}

# 1. All up, checked, from the gateway's address and a check port.
for b in 11 12 13; do
	wait_for checked $SVC 198.18.2.$b:8080 ||
		fail "backend 198.18.2.$b not checked: $(ctl backend list $SVC --json)"
	[ "$(health $SVC 198.18.2.$b:8080)" = up ] || fail "198.18.2.$b not up"
done
for b in 11 12; do
	wait_for checked $USVC 198.18.2.$b:5353 ||
		fail "UDP backend not checked: $(ctl backend list $USVC --json)"
	[ "$(health $USVC 198.18.2.$b:5353)" = up ] || fail "UDP backend 198.18.2.$b not up"
done
src=$(sort -u "$XGW_TMP/be1.checks" | awk '{print $1}' | sort -u)
[ "$src" = 198.18.2.1 ] || fail "checks came from '$src', not the gateway's 198.18.2.1"
awk '$2 < 65024 || $2 > 65535 { bad = 1 } END { exit bad }' "$XGW_TMP/be1.checks" ||
	fail "a check left from a port outside 65024-65535: $(sort -u "$XGW_TMP/be1.checks" | head)"
ctl service list | grep -q "up (ok" || fail "service list shows no health: $(ctl service list)"
r=$(new_conns 60)
echo "# 60 new connections, all up: $r"
for b in be1 be2 be3; do
	echo "$r" | jget "d['backends'].get('$b', 0) > 0 and d['failed'] == 0" | grep -q True ||
		fail "not every backend took connections: $r"
done
announced || fail "VIP not announced"
ok "http and udp checks pass from 198.18.2.1, check ports; every backend serves"

# 2. A long connection to be3 (on_down keep), then be3's check fails while
# its server still serves: no new connections, the established one lives.
# 24 long connections: Maglev gives none to be3 once in ~17,000 runs
# ((2/3)^24).  With 12 it was once in 130, and a CI run stopped at this
# point, most likely on that.
hold_conns hold
on3=$(jget "sum(1 for c in d if c['backend'] == 'be3')" <"$XGW_TMP/hold.json.ready")
[ "$on3" -gt 0 ] || fail "no held connection went to be3: $(cat "$XGW_TMP/hold.json.ready")"
t0=$(now)
touch "$XGW_TMP/be3.sick"
wait_state $SVC 198.18.2.13:8080 down 5000 || fail "be3 failing its check not marked down"
t=$(since "$t0" "198.18.2.13:8080 of $SVC is down")
[ "$t" -le $LIMIT ] || fail "be3 marked down after $t ms, more than $LIMIT"
echo "# be3 (503) marked down after $t ms (interval x fall = $((INTERVAL * FALL)) ms)"
ctl backend list $SVC | grep -q "down (bad_status 503" || fail "last result not shown: $(ctl backend list $SVC)"
r=$(new_conns 60)
echo "# 60 new connections, be3 down: $r"
echo "$r" | jget "d['backends'].get('be3', 0) == 0 and d['failed'] == 0" | grep -q True ||
	fail "a new connection reached the down backend, or failed: $r"
wait "$HOLD"
jget "[c for c in d if c['broken'] or c['echoes'] < 40]" <"$XGW_TMP/hold.json" | grep -q '^\[\]$' ||
	fail "held connections broke: $(cat "$XGW_TMP/hold.json")"
ok "be3 down on a 503 in $t ms (limit $LIMIT); no new connection; its $on3 established ones kept (on_down keep)"

# 3. be2's server killed (TCP and UDP): down, the VIP stays announced.
t0=$(now)
stop_be 2
wait_state $SVC 198.18.2.12:8080 down 5000 || fail "killed be2 not marked down"
wait_state $USVC 198.18.2.12:5353 down 5000 || fail "killed be2 (udp) not marked down"
t=$(since "$t0" "198.18.2.12:8080 of $SVC is down")
tu=$(since "$t0" "198.18.2.12:5353 of $USVC is down")
[ "$t" -le $LIMIT ] && [ "$tu" -le $LIMIT ] ||
	fail "be2 marked down after $t ms (tcp), $tu ms (udp): more than $LIMIT"
r=$(new_conns 40)
echo "# be2 killed: down after $t ms (tcp/http), $tu ms (udp); 40 new connections: $r"
echo "$r" | jget "d['backends'] == {'be1': 40} and d['failed'] == 0" | grep -q True ||
	fail "new connections not all on be1: $r"
announced || fail "VIP withdrawn with a backend still up"
m=$(ctl stats --json | jget "[h['up'] for h in d['health'] if h['backend'] == '198.18.2.12:8080' and h['service'].endswith('/tcp')][0]")
[ "$m" = False ] || fail "stats health of be2: $m"
# A UDP check to the closed port gets the backend's port unreachable on
# its own socket (the steering program leaves ICMP errors about the
# checks' packets to the gateway's stack): refused, not a timeout.
# The check that took it down says why (the backend's kernel sends the
# first 6 port unreachables at once, later ones 1 a second, so later
# checks may time out).
lr=$(grep "198.18.2.12:5353 of $USVC is down" "$XGW_TMP/xgwd.log")
case $lr in *"(refused"*) ;; *) fail "UDP check of the killed be2: $lr; expected refused" ;; esac
ok "killed backend down in $t ms (tcp) / $tu ms (udp); new connections all to be1; VIP still announced"

# 4. The last one killed: the VIP is withdrawn.
t0=$(now)
stop_be 1
wait_state $SVC 198.18.2.11:8080 down 5000 || fail "be1 not marked down"
wait_state $USVC 198.18.2.11:5353 down 5000 || fail "be1 (udp) not marked down"
for _ in $(seq 1 40); do announced || break; sleep 0.05; done
announced && fail "VIP still announced with every backend down"
t=$(since "$t0" "withdraw 198.18.100.1 (table 200)")
ok "every backend down: VIP withdrawn from table 200, $t ms after the last server was killed"

# 5. be2 back: up within interval x rise, announced again, serving.
t0=$(now)
start_be 2
wait_state $SVC 198.18.2.12:8080 up 10000 || fail "be2 not back up"
t=$(since "$t0" "198.18.2.12:8080 of $SVC is up")
wait_for announced || fail "VIP not announced again"
r=$(new_conns 20)
echo "# be2 back: up $t ms after its server was started (Python start-up included; interval x rise = $((INTERVAL * RISE)) ms); 20 new connections: $r"
echo "$r" | jget "d['backends'] == {'be2': 20} and d['failed'] == 0" | grep -q True ||
	fail "new connections not on be2: $r"
rm -f "$XGW_TMP/be3.sick"
wait_state $SVC 198.18.2.13:8080 up 10000 || fail "be3 not back once its check passes"
ok "a restarted backend is up again in $t ms, the VIP announced, connections reach it"

# 6. on_down "reset": be3's check fails again while its server serves.
# Its established connections are removed from conntrack, so the next line
# each client sends is picked up by the table without be3, and be2 (the one
# backend up) answers it with a RST: the client sees a reset within its
# 100 ms send interval plus the round trip.  be2's connections live on.
out=$(ctl service check $SVC --check http:/health --check-interval $INTERVAL \
	--check-timeout $TIMEOUT --rise $RISE --fall $FALL --on-down reset 2>&1) ||
	fail "service check --on-down reset: $out"
ctl service list --json | jget "d[0]['check']['on_down']" | grep -qx reset ||
	fail "on_down not reset: $(ctl service list --json)"
hold_conns hold2
on3=$(jget "sum(1 for c in d if c['backend'] == 'be3')" <"$XGW_TMP/hold2.json.ready")
on2=$(jget "sum(1 for c in d if c['backend'] == 'be2')" <"$XGW_TMP/hold2.json.ready")
[ "$on3" -gt 0 ] && [ $((on2 + on3)) = 24 ] ||
	fail "held connections not on be2 and be3, or none on be3: $(cat "$XGW_TMP/hold2.json.ready")"
t0=$(now)
touch "$XGW_TMP/be3.sick"
wait_state $SVC 198.18.2.13:8080 down 5000 || fail "be3 failing its check not marked down (reset)"
wait "$HOLD"
down_at=$(awk -v t0="$t0" 'index($0, "198.18.2.13:8080 of '$SVC' is down") && $1 >= t0 { print $1; exit }' \
	"$XGW_TMP/xgwd.log")
removed=$(grep "198.18.2.13:8080 of $SVC down: .* removed (on_down reset)" "$XGW_TMP/xgwd.log" |
	tail -1 | sed 's/.*down: \([0-9]*\) established.*/\1/')
echo "# on_down reset: be3 down at $down_at; conntrack entries removed: $removed; held: be2 $on2, be3 $on3"
# Every be3 connection reset, at most 1 s after be3 was marked down; every
# be2 one echoed on to the end.
r=$(jget "[(c['backend'], c['broken'], round(c['broken_at'] - $down_at, 3) if c['broken_at'] else None) for c in d
	if (c['backend'] == 'be3') != bool(c['broken'] and 'reset' in c['broken'].lower()
	    and 0 <= c['broken_at'] - $down_at <= 1.0) or (c['backend'] == 'be2' and c['echoes'] < 40)]" \
	<"$XGW_TMP/hold2.json")
[ "$r" = "[]" ] || fail "connections not reset as on_down reset says (backend, error, s after down): $r"
lag=$(jget "max(round((c['broken_at'] - $down_at) * 1000) for c in d if c['backend'] == 'be3')" <"$XGW_TMP/hold2.json")
[ "$removed" -ge "$on3" ] || fail "$removed conntrack entries removed for $on3 held connections"
resets=$(ctl backend list $SVC --json |
	jget "[b['health']['resets'] for b in d if b['port'] == 8080 and b['ip'] == '198.18.2.13'][0]")
[ "$resets" = "$removed" ] || fail "backend list shows $resets resets, the log $removed"
m=$(ip netns exec "$GW" curl -sf http://127.0.0.1:9100/metrics | grep '^xgw_backend_health_resets_total')
echo "$m" | grep -qx "xgw_backend_health_resets_total{service=\"$SVC\",backend=\"198.18.2.13:8080\"} $removed" ||
	fail "metrics: $m"
rm -f "$XGW_TMP/be3.sick"
wait_state $SVC 198.18.2.13:8080 up 10000 || fail "be3 not back once its check passes"
ok "on_down reset: be3's $on3 connections reset within $lag ms of its down ($removed entries removed), be2's $on2 kept"

# 7. Changes through the control socket, and refusals.
out=$(ctl service check $SVC --check tcp --check-interval 500 --check-timeout 200 --fall 4 2>&1) || fail "service check: $out"
ctl service list --json | jget "d[0]['check']['type'], d[0]['check']['fall']" | grep -qx "tcp 4" ||
	fail "check not changed: $(ctl service list --json)"
before=$(ctl config get | jget "d['services'][0]['check']")
out=$(ctl service check $SVC --check http --check-interval 100 --check-timeout 500 2>&1) &&
	fail "timeout > interval accepted"
echo "$out" | grep -q "timeout_ms" || fail "unclear error: $out"
out=$(ctl call service.check '{"vip":"198.18.100.1","port":80,"proto":"tcp","check":{"type":"tcp","on_down":"drop"}}' 2>&1) &&
	fail "on_down drop accepted"
echo "$out" | grep -q "on_down" || fail "unclear error: $out"
# Checks through a tunnel leave from tunnel.local_ip (IPv4; tunnel.sh runs
# them): an IPv6 backend behind a tunnel cannot be checked.
ctl service add "[2001:db8:100::2]:80/tcp" --check tcp >/dev/null || fail "service add --check"
out=$(ctl backend add "[2001:db8:100::2]:80/tcp" "[2001:db8:2::14]:8080" --vxlan 198.18.2.14 --vni 5 2>&1) &&
	fail "an IPv6 tunnel backend accepted in a checked service"
echo "$out" | grep -q "cannot reach IPv6 backend" || fail "unclear error: $out"
[ "$(ctl config get | jget "d['services'][0]['check']")" = "$before" ] ||
	fail "a refused change altered the running config"
ok "service check changes a check in place; timeout > interval, an unknown on_down and an IPv6 backend behind a tunnel refused"

if sanitizer_report "$XGW_TMP/xgwd.log" 40; then fail "sanitizer report in xgwd's log"; fi
