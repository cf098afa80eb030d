#!/bin/bash
# Live updates under traffic: a steady, paced UDP stream flows through the
# AF_XDP workers to service A while 1,000 changes (service add/del, backend
# add, policy add/del) are applied to OTHER services over the control
# socket.  Service A must lose no packet (sequence numbers counted at the
# backends: received == sent, no duplicates), the final running config must
# equal the initial one, the Prometheus endpoint answers throughout, and
# xgwd must stop cleanly with no sanitizer report in its log.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- b0 [be] 198.18.2.11, .12
#   A = 198.18.100.1:7000/udp -> 198.18.2.11:7000, 198.18.2.12:7000   (8 flows)
#   churn: 198.18.101.N:80/tcp and :7000/udp, policies on 198.18.101.N/32
#
# usage: live_update.sh XGWD XGWCTL
# Environment:
#   XGW_LU_XGWD     run this xgwd instead of argument 1 (e.g. an ASan or TSan
#                   build: XGW_LU_XGWD=build-asan/xgwd/xgwd)
#   XGW_LU_CHANGES  number of changes (default 1000, a multiple of 5)
#   XGW_LU_RATE     packets per second of service A's stream (default 3000)
#   XGW_LU_LOG      write xgwd's log there (kept after the test) instead of
#                   into the temporary directory
# Sanitizer reports go to xgwd's log, which this test checks; ASAN_OPTIONS,
# UBSAN_OPTIONS and TSAN_OPTIONS are passed through (defaults set below).
set -u
XGWD=${1:?usage: live_update.sh XGWD XGWCTL}
XGWCTL=${2:?usage: live_update.sh XGWD XGWCTL}
XGWD=${XGW_LU_XGWD:-$XGWD}
CHANGES=${XGW_LU_CHANGES:-1000}
RATE=${XGW_LU_RATE:-3000}
LOG=${XGW_LU_LOG:-}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 missing"
[ -x "$XGWD" ] || fail "xgwd not found: $XGWD"
[ $((CHANGES % 5)) = 0 ] && [ "$CHANGES" -gt 0 ] || fail "XGW_LU_CHANGES must be a positive multiple of 5"

CLI=$(mkns cli); GW=$(mkns gw); BE=$(mkns be)
cli_gw "$CLI" "$GW"
veth "$GW" gw-s "$BE" b0
no_tx_csum "$BE" b0
ip -n "$GW" addr add 198.18.2.1/24 dev gw-s
ip -n "$BE" addr add 198.18.2.11/24 dev b0
ip -n "$BE" addr add 198.18.2.12/24 dev b0
ip -n "$BE" route add default via 198.18.2.1
# Only xgw forwards: what reaches the backends went through the workers.
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=0

# Receiver at the backends: counts datagrams of one run by sequence number
# (payload "XLU" + run tag + 8-byte seq); reports progress and, when the
# stop file appears, drains briefly and writes the totals.
cat >"$XGW_TMP/rx.py" <<'PY'
import json, os, socket, struct, sys, time
out, stop, max_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# FORCE (root): past net.core.rmem_max, so that a receiver descheduled on a
# busy machine does not drop datagrams that xgw delivered.
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 32 << 20)
s.bind(("0.0.0.0", 7000))
s.settimeout(0.1)
runs, seen = {}, {}
bad = 0
t0, last_report, stop_at = time.monotonic(), 0.0, None
def report():
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"runs": runs, "bad": bad}, f)
    os.replace(tmp, out)
while time.monotonic() - t0 < max_s:
    now = time.monotonic()
    if stop_at is None and os.path.exists(stop):
        stop_at = now + 1.0                 # drain what is still in flight
    if stop_at is not None and now >= stop_at:
        break
    if now - last_report > 0.2:
        report(); last_report = now
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    if len(data) < 12 or data[:3] != b"XLU":
        bad += 1
        continue
    tag = chr(data[3])
    seq, = struct.unpack("!Q", data[4:12])
    r = runs.setdefault(tag, {"received": 0, "dups": 0})
    bits = seen.setdefault(tag, set())
    if seq in bits:
        r["dups"] += 1
        continue
    bits.add(seq)
    r["received"] += 1
