#!/bin/bash
# Faults around a running xgwd (README "Faults"): its steering program
# removed by someone else (`ip link set dev X xdp off`) or replaced by a
# foreign one, a link that goes down and up (administratively and by loss
# of carrier), an MTU lowered and raised again, the interface deleted.
# Each is detected, logged, visible in `xgwctl ports` and the metrics, and
# recovered where xgwd can: the program is attached again, traffic through
# the VIPs works again, the workers answer packets over the new MTU with
# ICMP fragmentation needed and take full-size ones again after.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- b0 198.18.2.11 [be]
#   VIP 198.18.100.1:80/tcp -> :8080, 198.18.100.2:53/udp -> :5353
set -u
XGWD=${1:?usage: faults.sh XGWD XGWCTL}
XGWCTL=${2:?usage: faults.sh XGWD XGWCTL}
. "$(dirname "$0")/lib.sh"
require_root
PY=/usr/bin/python3
command -v curl >/dev/null || skip "curl missing"

CLI=$(mkns cli); GW=$(mkns gw); BEN=$(mkns be)
cli_gw "$CLI" "$GW"
gw_be "$GW" "$BEN"
echo_servers "$BEN"
MPORT=$((20000 + RANDOM % 20000))
XGW_CFG_EXTRA="\"metrics\": { \"listen\": \"127.0.0.1:$MPORT\" }"
start_xgwd "$GW" "$XGWD" 4096
ctl service add 198.18.100.1:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.11:8080 >/dev/null || fail "backend add"
ctl service add 198.18.100.2:53/udp >/dev/null || fail "service add"
ctl backend add 198.18.100.2:53/udp 198.18.2.11:5353 >/dev/null || fail "backend add"
LOG="$XGW_TMP/xgwd.log"

# traffic N [SIZE [UDPDST]]: N TCP line echoes through the TCP VIP and N UDP
# round trips of SIZE bytes (DF set) to UDPDST (default the UDP VIP);
# prints {"tcp": ok, "udp": ok, "emsgsize": n}.
cat >"$XGW_TMP/cli.py" <<'PY'
import json, socket, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
udst = (sys.argv[3], int(sys.argv[4])) if len(sys.argv) > 4 else ("198.18.100.2", 53)
ok_t = ok_u = big = 0
for i in range(n):
    try:
        s = socket.create_connection(("198.18.100.1", 80), timeout=2)
        s.sendall(b"hello %d\n" % i)
        if s.makefile("rb").readline() == b"hello %d\n" % i:
            ok_t += 1
        s.close()
    except OSError:
        pass
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
    u.settimeout(1)
    msg = (b"%d " % i).ljust(size, b"x")
    try:
        u.sendto(msg, udst)
        if u.recvfrom(65536)[0] == msg:
            ok_u += 1
    except OSError as e:
        big += e.errno == 90  # EMSGSIZE: the path MTU learnt from ICMP
    u.close()
print(json.dumps({"tcp": ok_t, "udp": ok_u, "emsgsize": big}))
PY
traffic() { ip netns exec "$CLI" $PY "$XGW_TMP/cli.py" "$1" "${2:-64}" ${3:-}; }
all_ok() { [ "$(traffic 10 "${1:-64}" "${2:-}")" = '{"tcp": 10, "udp": 10, "emsgsize": 0}' ]; }
# health PORT EXPR: EXPR over port PORT's health object (as h) in ports
# --json; hq PORT EXPR VALUE: true if it prints VALUE.
health() {
	ctl ports --json | $PY -c "import json,sys
h = [p['health'] for p in json.load(sys.stdin) if p['name'] == '$1'][0]
print($2)"
}
hq() { [ "$(health "$1" "$2")" = "$3" ]; }
metric() {
	ip netns exec "$GW" curl -sf "http://127.0.0.1:$MPORT/metrics" |
		awk -v m="$1" '$1 == m {print $2}'
}
# waited SECONDS CMD...: poll CMD every 50 ms up to SECONDS; prints the
# time it took (ms), fails if it never held.
waited() {
	local t0=$(date +%s%N) lim=$1
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ $(($(date +%s%N) - t0)) -gt $((lim * 1000000000)) ] && return 1
		sleep 0.05
	done
	echo $((($(date +%s%N) - t0) / 1000000))
}

