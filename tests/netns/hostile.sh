#!/bin/bash
# Hostile frames at a running xgwd (README "Hostile input"): scapy sends a
# corpus of malformed and malicious frames from the client's side; then the
# workers are alive, real TCP and UDP through the VIPs still work, and the
# counters account for every frame sent: each one is seen by the steering
# program (steered, passed or malformed), each steered one is received by a
# worker, and each received one is forwarded or dropped with one reason;
# the classes that must be steered are counted under their named reason,
# exactly.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.2.1 --- b0 198.18.2.11 [be]
#   VIP 198.18.100.1:80/tcp -> :8080, 198.18.100.2:53/udp -> :5353
set -u
XGWD=${1:?usage: hostile.sh XGWD XGWCTL}
XGWCTL=${2:?usage: hostile.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
PY=/usr/bin/python3
$PY -c 'import scapy.all' 2>/dev/null || skip "python3-scapy missing"
REPS=${XGW_HOSTILE_REPS:-40}

CLI=$(mkns cli); GW=$(mkns gw); BEN=$(mkns be)
cli_gw "$CLI" "$GW"
gw_be "$GW" "$BEN"
# Nothing but the corpus on the client's link while it runs: no IPv6
# (router solicitations, MLD), neighbours known in advance.
ip netns exec "$CLI" sysctl -qw net.ipv6.conf.c0.disable_ipv6=1
ip netns exec "$GW" sysctl -qw net.ipv6.conf.gw-c.disable_ipv6=1
GWMAC=$(ip -n "$GW" -j link show gw-c | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
CMAC=$(ip -n "$CLI" -j link show c0 | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
ip -n "$CLI" neigh replace 198.18.1.1 lladdr "$GWMAC" dev c0 nud permanent
ip -n "$GW" neigh replace 198.18.1.2 lladdr "$CMAC" dev gw-c nud permanent

echo_servers "$BEN"

# Real traffic: n TCP connections (a line echoed) and n UDP round trips.
cat >"$XGW_TMP/cli.py" <<'PY'
import json, socket, sys
n = int(sys.argv[1])
ok_t = ok_u = 0
for i in range(n):
    try:
        s = socket.create_connection(("198.18.100.1", 80), timeout=2)
        s.sendall(b"hello %d\n" % i)
        if s.makefile("rb").readline() == b"hello %d\n" % i:
            ok_t += 1
        s.close()
    except OSError:
        pass
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2)
        u.sendto(b"ping %d" % i, ("198.18.100.2", 53))
        if u.recvfrom(2048)[0] == b"ping %d" % i:
            ok_u += 1
        u.close()
    except OSError:
        pass
print(json.dumps({"tcp": ok_t, "udp": ok_u}))
PY
traffic() {
	local out
	out=$(ip netns exec "$CLI" $PY "$XGW_TMP/cli.py" "$1")
	[ "$out" = "{\"tcp\": $1, \"udp\": $1}" ] || fail "$2: $out of $1 each"
}

# The corpus: (class, expected worker drop reason or "", frames).  Classes
# with a reason are steered (they match the VIP's TCP or UDP port) and must
# be counted under it exactly; the others may go either way (steered and
# dropped, or passed to the kernel by the steering program).
cat >"$XGW_TMP/corpus.py" <<'PY'
import json, random, sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, Dot1Q, Raw, raw, sendp, conf
from scapy.layers.inet6 import IPv6ExtHdrDestOpt
conf.verb = 0
gwmac, reps = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
E = lambda: Ether(src="02:00:00:00:01:02", dst=gwmac)
CLI, VIP, UVIP = "198.18.1.2", "198.18.100.1", "198.18.100.2"

def sp():
    return rnd.randrange(1024, 65535)

def ip4(pkt, **kw):
    """The frame with IPv4 header fields overridden after build (checksum
    fixed unless told)."""
    b = bytearray(raw(pkt))
    for k, v in kw.items():
        if k == "ihl": b[14] = 0x40 | v
        if k == "tot": b[16:18] = v.to_bytes(2, "big")
    if kw.get("fixsum", True):
        b[24:26] = b"\0\0"
        h = b[14:14 + (b[14] & 15) * 4]
        s = sum(int.from_bytes(h[i:i + 2], "big") for i in range(0, len(h) - 1, 2))
        while s >> 16: s = (s & 0xffff) + (s >> 16)
        b[24:26] = (~s & 0xffff).to_bytes(2, "big")
    return bytes(b)

C = []
def add(cls, reason, gen):
    C.append((cls, reason, [bytes(gen()) if not isinstance(gen(), bytes) else gen() for _ in range(reps)]))

syn = lambda fl: (lambda: raw(E() / IP(src=CLI, dst=VIP) / TCP(sport=sp(), dport=80, flags=fl)))
add("TCP SYN+FIN", "tcp_bad_flags", syn("SF"))
add("TCP SYN+RST", "tcp_bad_flags", syn("SR"))
add("TCP no flags", "tcp_bad_flags", syn(""))
add("TCP FIN+PSH+URG", "tcp_bad_flags", syn("FPU"))
def doff():
    b = bytearray(raw(E() / IP(src=CLI, dst=VIP) / TCP(sport=sp(), dport=80, flags="S")))
    b[14 + 20 + 12] = 15 << 4
    return bytes(b)
add("TCP data offset past the end", "tcp_bad_data_offset", doff)
add("TCP header truncated", "tcp_truncated",
    lambda: ip4(E() / IP(src=CLI, dst=VIP) / TCP(sport=sp(), dport=80, flags="S"), tot=30)[:14 + 30])
add("IPv4 total length beyond the frame", "ipv4_bad_total_length",
    lambda: ip4(E() / IP(src=CLI, dst=VIP) / TCP(sport=sp(), dport=80, flags="S"), tot=1000))
add("IPv4 bad checksum", "ipv4_bad_checksum",
    lambda: raw(E() / IP(src=CLI, dst=VIP, chksum=0x1234) / TCP(sport=sp(), dport=80, flags="S")))
add("UDP length 0", "udp_bad_length",
    lambda: raw(E() / IP(src=CLI, dst=UVIP) / UDP(sport=sp(), dport=53, len=0) / Raw(b"x" * 8)))
add("UDP length beyond the payload", "udp_bad_length",
    lambda: raw(E() / IP(src=CLI, dst=UVIP) / UDP(sport=sp(), dport=53, len=200) / Raw(b"x" * 8)))
add("first fragment to a VIP", "fragment_unsupported",
    lambda: raw(E() / IP(src=CLI, dst=UVIP, flags="MF", id=rnd.randrange(65536)) /
                UDP(sport=sp(), dport=53, len=100) / Raw(b"x" * 16)))
add("LAND to a VIP", "source_is_gateway",
    lambda: raw(E() / IP(src=VIP, dst=VIP) / TCP(sport=80, dport=80, flags="S")))
add("source = the gateway's port address", "source_is_gateway",
    lambda: raw(E() / IP(src="198.18.1.1", dst=VIP) / TCP(sport=sp(), dport=80, flags="S")))
add("source = a VIP", "source_is_gateway",
    lambda: raw(E() / IP(src=UVIP, dst=VIP) / TCP(sport=53, dport=80, flags="S")))
add("VLAN in VLAN (802.1ad + 802.1Q) with SYN+FIN", "tcp_bad_flags",
    lambda: raw(Ether(src="02:00:00:00:01:02", dst=gwmac, type=0x88a8) / Dot1Q(vlan=10) /
                Dot1Q(vlan=20) / IP(src=CLI, dst=VIP) / TCP(sport=sp(), dport=80, flags="SF")))
# Either way (steering passes some of them to the kernel):
add("IPv4 IHL 4", "", lambda: ip4(E() / IP(src=CLI, dst=VIP) / TCP(sport=sp(), dport=80), ihl=4))
add("IPv4 header truncated", "", lambda: raw(E() / IP(src=CLI, dst=VIP) / TCP(dport=80))[:14 + 12])
add("non-first fragment to a VIP", "",
    lambda: raw(E() / IP(src=CLI, dst=UVIP, frag=10, proto=17, id=rnd.randrange(65536)) / Raw(b"y" * 16)))
add("three VLAN tags", "",
    lambda: raw(E() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP(src=CLI, dst=VIP) /
                TCP(sport=sp(), dport=80, flags="S")))
add("IPv6 with 9 extension headers", "",
    lambda: raw(E() / IPv6(src="2001:db8:1::2", dst="2001:db8:100::1") /
                (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()) /
                TCP(sport=sp(), dport=80, flags="S")))
add("ICMP error quoting nothing", "",
    lambda: raw(E() / IP(src=CLI, dst=VIP) / ICMP(type=3, code=1)))
add("random bytes after an IPv4 EtherType", "",
    lambda: raw(E()) [:12] + b"\x08\x00" + bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200))))

