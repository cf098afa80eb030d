#!/bin/bash
# SYN flood at a service: 100,000 SYNs from 100,000 distinct sources (port,
# then address) against a 4,096-entry conntrack table, 24 times its size.
# xgwd survives, its RSS grows by no more than the table's own pages
# (bounded by max_entries, not by the flood), an established connection
# keeps working through the flood, refusals and evictions are counted, and
# new connections work again within a second or two of the flood's end
# (idle handshakes are evicted when the table is full: lb/conntrack.c).
# Then the table at capacity with flows that are not evictable early: a
# restarted xgwd with 1,024 entries and a 3 s UDP timeout, filled by 2,048
# UDP flows (each sent twice): exactly 1,024 admitted, the rest refused as
# conntrack_full, a new TCP connection refused too; once the flows expire
# the GC empties the table (counted as expired, nothing evicted), and the
# whole table is usable again: 20 connections and 1,004 new UDP flows.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- b0 198.18.2.11 [be]
#   VIP 198.18.100.1:80/tcp -> 198.18.2.11:8080; flood from 198.18.1.100-101
set -u
XGWD=${1:?usage: synflood.sh XGWD XGWCTL PKTGEN}
XGWCTL=${2:?usage: synflood.sh XGWD XGWCTL PKTGEN}
PKTGEN=${3:?usage: synflood.sh XGWD XGWCTL PKTGEN}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
MAX=4096
SYNS=${XGW_SYNFLOOD_SYNS:-100000}

CLI=$(mkns cli); GW=$(mkns gw); BEN=$(mkns be)
cli_gw "$CLI" "$GW"
gw_be "$GW" "$BEN"

echo_servers "$BEN"

# n new connections (one line echoed each, 2 s timeout): how many worked.
cat >"$XGW_TMP/new.py" <<'PY'
import socket, sys
ok = 0
for i in range(int(sys.argv[1])):
    try:
        s = socket.create_connection(("198.18.100.1", 80), timeout=2)
        s.sendall(b"n%d\n" % i)
        ok += s.makefile("rb").readline() == b"n%d\n" % i
        s.close()
    except OSError:
        pass
print(ok)
PY
# One connection held open for S seconds, a line every 50 ms: lines lost;
# FILE written once it is established.
cat >"$XGW_TMP/long.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("198.18.100.1", 80), timeout=5)
f = s.makefile("rb")
s.sendall(b"ready\n")
assert f.readline() == b"ready\n"
open(sys.argv[2], "w").write("ready\n")
end, n, bad = time.time() + float(sys.argv[1]), 0, 0
while time.time() < end:
    try:
        s.sendall(b"l%d\n" % n)
        bad += f.readline() != b"l%d\n" % n
    except OSError:
        bad += 1
        break
    n += 1
    time.sleep(0.05)
print(n, bad)
PY

start_xgwd "$GW" "$XGWD" $MAX
ctl service add 198.18.100.1:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.11:8080 >/dev/null || fail "backend add"
n=$(ip netns exec "$CLI" python3 "$XGW_TMP/new.py" 20)
[ "$n" = 20 ] || fail "before the flood only $n of 20 connections worked"
ok "20 connections through the VIP before the flood"

rss() { awk '/^VmRSS/ {print $2}' /proc/"$XGWD_PID"/status; }
rss0=$(rss)
# The established connection, across the flood and after it.
ip netns exec "$CLI" python3 "$XGW_TMP/long.py" 8 "$XGW_TMP/long.ready" >"$XGW_TMP/long.out" &
LONG=$!
XGW_PIDS+=($LONG)
wait_for test -s "$XGW_TMP/long.ready" || fail "the long connection did not open"
sleep 0.5
GWMAC=$(ip netns exec "$GW" cat /sys/class/net/gw-c/address)
t0=$(date +%s.%N)
ip netns exec "$CLI" "$PKTGEN" -i c0 --dst-mac "$GWMAC" --src 198.18.1.100 --dst 198.18.100.1 \
	--proto tcp-syn --sport 1024 --dport 80 --flows "$SYNS" --count "$SYNS" --rate 50000 \
	--duration 10 --json --quiet >"$XGW_TMP/gen.json" || fail "pktgen failed"
sent=$(jget 'd["packets"]' <"$XGW_TMP/gen.json")
ctl stats --json >"$XGW_TMP/flood.json" || fail "stats after the flood"
echo "  flood: $sent SYNs in $(python3 -c "import time; print(round(time.time() - $t0, 1))") s;" \
	"conntrack $(jget 'json.dumps(d["conntrack"])' <"$XGW_TMP/flood.json")"
