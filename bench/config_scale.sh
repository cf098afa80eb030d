#!/bin/bash
# Configuration scale: load N services x B backends through the control
# socket in batches (xgwctl -f FILE --batch K), then time single
# service.add/backend.add/service.del requests on one connection at that
# size, and report xgwd's RSS.  Prints one "name value unit" line per figure.
#
#   bench/config_scale.sh XGWD XGWCTL [N=10000] [B=4] [K=1000] [ADDS=200]
set -u
XGWD=${1:?usage: config_scale.sh XGWD XGWCTL [N] [B] [K] [ADDS]}
XGWCTL=${2:?usage}
N=${3:-10000}
B=${4:-4}
K=${5:-1000}
ADDS=${6:-200}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
T=$(mktemp -d /tmp/xgw-scale.XXXXXX)
NS=xgwscale$$
cleanup() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "${NS}p" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS"
ip netns add "${NS}p"
ip -n "$NS" link add gw0 type veth peer name p0 netns "${NS}p"
ip -n "$NS" link set gw0 up
ip -n "$NS" link set lo up
ip -n "${NS}p" link set p0 up
CORE=$(($(nproc) - 1))
SOCK="$T/xgw.sock"
cat >"$T/xgw.json" <<JSON
{ "ports": [ { "name": "p", "iface": "gw0", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "ctl": { "socket": "$SOCK" } }
JSON
python3 - "$N" "$B" >"$T/cmds" <<'PY'
import sys
n, b = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    vip = "198.18.%d.%d" % (100 + i // 250, 1 + i % 250)
    print("service add %s:80/tcp" % vip)
    for j in range(b):
        print("backend add %s:80/tcp 198.18.2.1%d:%d" % (vip, j + 1, 8000 + i % 1000))
PY
ip netns exec "$NS" "$XGWD" -c "$T/xgw.json" >"$T/xgwd.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
	ip netns exec "$NS" "$XGWCTL" -s "$SOCK" ports >/dev/null 2>&1 && break
	sleep 0.1
done
rss() { ps -o rss= -p "$PID" | tr -d ' '; }
echo "rss_empty $(($(rss) / 1024)) MiB"
t0=$(date +%s.%N)
ip netns exec "$NS" "$XGWCTL" -s "$SOCK" -f "$T/cmds" --batch "$K" >/dev/null ||
	{ tail "$T/xgwd.log"; echo "load failed" >&2; exit 1; }
t1=$(date +%s.%N)
echo "load_${N}x${B}_batch${K} $(python3 -c "print(round($t1 - $t0, 2))") s"
echo "rss_loaded $(($(rss) / 1024)) MiB"
# Single writes at this size, one connection, timed by the client.
ip netns exec "$NS" python3 - "$SOCK" "$ADDS" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def req(cmd, args=None):
    t = time.perf_counter()
    m = {"cmd": cmd}
    if args is not None:
        m["args"] = args
    f.write((json.dumps(m) + "\n").encode()); f.flush()
    r = json.loads(f.readline())
    assert r["ok"], r
    return (time.perf_counter() - t) * 1e3
n = int(sys.argv[2]); add, be, dl = [], [], []
for i in range(n):
    vip = "198.19.%d.%d" % (i // 250, 1 + i % 250)
    svc = {"vip": vip, "port": 80, "proto": "tcp"}
    add.append(req("service.add", svc))
    be.append(req("backend.add", {"service": svc, "backend": {"ip": "198.18.2.11", "port": 8080}}))
for i in range(n):
    vip = "198.19.%d.%d" % (i // 250, 1 + i % 250)
    dl.append(req("service.del", {"vip": vip, "port": 80, "proto": "tcp"}))
# service.list: the reply received in full, then parsed too (Python's json
# of 9.6 MB at 10,000 x 4 is most of the second figure).  The first list
# after loading pays for its memory (about 5,000 page faults in xgwd for
# the reply and the counters, ~25 us each on this VM); later ones reuse
# it, so both are given: the first, and the median of five more.
def lst_once():
    t = time.perf_counter()
    f.write(b'{"cmd":"service.list"}\n'); f.flush()
    line = f.readline()
    reply = (time.perf_counter() - t) * 1e3
    assert json.loads(line)["ok"]
    return reply, (time.perf_counter() - t) * 1e3
lst_first = lst_once()
lst_more = sorted(lst_once() for _ in range(5))
lst_reply = sorted(r for r, _ in lst_more)[2]
lst = sorted(p for _, p in lst_more)[2]
for name, v in (("service.add", add), ("backend.add", be), ("service.del", dl)):
    v.sort()
    print("%s_p50 %.2f ms" % (name, v[len(v) // 2]))
    print("%s_max %.2f ms" % (name, v[-1]))
print("service.list_first_reply %.1f ms" % lst_first[0])
print("service.list_reply %.1f ms" % lst_reply)
print("service.list %.1f ms" % lst)
PY
echo "rss_final $(($(rss) / 1024)) MiB"