frames = [f for _, _, fs in C for f in fs]
rnd.shuffle(frames)
sendp([Ether(f) for f in frames], iface="c0", verbose=0)
want = {}
for cls, reason, fs in C:
    if reason:
        want[reason] = want.get(reason, 0) + len(fs)
print(json.dumps({"sent": len(frames), "classes": len(C), "want": want}))
PY

start_xgwd "$GW" "$XGWD" 4096
ctl service add 198.18.100.1:80/tcp >/dev/null || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.2.11:8080 >/dev/null || fail "backend add"
ctl service add 198.18.100.2:53/udp >/dev/null || fail "service add"
ctl backend add 198.18.100.2:53/udp 198.18.2.11:5353 >/dev/null || fail "backend add"
traffic 20 "before the corpus"
ok "20 TCP connections and 20 UDP round trips through the VIPs"

ctl stats --json >"$XGW_TMP/before.json" || fail "stats"
ip netns exec "$CLI" $PY "$XGW_TMP/corpus.py" "$GWMAC" "$REPS" >"$XGW_TMP/sent.json" ||
	fail "the corpus could not be sent"
# Until the workers have seen everything steered (bounded: 10 s).
settled() {
	ctl stats --json >"$XGW_TMP/after.json" &&
		$PY - "$XGW_TMP/before.json" "$XGW_TMP/after.json" "$XGW_TMP/sent.json" <<'PY'
import json, sys
b, a, s = (json.load(open(f)) for f in sys.argv[1:4])
xdp = lambda d, p: sum(d["ports"][p]["xdp"].values())
sys.exit(0 if xdp(a, 0) - xdp(b, 0) >= s["sent"] and
         sum(w["rx_packets"] for w in a["workers"]) - sum(w["rx_packets"] for w in b["workers"]) >=
         sum(p["xdp"]["steered"] for p in a["ports"]) - sum(p["xdp"]["steered"] for p in b["ports"])
         else 1)
PY
}
wait_for settled
$PY - "$XGW_TMP/before.json" "$XGW_TMP/after.json" "$XGW_TMP/sent.json" >"$XGW_TMP/acct.txt" <<'PY'
import json, sys
b, a, s = (json.load(open(f)) for f in sys.argv[1:4])
def d(f):
    return f(a) - f(b)