report()
PY

# Sender: RATE packets/s over 8 flows (source ports 40000-40007) to the VIP,
# paced in 5 ms slices; stops after COUNT packets, when the stop file
# appears, or after MAX seconds.  Writes {"sent": N, "errors": N}.
cat >"$XGW_TMP/tx.py" <<'PY'
import json, os, socket, struct, sys, time
tag, rate, count, max_s, stop, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4]), sys.argv[5], sys.argv[6]
socks = []
for i in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.1.2", 40000 + i))
    socks.append(s)
dst = ("198.18.100.1", 7000)
pad = b"\0" * 52
sent = errors = 0
t0 = time.monotonic()
while sent < count and not os.path.exists(stop):
    now = time.monotonic()
    if now - t0 > max_s:
        break
    # Behind schedule (descheduled): catch up by at most 10 ms of traffic
    # per slice, so the stream stays a stream and not a burst.
    due = min(count, int((now - t0) * rate) + 1, sent + max(32, rate // 100))
    while sent < due:
        try:
            socks[sent % 8].sendto(b"XLU" + tag.encode() + struct.pack("!Q", sent) + pad, dst)
            sent += 1
        except OSError:
            errors += 1            # not sent: the next one reuses the number
            break
    time.sleep(0.005)
json.dump({"sent": sent, "errors": errors, "seconds": time.monotonic() - t0}, open(out, "w"))
PY

# Control client: one connection to the socket, newline-delimited JSON;
# applies the churn to services other than A and scrapes /metrics now and
# then.  Each change must succeed.
cat >"$XGW_TMP/churn.py" <<'PY'
import json, socket, sys, time, urllib.request
path, changes, metrics, max_s = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
f = s.makefile("rwb")
def call(cmd, args=None):
    req = {"cmd": cmd}
    if args is not None:
        req["args"] = args
    f.write((json.dumps(req) + "\n").encode()); f.flush()
    line = f.readline()
    if not line:
        sys.exit(f"{cmd}: connection closed")
    rep = json.loads(line)
    if not rep.get("ok"):
        sys.exit(f"{cmd} {json.dumps(args)}: {rep.get('error')}")
    return rep.get("result")
def svc(i):
    # Odd rounds: a UDP service on A's port at another VIP; even: TCP :80.
    return {"vip": f"198.18.101.{i % 250 + 1}", "port": 7000 if i % 2 else 80,
            "proto": "udp" if i % 2 else "tcp"}
LAG = 8                   # up to LAG other services live at once
rounds, done, scrapes = changes // 5, 0, 0
t0 = time.monotonic()
live = []
for i in range(rounds):
    if time.monotonic() - t0 > max_s:
        sys.exit(f"churn: only {done} changes in {max_s} s")
    k = svc(i)
    call("service.add", dict(k)); done += 1
    call("backend.add", {"service": k, "backend": {"ip": "198.18.2.12", "port": 8080,
                                                  "weight": 1 + i % 3}}); done += 1
    p = call("policy.add", {"action": "deny", "src": "198.18.1.0/24",
                            "dst": k["vip"] + "/32", "proto": k["proto"],
                            "dport": str(k["port"])}); done += 1
    call("policy.del", {"id": p["id"]}); done += 1
    live.append(k)
    if len(live) > LAG or rounds - i <= LAG:
        # Delete the oldest: the last LAG rounds drain what is left.
        call("service.del", live.pop(0)); done += 1
    if i % 20 == 0:
        call("stats")
        body = urllib.request.urlopen(metrics, timeout=5).read().decode()
        if "xgw_rx_packets_total{" not in body:
            sys.exit("metrics: no xgw_rx_packets_total")
        scrapes += 1
while live:               # only when rounds < LAG
    call("service.del", live.pop(0)); done += 1
dt = time.monotonic() - t0
print(json.dumps({"changes": done, "seconds": round(dt, 2),
                  "per_s": round(done / dt, 1), "scrapes": scrapes}))
PY

CORE=$(xgw_core)
SOCK="$XGW_TMP/xgw.sock"
MPORT=9100 # inside the gateway's own namespace
cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [
    { "name": "client", "iface": "gw-c", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "backend", "iface": "gw-s", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": 65536 },
  "metrics": { "listen": "127.0.0.1:$MPORT" },
  "ctl": { "socket": "$SOCK" } }
JSON
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1}
LOG=${LOG:-$XGW_TMP/xgwd.log}
# systemd's notify protocol, as a unit of Type=notify sees it: a datagram
# socket named by NOTIFY_SOCKET, every message appended to a file.
python3 - "$XGW_TMP/notify.sock" "$XGW_TMP/notify.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(280)
with open(sys.argv[2], "a") as f:
    while True:
        try:
            m = s.recv(4096)
        except OSError:
            break
        f.write(m.decode() + "\n")
        f.flush()
PY
XGW_PIDS+=($!)
wait_for test -S "$XGW_TMP/notify.sock" || fail "notify listener did not start"
ip netns exec "$GW" env NOTIFY_SOCKET="$XGW_TMP/notify.sock" \
	"$XGWD" -c "$XGW_TMP/xgw.json" >"$LOG" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
ctl() { ip netns exec "$GW" "$XGWCTL" -s "$SOCK" "$@"; }
# Sanitized builds start slowly: up to 30 s.
for _ in 1 2 3; do wait_for ctl ports && break; done
ctl ports >/dev/null 2>&1 || { cat "$LOG"; fail "xgwd did not start"; }
wait_for grep -q "^READY=1" "$XGW_TMP/notify.txt" || fail "xgwd sent no READY=1 to NOTIFY_SOCKET"
ok "xgwd running ($XGWD), READY=1 sent to systemd's notify socket"

ctl service add 198.18.100.1:7000/udp || fail "service add"
ctl backend add 198.18.100.1:7000/udp 198.18.2.11:7000 || fail "backend add"
ctl backend add 198.18.100.1:7000/udp 198.18.2.12:7000 || fail "backend add"
# Resolve the backends in the gateway's neighbour table before measuring
# (the echo replies themselves may be steered to the workers: not checked).
ip netns exec "$GW" ping -c 1 -W 1 198.18.2.11 >/dev/null 2>&1
ip netns exec "$GW" ping -c 1 -W 1 198.18.2.12 >/dev/null 2>&1
ctl config get >"$XGW_TMP/config0.json" || fail "config get"
ok "service A 198.18.100.1:7000/udp with two backends"

ip netns exec "$BE" python3 "$XGW_TMP/rx.py" "$XGW_TMP/rx.json" "$XGW_TMP/rx.stop" 280 &
RX=$!
XGW_PIDS+=($RX)
rx_got() { # rx_got TAG: datagrams of run TAG received so far
	jget "d['runs'].get('$1', {}).get('received', 0)" <"$XGW_TMP/rx.json" 2>/dev/null || echo 0
}
wait_for test -s "$XGW_TMP/rx.json" || fail "receiver did not start"

# Warm-up run (tag W): the path works end to end before anything counts.
ip netns exec "$CLI" python3 "$XGW_TMP/tx.py" W 500 200 5 "$XGW_TMP/none" "$XGW_TMP/txw.json" ||
	fail "warm-up sender"
for _ in $(seq 1 50); do
	[ "$(rx_got W)" -gt 0 ] && break
	sleep 0.1
done
[ "$(rx_got W)" -gt 0 ] ||
	{ ctl stats; cat "$LOG"; fail "no warm-up datagram reached the backends"; }
ok "warm-up: $(rx_got W)/200 datagrams through the gateway"

# What the workers route with: the kernel's connected route to the
# backends' subnet and the backends' neighbour entries, learnt over netlink.
ctl route list --json | jget "[r for r in d if r['dst'] == '198.18.2.0/24' and r['origin'] == 'kernel' and r['port'] == 'backend']" |
	grep -q 198.18.2.0 || { ctl route list; fail "route list: no learnt 198.18.2.0/24 via port backend"; }
ctl neigh list --json | jget "[n for n in d if n['ip'] == '198.18.2.11' and n['origin'] == 'kernel']" |
	grep -q 198.18.2.11 || { ctl neigh list; fail "neigh list: backend 198.18.2.11 not learnt"; }
ok "route list and neigh list show the FIB the workers use (learnt from the kernel)"

# The measured stream (tag M), bounded to 240 s.
ip netns exec "$CLI" python3 "$XGW_TMP/tx.py" M "$RATE" $((RATE * 240)) 240 \
	"$XGW_TMP/tx.stop" "$XGW_TMP/tx.json" &
TX=$!
XGW_PIDS+=($TX)
for _ in $(seq 1 100); do
	[ "$(rx_got M)" -gt $((RATE / 2)) ] && break
	sleep 0.1
done
[ "$(rx_got M)" -gt 0 ] || fail "service A's stream does not arrive"
before=$(rx_got M)

out=$(ip netns exec "$GW" timeout 200 python3 "$XGW_TMP/churn.py" "$SOCK" "$CHANGES" \
	"http://127.0.0.1:$MPORT/metrics" 180) || {
	touch "$XGW_TMP/tx.stop"
	tail -20 "$LOG"
	fail "churn failed: $out"
}
during=$(($(rx_got M) - before))
sleep 1
touch "$XGW_TMP/tx.stop"
wait $TX || fail "sender failed"
touch "$XGW_TMP/rx.stop"
wait $RX || fail "receiver failed"
echo "  churn: $out"
[ "$(echo "$out" | jget 'd["changes"]')" = "$CHANGES" ] || fail "not all changes applied: $out"
[ "$during" -gt 0 ] || fail "no datagram of service A arrived during the churn"
ok "$CHANGES changes to other services applied while service A's stream flowed ($during datagrams arrived meanwhile)"

sent=$(jget 'd["sent"]' <"$XGW_TMP/tx.json")
errs=$(jget 'd["errors"]' <"$XGW_TMP/tx.json")
got=$(jget 'd["runs"]["M"]["received"]' <"$XGW_TMP/rx.json")
dups=$(jget 'd["runs"]["M"]["dups"]' <"$XGW_TMP/rx.json")
echo "  service A: sent $sent (send errors $errs), received $got, duplicates $dups"
if [ "$got" != "$sent" ] || [ "$dups" != 0 ]; then
	ctl stats
	ip netns exec "$BE" grep -A1 '^Udp:' /proc/net/snmp
	fail "service A lost $((sent - got)) of $sent datagrams ($dups duplicates) during the changes"
fi
ok "service A lost no datagram: $got/$sent, no duplicates"

ctl config get >"$XGW_TMP/config1.json" || fail "config get"
python3 - "$XGW_TMP/config0.json" "$XGW_TMP/config1.json" <<'PY' || fail "final config differs from the initial one"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
if a != b:
    print(json.dumps(a, sort_keys=True, indent=1)); print(json.dumps(b, sort_keys=True, indent=1))
    sys.exit(1)
PY
[ "$(ctl service list --json | jget 'len(d)')" = 1 ] || fail "services left over"
ok "final running config equals the initial one"

# The counters agree: the client port's XDP program steered at least what
# was sent, and the metrics endpoint shows the same.
ctl stats --json >"$XGW_TMP/stats.json" || fail "stats"
steered=$(jget '[p for p in d["ports"] if p["name"] == "client"][0]["xdp"]["steered"]' <"$XGW_TMP/stats.json")
[ "$steered" -ge "$sent" ] || fail "client port steered $steered < $sent sent"
ip netns exec "$GW" python3 - "$MPORT" >"$XGW_TMP/metrics.txt" <<'PY' || fail "metrics scrape"
import sys, urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode())
PY
grep -q "^xgw_rx_packets_total{port=\"client\",queue=\"0\",core=\"$CORE\"} [1-9]" "$XGW_TMP/metrics.txt" ||
	fail "metrics: no rx packets on the client queue"
grep -q '^xgw_conntrack_entries [0-9]' "$XGW_TMP/metrics.txt" || fail "metrics: no conntrack gauge"
ip netns exec "$GW" python3 - "$MPORT" <<'PY' || fail "metrics: /nope not 404"
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/nope", timeout=5)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 404 else 1)
sys.exit(1)
PY
ok "counters agree (steered $steered); /metrics serves them, /nope is 404"

# Config lifecycle: save the running config to xgwd's own file, add a
# service to the file, SIGHUP: applied; then a change that needs a restart
# (the ports) and SIGHUP: refused, logged, nothing changed, xgwd running.
ctl config save "$XGW_TMP/xgw.json" >/dev/null || fail "config save"
python3 - "$XGW_TMP/xgw.json" <<'PY' || fail "editing the saved config"
import json, sys
d = json.load(open(sys.argv[1]))
d["services"].append({"vip": "198.18.100.9", "port": 9, "proto": "udp"})
json.dump(d, open(sys.argv[1], "w"))
PY
kill -HUP "$XGWD_PID"
wait_for sh -c "ip netns exec '$GW' '$XGWCTL' -s '$SOCK' service list --json | grep -q 198.18.100.9" ||
	{ tail -5 "$LOG"; fail "SIGHUP did not apply the edited file"; }
ctl config get >"$XGW_TMP/config-hup.json" || fail "config get"
python3 - "$XGW_TMP/xgw.json" <<'PY' || fail "editing the saved config"
import json, sys
d = json.load(open(sys.argv[1]))
d["ports"][0]["iface"] = "nosuch0"
d["services"].append({"vip": "198.18.100.10", "port": 9, "proto": "udp"})
json.dump(d, open(sys.argv[1], "w"))
PY
kill -HUP "$XGWD_PID"
wait_for grep -q "ports changed in .*needs a restart" "$LOG" ||
	{ tail -5 "$LOG"; fail "a restart-only change was not refused by name"; }
kill -0 "$XGWD_PID" || fail "xgwd died on SIGHUP"
ctl config get | cmp -s - "$XGW_TMP/config-hup.json" || fail "a refused reload changed the config"
ok "config save; SIGHUP applies the edited file; a restart-only change is refused, nothing changed"

# Clean stop, then the log must be free of sanitizer reports.
kill -TERM "$XGWD_PID"
for _ in $(seq 1 300); do kill -0 "$XGWD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$XGWD_PID" 2>/dev/null && fail "xgwd did not stop within 30 s of SIGTERM"
wait "$XGWD_PID"
rc=$?
if sanitizer_report "$LOG" 150; then
	[ -n "${XGW_LU_LOG:-}" ] || { cp "$LOG" "/tmp/xgw-live-update-xgwd.$$.log" 2>/dev/null &&
		echo "  full log kept in /tmp/xgw-live-update-xgwd.$$.log"; }
	fail "sanitizer report in xgwd's log"
fi
[ "$rc" = 0 ] || { tail -20 "$LOG"; fail "xgwd exited with status $rc"; }
grep -q "^STOPPING=1" "$XGW_TMP/notify.txt" || fail "xgwd sent no STOPPING=1"
ok "xgwd stopped cleanly (STOPPING=1 sent), no sanitizer report in its log"
echo "PASS"