all_ok || fail "traffic before any fault"
[ "$(health client 'h["link"], h["xdp"], h["xdp_lost"]')" = "up attached 0" ] ||
	fail "health before any fault: $(health client h)"
[ "$(metric 'xgw_port_xdp_attached{port="client"}')" = 1 ] || fail "metric xdp_attached"
ok "before faults: traffic flows, ports and metrics show links up, programs attached"

# 1. xdp off, by someone else: re-attached within a watch period.
ip -n "$GW" link set dev gw-c xdp off || fail "xdp off"
t=$(waited 5 hq client 'h["xdp_reattached"]' 1) ||
	fail "program not re-attached: $(health client h)"
grep -q "gw-c): steering program removed by someone else" "$LOG" || fail "no log line for xdp off"
grep -q "gw-c): steering program attached again" "$LOG" || fail "no log line for the re-attach"
ip -n "$GW" -j link show gw-c | grep -q '"prog"' || fail "no program on gw-c after the re-attach"
[ "$(health client 'h["xdp"], h["xdp_lost"]')" = "attached 1" ] || fail "$(health client h)"
[ "$(metric 'xgw_port_xdp_reattached_total{port="client"}')" = 1 ] || fail "metric xdp_reattached"
all_ok || fail "traffic after the re-attach: $(traffic 10)"
ok "xdp off: detected, logged, re-attached in $t ms, traffic flows again"

# Twice more, under traffic: every time.
for i in 2 3; do
	ip -n "$GW" link set dev gw-s xdp off
	waited 5 hq backend 'h["xdp_reattached"]' $((i - 1)) >/dev/null ||
		fail "backend program not re-attached ($i)"
done
all_ok || fail "traffic after re-attaching the backend port's program"
ok "xdp off on the other port, twice: re-attached both times"

# 2. A foreign program in xgw's place: reported, never replaced; once its
# owner removes it, xgw's goes back.
OBJ=/usr/lib/$(gcc -print-multiarch 2>/dev/null)/bpf/xsk_def_xdp_prog.o
[ -f "$OBJ" ] || fail "$OBJ missing (libxdp-dev)"
ip -n "$GW" -force link set dev gw-c xdpdrv obj "$OBJ" sec xdp || fail "cannot attach a foreign program"
waited 5 hq client 'h["xdp"]' foreign >/dev/null ||
	fail "foreign program not reported: $(health client h)"
grep -q "gw-c): another XDP program (id [0-9]*) replaced the steering program; not replacing" "$LOG" ||
	fail "no log line for the foreign program"
sleep 1
ip -n "$GW" -j link show gw-c | grep -q '"name": *"xsk_def_prog"' ||
	ip -n "$GW" link show gw-c | grep -q "prog/xdp" || fail "the foreign program was removed"
[ "$(health client 'h["xdp"]')" = foreign ] || fail "foreign program replaced"
ip -n "$GW" link set dev gw-c xdp off
waited 5 hq client 'h["xdp"]' attached >/dev/null ||
	fail "not re-attached after the foreign program left: $(health client h)"
all_ok || fail "traffic after the foreign program left"
ok "foreign program: reported, left alone, xgw's re-attached once it was gone"