sent = s["sent"]
seen = d(lambda x: sum(x["ports"][0]["xdp"].values()))
steered_c = d(lambda x: x["ports"][0]["xdp"]["steered"])
kernel_c = d(lambda x: x["ports"][0]["xdp"]["passed"] + x["ports"][0]["xdp"]["malformed"] +
             x["ports"][0]["xdp"]["no_socket"])
steered = d(lambda x: sum(p["xdp"]["steered"] for p in x["ports"]))
rx = d(lambda x: sum(w["rx_packets"] for w in x["workers"]))
kdrop = d(lambda x: sum(q.get("kernel_rx_dropped", 0) + q.get("kernel_rx_ring_full", 0)
                        for p in x["ports"] for q in p["queues"]))
fwd = d(lambda x: sum(w["forwarded"] for w in x["workers"]))
drops = {r: a["drops"].get(r, 0) - b["drops"].get(r, 0) for r in a["drops"]}
drops = {r: n for r, n in drops.items() if n}
print(f"sent {sent} frames ({s['classes']} classes): client port XDP saw {seen}, "
      f"steered {steered_c}, to the kernel {kernel_c}")
print(f"workers received {rx} (all ports, steered {steered}, kernel ring drops {kdrop}): "
      f"forwarded {fwd}, dropped {sum(drops.values())} {json.dumps(drops, sort_keys=True)}")
