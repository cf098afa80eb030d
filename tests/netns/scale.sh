#!/bin/bash
# Configuration scale, bounded in time: 10,000 services x 4 backends loaded
# through the control socket in batches of 1,000; traffic to the first and
# the last VIP is served; a long connection through one service survives
# writes to other services (backend add/del, service del).
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- b0 [be] 198.18.2.11-14:8080
#   VIPs 198.18.(100 + i / 250).(1 + i % 250):80/tcp, i < N
set -u
XGWD=${1:?usage: scale.sh XGWD XGWCTL}
XGWCTL=${2:?usage: scale.sh XGWD XGWCTL}
N=${XGW_SCALE_N:-10000}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 missing"

CLI=$(mkns cli); GW=$(mkns gw); BE=$(mkns be)
cli_gw "$CLI" "$GW"
veth "$GW" gw-s "$BE" b0
no_tx_csum "$BE" b0
ip -n "$GW" addr add 198.18.2.1/24 dev gw-s
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=0
for i in 1 2 3 4; do ip -n "$BE" addr add 198.18.2.1$i/24 dev b0; done
ip -n "$BE" route add default via 198.18.2.1

# Backend: says which address it was reached on, then echoes lines.
cat >"$XGW_TMP/be.py" <<'PY'
import socketserver
class H(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write((self.connection.getsockname()[0] + "\n").encode())
        for line in self.rfile:
            self.wfile.write(line)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("0.0.0.0", 8080), H).serve_forever()
PY
ip netns exec "$BE" python3 "$XGW_TMP/be.py" &
XGW_PIDS+=($!)

vip() { echo "198.18.$((100 + $1 / 250)).$((1 + $1 % 250))"; }
python3 - "$N" >"$XGW_TMP/cmds" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    vip = "198.18.%d.%d" % (100 + i // 250, 1 + i % 250)
    print("service add %s:80/tcp" % vip)
    for j in range(4):
        print("backend add %s:80/tcp 198.18.2.1%d:8080" % (vip, j + 1))
PY

CORE=$(xgw_core)
SOCK="$XGW_TMP/xgw.sock"
cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [
    { "name": "client", "iface": "gw-c", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "backend", "iface": "gw-s", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "ctl": { "socket": "$SOCK" } }
JSON
ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/xgwd.log" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
ctl() { ip netns exec "$GW" "$XGWCTL" -s "$SOCK" "$@"; }
wait_for ctl ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd did not start"; }

t0=$(date +%s%N)
ctl -f "$XGW_TMP/cmds" --batch 1000 >/dev/null || fail "loading $N services"
ms=$((($(date +%s%N) - t0) / 1000000))
rss=$(($(ps -o rss= -p "$XGWD_PID") / 1024))
echo "# $N services x 4 backends: loaded in $ms ms, xgwd RSS $rss MiB"
n=$(ctl service list --json | jget "len(d)")
[ "$n" = "$N" ] || fail "service list: $n services, expected $N"
[ "$ms" -lt 30000 ] || fail "loading $N services took $ms ms (bound: 30 s)"
[ "$rss" -lt 512 ] || fail "xgwd RSS $rss MiB at $N x 4 (bound: 512 MiB)"
ok "$N services x 4 backends loaded through the socket in batches of 1000 ($ms ms, $rss MiB)"

# One connection to a VIP: prints the backend address that answered.
cat >"$XGW_TMP/cli.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=3)
print(s.makefile("r").readline().strip())
PY
for i in 0 $((N - 1)); do
	got=$(ip netns exec "$CLI" python3 "$XGW_TMP/cli.py" "$(vip $i)" 2>&1)
	case "$got" in 198.18.2.1[1-4]) ;; *) ctl stats; fail "VIP $(vip $i): $got" ;; esac
done
ok "the first and the last VIP are served ($(vip 0), $(vip $((N - 1))))"

# A stream through service 1 while services 2..4 change.
mkfifo "$XGW_TMP/in"
cat >"$XGW_TMP/stream.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
f = s.makefile("rw")
print("backend", f.readline().strip())
for line in sys.stdin:
    f.write(line); f.flush()
    print("echo", f.readline().strip())
PY
ip netns exec "$CLI" python3 -u "$XGW_TMP/stream.py" "$(vip 1)" <"$XGW_TMP/in" \
	>"$XGW_TMP/stream.out" 2>&1 &
XGW_PIDS+=($!)
exec 3>"$XGW_TMP/in"
echo one >&3
wait_for grep -q "echo one" "$XGW_TMP/stream.out" || { cat "$XGW_TMP/stream.out"; fail "stream"; }
ctl backend del "$(vip 2):80/tcp" 198.18.2.11:8080 >/dev/null || fail "backend del"
ctl backend add "$(vip 3):80/tcp" 198.18.2.11:9090 >/dev/null || fail "backend add"
ctl service del "$(vip 4):80/tcp" >/dev/null || fail "service del"
echo two >&3
wait_for grep -q "echo two" "$XGW_TMP/stream.out" || { cat "$XGW_TMP/stream.out"; fail "stream broken by writes to other services"; }
exec 3>&-
ok "a stream through $(vip 1) survives writes to three other services"