# 3. Link down and up, administratively on the gateway and by carrier loss.
ip -n "$GW" link set gw-s down
t=$(waited 5 hq backend 'h["link"]' down) || fail "link down not seen"
grep -q "gw-s): link down (administratively down)" "$LOG" || fail "no log line for link down"
[ "$(metric 'xgw_port_link_up{port="backend"}')" = 0 ] || fail "metric link_up while down"
[ "$(traffic 2)" = '{"tcp": 0, "udp": 0, "emsgsize": 0}' ] || fail "traffic through a down link?"
ip -n "$GW" link set gw-s up
waited 5 hq backend 'h["link"]' up >/dev/null || fail "link up not seen"
t2=$(waited 10 all_ok) || fail "traffic after link up: $(traffic 10)"
[ "$(metric 'xgw_port_link_changes_total{port="backend"}')" = 2 ] || fail "metric link_changes"
ok "link down (seen in $t ms, logged, metric 0) and up: traffic again after $t2 ms, sockets kept"
ip -n "$BEN" link set b0 down
waited 5 hq backend 'h["link"]' down >/dev/null || fail "carrier loss not seen"
grep -q "gw-s): link down (no carrier)" "$LOG" || fail "no log line for carrier loss"
ip -n "$BEN" link set b0 up
ip -n "$BEN" route replace default via 198.18.2.1
waited 10 all_ok >/dev/null || fail "traffic after carrier came back"
ok "carrier lost and back: seen, logged, traffic again"

# 4. MTU lowered on the egress port: the workers check against it at once
# (frag-needed to the client, which learns the path MTU), and the old size
# passes again once it is raised.  First routed UDP (steer rules send it to
# the workers both ways), then service flows: the frag-needed quotes what
# the client sent (to the VIP, README "Faults"), so the client's own socket
# takes it: a TCP connection opened before the change sends a 4000-byte line
# through the TCP VIP with segments that no longer fit, and gets it echoed
# once its kernel lowered the path MTU to the VIP; datagrams through the UDP
# VIP get EMSGSIZE.  Linux finds the socket by the quoted addresses and
# ports and learns the MTU for the quoted destination, so a quote of the
# backend's address would leave the VIP's path MTU alone (and the TCP line
# stuck).  The backend's side of the link (b0) goes to 1300 as well, so
# that the echoes it sends back fit gw-s.
ip netns exec "$CLI" $PY "$(dirname "$0")/pmtu_line.py" "$XGW_TMP" 198.18.100.1 80 >"$XGW_TMP/pmtu_tcp.out" 2>&1 &
PMTU_PID=$!
XGW_PIDS+=($PMTU_PID)
ip netns exec "$BEN" $PY -c '
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("198.18.2.11", 7777))
while True:
    d, a = u.recvfrom(65536)
    u.sendto(d, a)' &
XGW_PIDS+=($!)
ctl steer add --dst 198.18.2.11 --proto udp --dport 7777 >/dev/null || fail "steer add"
ctl steer add --dst 198.18.1.2 --proto udp >/dev/null || fail "steer add"
R="198.18.2.11 7777"
waited 5 all_ok 1400 "$R" >/dev/null ||
	fail "1400-byte routed datagrams before the MTU change: $(traffic 10 1400 "$R")"
i0=$(ctl stats --json | jget 'sum(w["icmp_sent"] for w in d["workers"])')
waited 5 test -e "$XGW_TMP/pmtu_ready" >/dev/null || fail "TCP connection through the VIP"
ip -n "$GW" link set gw-s mtu 1300 || fail "cannot set MTU"
ip -n "$BEN" link set b0 mtu 1300 || fail "cannot set MTU"
waited 5 hq backend 'h["mtu"]' 1300 >/dev/null || fail "MTU change not seen"
grep -q "gw-s): MTU 1500 -> 1300" "$LOG" || fail "no log line for the MTU change"
[ "$(metric 'xgw_port_mtu{port="backend"}')" = 1300 ] || fail "metric mtu"
[ "$(ctl ports --json | jget '[p["mtu"] for p in d if p["name"] == "backend"][0]')" = 1300 ] ||
	fail "ports mtu"