bad = []
if seen != sent: bad.append(f"client port XDP saw {seen} frames, {sent} sent")
if steered != rx + kdrop: bad.append(f"steered {steered} != received {rx} + ring drops {kdrop}")
if rx != fwd + sum(drops.values()):
    bad.append(f"received {rx} != forwarded {fwd} + dropped {sum(drops.values())}")
for r, n in s["want"].items():
    if drops.get(r, 0) != n: bad.append(f"{r}: counted {drops.get(r, 0)}, sent {n}")
for m in bad: print("MISMATCH", m)
sys.exit(1 if bad else 0)
PY
rc=$?
sed 's/^/  /' "$XGW_TMP/acct.txt"
[ $rc = 0 ] || fail "the counters do not account for every frame"
ok "every frame accounted for: seen by XDP, steered = received, received = forwarded + dropped by reason; each steered class under its reason"

# Fragments of backend replies (README: dropped, never routed
# untranslated): first fragments from the UDP backend's port and later
# fragments (no ports) from its address, toward the client.  The gateway's
# kernel routes for this part, so a fragment passed to it would reach the
# client with the backend's address: all must be steered to the workers
# and dropped as fragment_unsupported, and none reach the client.
NFRAG=${XGW_HOSTILE_FRAGS:-100}
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
f0=$(ctl stats --json | jget 'd["drops"].get("fragment_unsupported", 0)')
ip netns exec "$CLI" $PY -c '
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("c0", 0))
s.settimeout(0.2)
n, end = 0, time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    n += f[26:30] == socket.inet_aton("198.18.2.11")
print(n)' 6 >"$XGW_TMP/leaked" &
SNIFF=$!
sleep 0.5
BMAC=$(ip -n "$GW" -j link show gw-s | jget 'd[0]["address"]')
ip netns exec "$BEN" $PY - "$BMAC" "$NFRAG" <<'PY' || fail "cannot send backend fragments"
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp, conf
conf.verb = 0
mac, n = sys.argv[1], int(sys.argv[2])
first = [Ether(dst=mac) / IP(src="198.18.2.11", dst="198.18.1.2", id=1000 + i, flags="MF") /
         UDP(sport=5353, dport=40000 + i, len=1008, chksum=0) / Raw(b"x" * 992) for i in range(n)]
later = [Ether(dst=mac) / IP(src="198.18.2.11", dst="198.18.1.2", id=2000 + i, proto=17,
                             frag=125) / Raw(b"y" * 200) for i in range(n)]
sendp(first + later, iface="b0")
PY
# Read on each try (a $(...) in wait_for's arguments is read once).
frags_counted() {
	[ "$(ctl stats --json | jget 'd["drops"].get("fragment_unsupported", 0)')" -ge $((f0 + 2 * NFRAG)) ]
}
wait_for frags_counted
wait $SNIFF
f1=$(ctl stats --json | jget 'd["drops"].get("fragment_unsupported", 0)')
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=0
[ $((f1 - f0)) = $((2 * NFRAG)) ] ||
	fail "backend fragments: fragment_unsupported +$((f1 - f0)), sent $((2 * NFRAG))"
[ "$(cat "$XGW_TMP/leaked")" = 0 ] || fail "$(cat "$XGW_TMP/leaked") backend fragments reached the client"
ok "$NFRAG first and $NFRAG later fragments of backend replies: all dropped as fragment_unsupported, none reached the client"

kill -0 "$XGWD_PID" 2>/dev/null || fail "xgwd died"
n=$(ctl stats --json | jget 'len(d["workers"])') || fail "stats after the corpus"
[ "$n" -ge 1 ] || fail "no workers"
traffic 20 "after the corpus"
ok "xgwd and its workers alive; 20 TCP connections and 20 UDP round trips still work"
if sanitizer_report "$XGW_TMP/xgwd.log" 40; then fail "sanitizer report in xgwd's log"; fi
ok "no sanitizer report"