[ "$sent" -ge $((SYNS * 9 / 10)) ] || fail "pktgen sent only $sent SYNs"
kill -0 "$XGWD_PID" 2>/dev/null || fail "xgwd died in the flood"
live=$(jget 'd["conntrack"]["live"]' <"$XGW_TMP/flood.json")
full=$(jget 'd["drops"].get("conntrack_full", 0)' <"$XGW_TMP/flood.json")
[ "$live" -le "$MAX" ] || fail "conntrack holds $live entries, max $MAX"
[ "$full" -gt 0 ] || fail "no refusal counted (conntrack_full)"
ok "xgwd alive; conntrack at most $MAX ($live live), $full SYNs refused as conntrack_full"

# New connections right after: the flood's handshakes go once idle 1 s.
sleep 1.2
n=$(ip netns exec "$CLI" python3 "$XGW_TMP/new.py" 20)
echo "  1.2 s after the flood: $n of 20 new connections"
[ "$n" = 20 ] || fail "1.2 s after the flood only $n of 20 new connections worked"
ctl stats --json >"$XGW_TMP/after.json"
ev=$(jget 'd["conntrack"]["evicted"]' <"$XGW_TMP/after.json")
[ "$ev" -gt 0 ] || fail "no eviction counted"
ok "1.2 s after the flood 20 of 20 new connections work ($ev flood entries evicted)"

wait "$LONG"
read -r lines lost <"$XGW_TMP/long.out" || fail "long connection gave no result"
echo "  established connection: $lines lines, $lost lost"
[ "$lost" = 0 ] && [ "$lines" -ge 100 ] || fail "the established connection lost $lost of $lines lines"
ok "an established connection kept working through the flood ($lines lines, none lost)"

rss1=$(rss)
# The table is preallocated and faulted in as used: what it may add is
# its records and buckets, a function of max_entries alone (about 1 KiB
# per entry, generously), plus 8 MiB for everything else.
bound=$((MAX + 8192))
echo "  xgwd RSS: ${rss0} KiB before, ${rss1} KiB after (+$((rss1 - rss0)) KiB; bound $bound KiB = max_entries KiB + 8 MiB)"
[ $((rss1 - rss0)) -le "$bound" ] || fail "RSS grew by $((rss1 - rss0)) KiB, bound $bound KiB"
ok "RSS grew by $((rss1 - rss0)) KiB (bound: max_entries x 1 KiB + 8 MiB)"
if sanitizer_report "$XGW_TMP/xgwd.log" 40; then fail "sanitizer report in xgwd's log"; fi
ok "no sanitizer report"

# --- At capacity, and the room given back by the GC ----------------------
kill -TERM "$XGWD_PID"
wait "$XGWD_PID" || fail "xgwd did not exit cleanly after the flood"
CAP=1024
XGW_CT_EXTRA='"udp_timeout_s": 3' start_xgwd "$GW" "$XGWD" $CAP
# The backend still holds the flood's half-open connections and resends
# their SYN+ACKs (1, 3, 7, 15, 31 s after each SYN), which this xgwd has no
# connection for.  Once 198.18.2.11:8080 is a backend again (its packets
# steered to the workers; before, they went to the kernel, which does not
# forward here), each one is a conntrack_invalid drop, and nothing else of
# this run is: checked at its end against the backend's own count, read
# on both sides of the backend add (rta, rt0).
synretrans() { ip netns exec "$BEN" nstat -az TcpExtTCPSynRetrans | awk '$1 == "TcpExtTCPSynRetrans" {print $2}'; }
ctl service add 198.18.100.1:80/tcp >/dev/null || fail "service add"
rta=$(synretrans)
ctl backend add 198.18.100.1:80/tcp 198.18.2.11:8080 >/dev/null || fail "backend add"
rt0=$(synretrans)
ctl service add 198.18.100.1:53/udp >/dev/null || fail "udp service add"
ctl backend add 198.18.100.1:53/udp 198.18.2.11:5353 >/dev/null || fail "udp backend add"
ct() { ctl stats --json | jget "$1"; }
# N UDP flows from 198.18.1.100, source ports from SPORT, each sent twice
# (a lost frame does not leave a flow out).
udp_flows() {
	ip netns exec "$CLI" "$PKTGEN" -i c0 --dst-mac "$GWMAC" --src 198.18.1.100 \
		--dst 198.18.100.1 --proto udp --sport "$2" --dport 53 --flows "$1" \
		--count $((2 * $1)) --rate 20000 --duration 5 --json --quiet >"$XGW_TMP/fill.json" ||
		fail "pktgen failed"
	[ "$(jget 'd["packets"]' <"$XGW_TMP/fill.json")" = $((2 * $1)) ] || fail "pktgen sent too few"
}
udp_flows $((2 * CAP)) 1024
sleep 0.2
ctl stats --json >"$XGW_TMP/full.json"
# A new connection now, before the flows can expire (bash, not python:
# its start-up alone can take half a second on a loaded machine).
ip netns exec "$CLI" timeout 1 bash -c 'exec 3<>/dev/tcp/198.18.100.1/80' 2>/dev/null &&
	fail "a new connection was admitted into a full table"