out=$(traffic 3 1400 "$R")
i1=$(ctl stats --json | jget 'sum(w["icmp_sent"] for w in d["workers"])')
[ "$i1" -gt "$i0" ] || fail "no ICMP sent for datagrams over the new MTU ($i0 -> $i1): $out"
ip -n "$CLI" route get 198.18.2.11 | grep -q "mtu 1300" ||
	fail "client did not learn MTU 1300: $(ip -n "$CLI" route get 198.18.2.11); $out"
[ "$out" = '{"tcp": 3, "udp": 0, "emsgsize": 2}' ] || fail "over the MTU: $out"
all_ok 1200 "$R" || fail "1200-byte datagrams under the lower MTU"
s0=$(ctl stats --json | jget 'sum(w["icmp_sent"] for w in d["workers"])')
touch "$XGW_TMP/pmtu_go"
wait "$PMTU_PID"
tcp=$(cat "$XGW_TMP/pmtu_tcp.out")
ip -n "$CLI" route get 198.18.100.1 | grep -q "mtu 1300" ||
	fail "client did not learn MTU 1300 for the TCP VIP: $(ip -n "$CLI" route get 198.18.100.1); $tcp"
case $tcp in '{"ok": true, '*) ;; *) fail "4000-byte TCP line through the VIP: $tcp" ;; esac
out=$(traffic 3 1400)
ip -n "$CLI" route get 198.18.100.2 | grep -q "mtu 1300" ||
	fail "client did not learn MTU 1300 for the UDP VIP: $(ip -n "$CLI" route get 198.18.100.2); $out"
[ "$out" = '{"tcp": 3, "udp": 0, "emsgsize": 2}' ] || fail "over the MTU through the VIP: $out"
s1=$(ctl stats --json | jget 'sum(w["icmp_sent"] for w in d["workers"])')
all_ok 1200 || fail "1200-byte datagrams through the VIP under the lower MTU"
ms=$(printf '%s' "$tcp" | jget 'd["ms"]')
ok "service flows: $((s1 - s0)) frag-needed quoting the VIPs; client learnt 1300 for both, 4000-byte TCP line echoed in $ms ms"
ip -n "$GW" link set gw-s mtu 1500
ip -n "$BEN" link set b0 mtu 1500
waited 5 hq backend 'h["mtu"], h["mtu_changes"]' "1500 2" >/dev/null || fail "MTU raise not seen"
ip -n "$CLI" route flush cache
all_ok 1400 "$R" || fail "1400-byte datagrams after the MTU came back: $(traffic 10 1400 "$R")"
all_ok 1400 || fail "1400-byte datagrams through the VIP after the MTU came back: $(traffic 10 1400)"
ok "MTU 1500 -> 1300: $((i1 - i0)) frag-needed, client learnt 1300; -> 1500: full size again"

# No frame lost through all of it: idle, every UMEM frame is on the free
# list, a fill ring or a TX ring (frames_accounted), and the fill rings are
# back to their share.
sleep 0.5
frames=$(ctl stats --json | jget '[(w["frames_accounted"], w["umem_frames"]) for w in d["workers"]]')
[ "$frames" = "[(4096, 4096)]" ] || fail "UMEM frames after the faults: $frames"
ok "every UMEM frame accounted for after the faults: $frames"

# 5. The interface deleted: reported; xgwd keeps serving its control
# socket and stops cleanly.
ip -n "$BEN" link del b0
waited 5 hq backend 'h["link"]' gone >/dev/null || fail "deleted interface not seen"
grep -q "gw-s): interface deleted" "$LOG" || fail "no log line for the deleted interface"
ctl service list >/dev/null || fail "control socket after the interface went"
kill -TERM "$XGWD_PID"
wait "$XGWD_PID"
rc=$?
[ $rc = 0 ] || fail "xgwd exited $rc after the interface was deleted"
! ip -n "$GW" link show gw-c | grep -q "prog/xdp" || fail "program left on gw-c"
ok "interface deleted: reported as gone, control socket serves, SIGTERM exits 0"
