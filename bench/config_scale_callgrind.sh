#!/bin/bash
# Instructions per service.add at N services x 4 backends: xgwd under
# callgrind with instrumentation off while the services load (batches of
# 1,000), then on for ADDS single service.add requests, collected under
# xgw_ctl_handle_line (the request, validation and the apply).  Prints
# "instructions per service.add: X"; callgrind_annotate --inclusive=yes OUT
# shows where they go.
#
#   bench/config_scale_callgrind.sh XGWD XGWCTL [N=10000] [ADDS=10] [OUT=callgrind.scale]
set -u
XGWD=${1:?usage: config_scale_callgrind.sh XGWD XGWCTL [N] [ADDS] [OUT]}
XGWCTL=${2:?usage}
N=${3:-10000}
ADDS=${4:-10}
OUT=${5:-callgrind.scale}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
T=$(mktemp -d /tmp/xgw-cg.XXXXXX); NS=xgwcg$$
cleanup() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "${NS}p" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS"; ip netns add "${NS}p"
ip -n "$NS" link add gw0 type veth peer name p0 netns "${NS}p"
ip -n "$NS" link set gw0 up; ip -n "$NS" link set lo up; ip -n "${NS}p" link set p0 up
SOCK="$T/xgw.sock"
cat >"$T/xgw.json" <<JSON
{ "ports": [ { "name": "p", "iface": "gw0", "queues": [ { "queue": 0, "core": $(($(nproc) - 1)) } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 }, "ctl": { "socket": "$SOCK" } }
JSON
python3 - "$N" >"$T/cmds" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    vip = "198.18.%d.%d" % (100 + i // 250, 1 + i % 250)
    print("service add %s:80/tcp" % vip)
    for j in range(4):
        print("backend add %s:80/tcp 198.18.2.1%d:%d" % (vip, j + 1, 8000 + i % 1000))
PY
ip netns exec "$NS" valgrind --tool=callgrind --instr-atstart=no --toggle-collect=xgw_ctl_handle_line \
	--callgrind-out-file="$OUT" "$XGWD" -c "$T/xgw.json" >"$T/xgwd.log" 2>&1 &
PID=$!
for _ in $(seq 600); do ip netns exec "$NS" "$XGWCTL" -s "$SOCK" ports >/dev/null 2>&1 && break; sleep 0.5; done
ip netns exec "$NS" "$XGWCTL" -s "$SOCK" -f "$T/cmds" --batch 1000 >/dev/null || { tail "$T/xgwd.log"; exit 1; }
callgrind_control -i on "$PID" >/dev/null
for i in $(seq 1 "$ADDS"); do
	ip netns exec "$NS" "$XGWCTL" -s "$SOCK" service add "198.19.0.$i:80/tcp" >/dev/null || exit 1
done
callgrind_control -i off "$PID" >/dev/null
kill "$PID"; wait "$PID"; PID=
echo "instructions per service.add: $(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1 / '"$ADDS"'}')"
