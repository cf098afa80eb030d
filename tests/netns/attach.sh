#!/bin/bash
# xgwd and XDP programs it did not load: refused with a clear message (and
# the program left in place) unless --force-attach, which replaces it.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw]  (gw-c: a foreign XDP program)
set -u
XGWD=${1:?usage: attach.sh XGWD XGWCTL}
XGWCTL=${2:?usage: attach.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root

CLI=$(mkns cli); GW=$(mkns gw)
cli_gw "$CLI" "$GW"
CORE=$(xgw_core)
SOCK="$XGW_TMP/xgw.sock"
cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [ { "name": "client", "iface": "gw-c", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 }, "ctl": { "socket": "$SOCK" } }
JSON
obj=/usr/lib/$(gcc -print-multiarch 2>/dev/null)/bpf/xsk_def_xdp_prog.o
[ -f "$obj" ] || skip "no XDP object to play the foreign program ($obj)"
ip netns exec "$GW" ip link set dev gw-c xdpdrv obj "$obj" sec xdp || fail "cannot attach $obj"

timeout 20 ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/refused.log" 2>&1 &&
	fail "xgwd replaced a foreign XDP program"
grep -q "an XDP program xgw did not load is attached (xsk_def_prog); refusing" \
	"$XGW_TMP/refused.log" || { cat "$XGW_TMP/refused.log"; fail "no clear refusal"; }
ip -n "$GW" link show gw-c | grep -q "name xsk_def_prog" || fail "foreign program not left in place"
ok "foreign XDP program refused with a clear message and left attached"

ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" --force-attach >"$XGW_TMP/xgwd.log" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
wait_for ip netns exec "$GW" "$XGWCTL" -s "$SOCK" ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd --force-attach did not start"; }
ip -n "$GW" link show gw-c | grep -q "name xgw_steer" || fail "xgw's program not attached"
kill -TERM "$XGWD_PID"
wait "$XGWD_PID" || fail "xgwd did not exit 0"
ok "--force-attach replaces it"
echo "PASS"