ctl stats --json >"$XGW_TMP/probe.json"
read -r live created full <<<"$(jget 'd["conntrack"]["live"], d["conntrack"]["created"],
	d["drops"].get("conntrack_full", 0)' <"$XGW_TMP/full.json" | tr -d '(),')"
read -r live2 full2 <<<"$(jget 'd["conntrack"]["live"], d["drops"].get("conntrack_full", 0)' \
	<"$XGW_TMP/probe.json" | tr -d '(),')"
echo "  $((2 * CAP)) UDP flows at a $CAP-entry table: conntrack $(jget 'json.dumps(d["conntrack"])' <"$XGW_TMP/full.json"), conntrack_full $full"
[ "$live" = $CAP ] && [ "$created" = $CAP ] || fail "table at capacity holds $live ($created created), want $CAP"
# Each of the CAP flows left out was refused twice, less any frame lost.
[ "$full" -ge "$CAP" ] && [ "$full" -le $((2 * CAP)) ] || fail "$full refusals counted, want $CAP..$((2 * CAP))"
ok "table full at $CAP UDP flows; the other $CAP flows refused, $full packets counted as conntrack_full"
[ "$full2" -gt "$full" ] || fail "the refused SYN was not counted as conntrack_full"
[ "$live2" = $CAP ] || fail "table no longer at $CAP after the refused connection: $live2"
ok "a new connection is refused while the table is full (conntrack_full $full -> $full2)"

# No traffic now: only expiry and the GC can free entries.
t0=$(date +%s.%N)
# (The live count is read on each try: an expansion in wait_for's
# arguments would be read once, before the first.)
ct_empty() { [ "$(ct 'd["conntrack"]["live"]')" = 0 ]; }
wait_for ct_empty ||
	fail "GC did not empty the table: $(ct 'json.dumps(d["conntrack"])')"
ctl stats --json >"$XGW_TMP/gc.json"
expired=$(jget 'd["conntrack"]["expired"]' <"$XGW_TMP/gc.json")
evicted=$(jget 'd["conntrack"]["evicted"]' <"$XGW_TMP/gc.json")
echo "  table empty $(python3 -c "import time; print(round(time.time() - $t0, 1))") s later; conntrack $(jget 'json.dumps(d["conntrack"])' <"$XGW_TMP/gc.json")"
[ "$expired" = $CAP ] && [ "$evicted" = 0 ] || fail "$expired expired, $evicted evicted; want $CAP and 0"
ok "after the UDP timeout the GC gave the room back: $expired entries expired, none evicted"

# 20 connections (their entries stay 10 s, the close timeout), then
# CAP - 20 new UDP flows: exactly the table, none refused.
n=$(ip netns exec "$CLI" python3 "$XGW_TMP/new.py" 20)
udp_flows $((CAP - 20)) 20000
ctl stats --json >"$XGW_TMP/again.json"
read -r live3 full3 <<<"$(jget 'd["conntrack"]["live"], d["drops"].get("conntrack_full", 0)' \
	<"$XGW_TMP/again.json" | tr -d '(),')"
echo "  refilled: $n of 20 connections; conntrack $(jget 'json.dumps(d["conntrack"])' <"$XGW_TMP/again.json"), conntrack_full $full3"
[ "$n" = 20 ] || fail "after the GC only $n of 20 new connections worked"
[ "$live3" = $CAP ] || fail "refilled table holds $live3, want $CAP"
[ "$full3" = "$full2" ] || fail "$((full3 - full2)) refusals while refilling a table the GC emptied"
ok "the whole table is usable again: 20 connections and $((CAP - 20)) new UDP flows, none refused"
rt1=$(synretrans)
inv=$(ct 'd["drops"].get("conntrack_invalid", 0)')
rt2=$(synretrans)
[ "$inv" -ge $((rt1 - rt0)) ] && [ "$inv" -le $((rt2 - rta)) ] ||
	fail "$inv conntrack_invalid drops in the capacity run; the backend resent $((rt1 - rt0))..$((rt2 - rta)) SYN+ACKs of the flood"
ok "every conntrack_invalid drop of the capacity run ($inv) is a SYN+ACK the backend resent for a flood connection ($((rt1 - rt0))..$((rt2 - rta)))"
if sanitizer_report "$XGW_TMP/xgwd.log" 40; then fail "sanitizer report in xgwd's log"; fi
ok "no sanitizer report after the capacity run"
