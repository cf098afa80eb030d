#!/bin/bash
# Seeing what happens, with real TCP through the AF_XDP workers: per-service
# and per-backend counters (service list, backend list, stats, metrics),
# a live trace of the next packets a filter matches, and a capture that
# tshark reads, as received on one port and as sent on the other.
#
#   [cli] c0 198.18.1.2 --- gw-c [gw: xgwd] gw-s --- b0 198.18.2.11 [be]
#   VIP 198.18.100.1:80/tcp -> 198.18.2.11:8080
set -u
XGWD=${1:?usage: observe.sh XGWD XGWCTL}
XGWCTL=${2:?usage: observe.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 missing"
command -v tshark >/dev/null || skip "tshark missing"

CLI=$(mkns cli); GW=$(mkns gw); BEN=$(mkns be)
cli_gw "$CLI" "$GW"
gw_be "$GW" "$BEN"
echo_servers "$BEN"
start_xgwd "$GW" "$XGWD" 4096
ctl service add 198.18.100.1:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.11:8080 >/dev/null || fail "backend add"

# conns N PORT0 [VIP]: N connections from client ports PORT0.., one line
# echoed on each; prints how many came back.
conns() {
	ip netns exec "$CLI" python3 - "$1" "$2" "${3:-198.18.100.1}" <<'PY'
import socket, sys
ok = 0
for i in range(int(sys.argv[1])):
    try:
        s = socket.socket()
        s.bind(("198.18.1.2", int(sys.argv[2]) + i))
        s.settimeout(3)
        s.connect((sys.argv[3], 80))
        s.sendall(b"hello\n")
        if s.makefile("rb").readline() == b"hello\n":
            ok += 1
        s.close()
    except OSError:
        pass
print(ok)
PY
}

# ---- counters ----------------------------------------------------------
n=$(conns 5 41000)
[ "$n" = 5 ] || fail "5 connections through the VIP: $n echoed"
ok "5 connections through the VIP"
svc=$(ctl service list --json) || fail "service list"
read -r new pin pout bin active <<<"$(echo "$svc" | jget \
	'" ".join(str(d[0]["stats"][k]) for k in ("conns_new", "pkts_in", "pkts_out", "bytes_in", "conns_active"))')"
[ "$new" = 5 ] || fail "service list: conns_new $new, not 5"
# Each connection: at least SYN, ACK, data, FIN in; SYN+ACK, data, FIN out.
[ "$pin" -ge 20 ] && [ "$pout" -ge 15 ] && [ "$bin" -gt $((pin * 54)) ] ||
	fail "service list: pkts_in $pin pkts_out $pout bytes_in $bin"
[ "$active" -le 5 ] || fail "service list: conns_active $active > 5"
ok "service list counts 5 connections, $pin packets in, $pout out"
be=$(ctl backend list 198.18.100.1:80/tcp --json | jget 'd[0]["stats"]["pkts_in"]')
[ "$be" = "$pin" ] || fail "backend list: pkts_in $be, service $pin"
ctl service list | grep -Eq "198.18.2.11:8080 .* 5 " || fail "service list table: $(ctl service list)"
ctl stats --json | jget 'd["services"][0]["conns_new"]' | grep -qx 5 || fail "stats: services"
ok "backend list, the table and stats agree"

# ---- worker load -------------------------------------------------------
# The traffic above was processed in busy polls: their cycles are counted,
# and the counter's rate is known, so busy % and cycles/packet exist.
read -r busy rx hz <<<"$(ctl stats --json | jget \
	'" ".join(str(x) for x in (d["workers"][0]["busy_cycles"], d["workers"][0]["rx_packets"], d["tsc_hz"]))')"
[ "$rx" -gt 0 ] && [ "$busy" -gt "$rx" ] && [ "$hz" -gt 1000000 ] ||
	fail "worker busy accounting: busy_cycles $busy for $rx packets, tsc_hz $hz"
load=$(ctl workers --interval 0.3 --json) || fail "xgwctl workers"
echo "$load" | jget 'len(d) == 1 and 0 <= d[0]["busy_pct"] <= 100 and d[0]["core"] is not None' |
	grep -qx True || fail "xgwctl workers: $load"
ctl workers --interval 0.2 | grep -q "CYCLES/PKT" || fail "xgwctl workers table"
ok "worker load: $busy busy cycles for $rx packets (tsc_hz $hz), xgwctl workers"

# ---- trace -------------------------------------------------------------
ctl trace --count 3 --filter "tcp port 42000" --timeout 20 >"$XGW_TMP/trace.out" \
	2>"$XGW_TMP/trace.err" &
TRACE=$!
XGW_PIDS+=($TRACE)
wait_for ctl call trace.read || fail "trace did not start: $(cat "$XGW_TMP/trace.err")"
n=$(conns 1 41990)   # not matched: port 41990
n=$((n + $(conns 1 42000)))
[ "$n" = 2 ] || fail "traffic during the trace: $n of 2"
wait "$TRACE" || fail "xgwctl trace: $(cat "$XGW_TMP/trace.err")"
out=$(cat "$XGW_TMP/trace.out")
[ "$(grep -c '^Packet ' <<<"$out")" = 3 ] || fail "3 packets traced: $out"
grep -q "41990" <<<"$out" && fail "a packet the filter does not match was traced: $out"
grep -q "parse      ipv4 tcp 198.18.1.2:42000 -> 198.18.100.1:80 \[S\]" <<<"$out" ||
	fail "trace: parse line: $out"
grep -q "conntrack  new, syn_sent" <<<"$out" || fail "trace: new connection: $out"
grep -q "backend    198.18.2.11:8080" <<<"$out" || fail "trace: backend: $out"
grep -q "nat        ipv4 tcp 198.18.1.2:42000 -> 198.18.2.11:8080" <<<"$out" ||
	fail "trace: DNAT: $out"
grep -q "conntrack  hit (reply), syn_sent -> syn_recv" <<<"$out" || fail "trace: reply: $out"
grep -q "nat        ipv4 tcp 198.18.100.1:80 -> 198.18.1.2:42000 \[SA\]" <<<"$out" ||
	fail "trace: reverse NAT: $out"
grep -q "route      port backend, directly connected, dst mac" <<<"$out" ||
	fail "trace: route: $out"
[ "$(grep -c 'verdict    forwarded' <<<"$out")" = 3 ] || fail "trace: verdicts: $out"
grep -q "3 packets traced" "$XGW_TMP/trace.err" || fail "trace summary: $(cat "$XGW_TMP/trace.err")"
# Done and stopped: no session is left.
ctl call trace.read 2>&1 | grep -q "no trace running" || fail "a trace is left running"
ok "trace: SYN, SYN+ACK and ACK of the matched connection, stage by stage"

ctl trace --filter "tcp port" 2>&1 | grep -q 'filter "tcp port"' || fail "a bad filter is not refused"
ctl call trace.read 2>&1 | grep -q "no trace running" || fail "a refused trace runs"
ok "a bad filter is refused"

# ---- capture -----------------------------------------------------------
ctl capture -w "$XGW_TMP/tx.pcap" --port backend --dir tx --count 4 --timeout 20 \
	2>"$XGW_TMP/cap.err" &
CAP=$!
XGW_PIDS+=($CAP)
wait_for ctl call capture.read || fail "capture did not start: $(cat "$XGW_TMP/cap.err")"
n=$(conns 1 43000)
[ "$n" = 1 ] || fail "traffic during the capture"
wait "$CAP" || fail "xgwctl capture: $(cat "$XGW_TMP/cap.err")"
got=$(tshark -r "$XGW_TMP/tx.pcap" -T fields -e ip.src -e ip.dst -e tcp.dstport 2>"$XGW_TMP/tshark.err")
[ "$(wc -l <<<"$got")" = 4 ] || fail "4 frames captured: $got"
[ "$(sort -u <<<"$got")" = "$(printf '198.18.1.2\t198.18.2.11\t8080')" ] ||
	fail "the frames as sent to the backend (DNAT applied): $got"
ok "capture --dir tx --port backend: 4 frames as sent, read by tshark"

ctl capture -w "$XGW_TMP/rx.pcap" --port client --dir rx --count 2 --filter "tcp[tcpflags] & tcp-syn != 0" \
	--timeout 20 2>"$XGW_TMP/cap.err" &
CAP=$!
XGW_PIDS+=($CAP)
wait_for ctl call capture.read || fail "capture did not start: $(cat "$XGW_TMP/cap.err")"
conns 2 44000 >/dev/null
wait "$CAP" || fail "xgwctl capture: $(cat "$XGW_TMP/cap.err")"
got=$(tshark -r "$XGW_TMP/rx.pcap" -T fields -e ip.dst -e tcp.srcport -e tcp.flags.syn 2>"$XGW_TMP/tshark.err")
[ "$got" = "$(printf '198.18.100.1\t44000\t1\n198.18.100.1\t44001\t1')" ] ||
	fail "2 SYNs as received, to the VIP: $got"
ok "capture --dir rx --filter: the SYNs as received"

# ---- trace of the kernel datapath -----------------------------------------
# A service served in XDP: its packets are traced too, marked kernel.
# bpf_fib_lookup needs forwarding; XDP_TX'd frames reach a veth peer only
# through its XDP program (lib.sh).
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
xdp_rx_peer "$CLI" c0
xdp_rx_peer "$BEN" b0
ctl service add 198.18.100.2:80/tcp --datapath kernel >/dev/null || fail "kernel service add"
ctl backend add 198.18.100.2:80/tcp 198.18.2.11:8080 >/dev/null || fail "kernel backend add"
ctl trace --count 3 --filter "tcp port 45000" --timeout 20 >"$XGW_TMP/ktrace.out" \
	2>"$XGW_TMP/ktrace.err" &
TRACE=$!
XGW_PIDS+=($TRACE)
wait_for ctl call trace.read || fail "trace did not start: $(cat "$XGW_TMP/ktrace.err")"
n=$(conns 1 44990 198.18.100.2)
n=$((n + $(conns 1 45000 198.18.100.2)))
[ "$n" = 2 ] || fail "traffic to the kernel service during the trace: $n of 2"
wait "$TRACE" || fail "xgwctl trace: $(cat "$XGW_TMP/ktrace.err")"
out=$(cat "$XGW_TMP/ktrace.out")
[ "$(grep -c '^Packet [0-9]* (kernel datapath): port \(client\|backend\) queue [0-9]*, [0-9]* bytes, datapath kernel' <<<"$out")" = 3 ] ||
	fail "3 kernel-datapath packets traced: $out"
grep -q "44990" <<<"$out" && fail "a packet the filter does not match was traced: $out"
grep -q "parse      ipv4 tcp 198.18.1.2:45000 -> 198.18.100.2:80 \[S\]" <<<"$out" ||
	fail "kernel trace: parse line: $out"
grep -q "service    198.18.100.2:80/tcp (kernel datapath)" <<<"$out" || fail "kernel trace: service: $out"
grep -q "conntrack  new, syn_sent" <<<"$out" || fail "kernel trace: new connection: $out"
grep -q "backend    198.18.2.11:8080" <<<"$out" || fail "kernel trace: backend: $out"
grep -q "conntrack  hit (reply), syn_sent -> syn_recv" <<<"$out" || fail "kernel trace: reply: $out"
grep -q "nat        ipv4 tcp 198.18.100.2:80 -> 198.18.1.2:45000 \[SA\]" <<<"$out" ||
	fail "kernel trace: reverse NAT: $out"
grep -q "conntrack  hit (original), syn_recv -> established" <<<"$out" ||
	fail "kernel trace: the ACK: $out"
# The SYN: forwarded in XDP, or passed to the stack while the kernel has no
# neighbour entry for the backend yet; the DNAT is done either way.
grep -Eq "verdict    (forwarded|passed to the kernel stack)" <<<"$out" ||
	fail "kernel trace: verdict: $out"
ctl call trace.read 2>&1 | grep -q "no trace running" || fail "a trace is left running"
sed 's/^/# /' <<<"$out"
ok "trace: a kernel-datapath connection's SYN, SYN+ACK and ACK, decisions read from XDP"

# Capture of the kernel datapath: the frames XDP sent to the backend (the
# neighbour is known by now: redirected in XDP, not passed to the stack).
ctl capture -w "$XGW_TMP/ktx.pcap" --port backend --dir tx --count 2 --filter "tcp port 46000" \
	--timeout 20 2>"$XGW_TMP/kcap.err" &
CAP=$!
XGW_PIDS+=($CAP)
wait_for ctl call capture.read || fail "capture did not start: $(cat "$XGW_TMP/kcap.err")"
n=$(conns 1 46000 198.18.100.2)
[ "$n" = 1 ] || fail "traffic to the kernel service during the capture"
wait "$CAP" || fail "xgwctl capture: $(cat "$XGW_TMP/kcap.err")"
got=$(tshark -r "$XGW_TMP/ktx.pcap" -T fields -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport 2>"$XGW_TMP/tshark.err")
[ "$got" = "$(printf '198.18.1.2\t198.18.2.11\t46000\t8080\n198.18.1.2\t198.18.2.11\t46000\t8080')" ] ||
	fail "kernel capture: 2 frames as XDP sent them to the backend: $got"
ok "capture --dir tx --port backend of a kernel service: the frames XDP sent"

sanitizer_report "$XGW_TMP/xgwd.log" 40 && fail "sanitizer report in xgwd's log"
exit 0
