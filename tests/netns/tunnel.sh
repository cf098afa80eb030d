#!/bin/bash
# Tunnels against real peers: a Linux kernel VXLAN device behind a backend
# node, TCP through the VIP encapsulated by xgw and the replies
# decapsulated and reverse-NATed, a bulk transfer compared byte for byte,
# a service mixing tunnel and native backends.  No Geneve module here: the
# Geneve frames xgw emits are checked with tshark and scapy, and
# scapy-built Geneve frames (with and without options, critical or not)
# are sent to xgw to decapsulate; and xgw to xgw over Geneve.  Health
# checks (HTTP) of the VXLAN backend through the tunnel: the relay's
# device deleted, reverse-path filtering strict and loose, the tunnel
# broken and mended.
#
#   [cli] c0 198.18.1.2 --- gw-c 198.18.1.1 [gw] gw-s 198.18.3.1 --- u0 198.18.3.2  [node]
#                                           (tunnel.local_ip)          198.18.3.3  (Geneve remote)
#                                                                      198.18.3.11:8080 native backend
#                                                     vx0: vxlan id 42 198.18.4.10:8080 tunnel backend
#   VIP 198.18.100.1:80/tcp -> 198.18.4.10:8080 over VXLAN, 198.18.3.11:8080 native
#   VIP 198.18.100.2:80/tcp -> 198.18.5.10:8080 over Geneve (VNI 77) to 198.18.3.3
#
# XGW_DATAPATH=user (default) or kernel: which datapath serves the services
# (the kernel one encapsulates and decapsulates in XDP; what it hands on --
# a packet too big once encapsulated, scapy's Geneve frames that belong to
# no kernel connection -- is served by the workers, and the test sees it).
set -u
XGWD=${1:?usage: tunnel.sh XGWD XGWCTL}
XGWCTL=${2:?usage: tunnel.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
DP=${XGW_DATAPATH:-user}
case "$DP" in user | kernel) ;; *) fail "XGW_DATAPATH=$DP" ;; esac
echo "# datapath: $DP"
command -v python3 >/dev/null || skip "python3 missing"
ip link add "$XGW_PREFIX-vx" type vxlan id 1 dstport 4789 2>/dev/null ||
	skip "no vxlan support in this kernel"
ip link del "$XGW_PREFIX-vx"


CLI=$(mkns cli); GW=$(mkns gw); NODE=$(mkns node)
cli_gw "$CLI" "$GW"
veth "$GW" gw-s "$NODE" u0
no_tx_csum "$NODE" u0
ip -n "$GW" addr add 198.18.3.1/24 dev gw-s
# user: forwarding off proves the workers do it; kernel: bpf_fib_lookup
# needs it, and XDP_TX'd frames reach a veth peer only through its XDP
# program (lib.sh).
if [ "$DP" = kernel ]; then
	ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
	xdp_rx_peer "$CLI" c0
	xdp_rx_peer "$NODE" u0
else
	ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=0
fi
ip -n "$NODE" addr add 198.18.3.2/24 dev u0
ip -n "$NODE" addr add 198.18.3.3/24 dev u0
ip -n "$NODE" addr add 198.18.3.11/24 dev u0
ip -n "$NODE" route add default via 198.18.3.1
GWMAC=$(ip -n "$GW" -j link show gw-s | jget 'd[0]["address"]')
# The kernel VXLAN peer: VNI 42 to xgw's local_ip.  Its replies to clients
# leave through the tunnel (source routing: from the overlay address).
ip -n "$NODE" link add vx0 type vxlan id 42 dstport 4789 local 198.18.3.2 remote 198.18.3.1 dev u0
ip -n "$NODE" link set vx0 up
no_tx_csum "$NODE" vx0
ip -n "$NODE" addr add 198.18.4.10/24 dev vx0
ip -n "$NODE" neigh add 198.18.4.1 lladdr "$GWMAC" dev vx0 nud permanent
ip -n "$NODE" rule add from 198.18.4.10 table 100
ip -n "$NODE" route add default via 198.18.4.1 dev vx0 table 100
VXMAC=$(ip -n "$NODE" -j link show vx0 | jget 'd[0]["address"]')

# Servers: say their name, then echo everything back.
cat >"$XGW_TMP/be.py" <<'PY'
import socket, socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write((sys.argv[2] + "\n").encode())
        while True:
            b = self.request.recv(65536)
            if not b:
                break
            self.request.sendall(b)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S((sys.argv[1], 8080), H).serve_forever()
PY
ip netns exec "$NODE" python3 "$XGW_TMP/be.py" 198.18.4.10 vxlan-be &
XGW_PIDS+=($!)
ip netns exec "$NODE" python3 "$XGW_TMP/be.py" 198.18.3.11 native-be &
XGW_PIDS+=($!)

cat >"$XGW_TMP/cli.py" <<'PY'
import collections, json, socket, sys
n, vip = int(sys.argv[1]), sys.argv[2]
seen, fails = collections.Counter(), 0
for i in range(n):
    try:
        s = socket.create_connection((vip, 80), timeout=3)
        f = s.makefile("rwb")
        name = f.readline().strip().decode()
        msg = b"hello %d\n" % i
        f.write(msg); f.flush()
        if f.read(len(msg)) != msg:
            raise OSError("echo mismatch")
        seen[name] += 1
        s.close()
    except OSError:
        fails += 1
print(json.dumps({"seen": seen, "fails": fails}))
PY
# bulk VIP BYTES: send BYTES of patterned data while reading the echo back
# (threads both ways); compare byte for byte.
cat >"$XGW_TMP/bulk.py" <<'PY'
import hashlib, socket, sys, threading, time
vip, size = sys.argv[1], int(sys.argv[2])
data = hashlib.shake_256(b"xgw-tunnel").digest(size)
s = socket.create_connection((vip, 80), timeout=10)
name = b""
while not name.endswith(b"\n"):
    name += s.recv(1)
def tx():
    s.sendall(data)
t = threading.Thread(target=tx); t.start()
got, t0 = bytearray(), time.time()
while len(got) < size and time.time() - t0 < 60:
    b = s.recv(1 << 20)
    if not b:
        break
    got += b
t.join(10)
print(name.decode().strip(), "OK" if bytes(got) == data else "MISMATCH %d/%d" % (len(got), size))
PY

CORE=$(xgw_core)
SOCK="$XGW_TMP/xgw.sock"
cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [
    { "name": "client", "iface": "gw-c", "queues": [ { "queue": 0, "core": $CORE } ] },
    { "name": "backend", "iface": "gw-s", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "tunnel": { "local_ip": "198.18.3.1" },
  "conntrack": { "max_entries": 65536, "tcp_close_timeout_s": 120 },
  "ctl": { "socket": "$SOCK" } }
JSON
ip netns exec "$GW" "$XGWD" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/xgwd.log" 2>&1 &
XGWD_PID=$!
XGW_PIDS+=($XGWD_PID)
ctl() { ip netns exec "$GW" "$XGWCTL" -s "$SOCK" "$@"; }
wait_for ctl ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd did not start"; }
# The gateway's kernel learns the node's MAC (xgw reads its neighbours).
ip netns exec "$GW" ping -c 1 -W 2 198.18.3.2 >/dev/null || fail "node unreachable"
ip netns exec "$GW" ping -c 1 -W 2 198.18.3.3 >/dev/null || fail "node unreachable"

ctl service add 198.18.100.1:80/tcp --datapath "$DP" || fail "service add"
ctl backend add 198.18.100.1:80/tcp 198.18.4.10:8080 --vxlan 198.18.3.2 --vni 42 \
	--inner-mac "$VXMAC" || fail "vxlan backend add"
ctl backend add 198.18.100.1:80/tcp 198.18.3.11:8080 || fail "native backend add"
ctl service add 198.18.100.3:80/tcp --snat --datapath "$DP" || fail "snat service add"
ctl backend add 198.18.100.3:80/tcp 198.18.4.10:8080 --vxlan 198.18.3.2 --vni 42 2>"$XGW_TMP/err" &&
	fail "tunnel backend in a snat service accepted"
grep -q "snat" "$XGW_TMP/err" || fail "refusal does not say why: $(cat "$XGW_TMP/err")"
ok "VXLAN and native backends added with xgwctl; a tunnel backend in a snat service refused ($(cat "$XGW_TMP/err"))"

out=$(ip netns exec "$CLI" python3 "$XGW_TMP/cli.py" 60 198.18.100.1)
echo "# 60 connections: $out"
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || { ctl stats; fail "connections failed: $out"; }
[ "$(echo "$out" | jget 'len(d["seen"])')" = 2 ] || fail "not both backends used: $out"
# cnt NAME: the counter of the datapath under test (the workers' summed,
# or the XDP program's).
cnt() {
	if [ "$DP" = kernel ]; then
		ctl stats --json | jget "d['kernel']['$1']"
	else
		ctl stats --json | jget "sum(w['$1'] for w in d['workers'])"
	fi
}
enc=$(cnt vxlan_encapsulated)
dec=$(cnt vxlan_decapsulated)
[ "$enc" -gt 0 ] && [ "$dec" -gt 0 ] || fail "vxlan counters: encapsulated $enc decapsulated $dec"
ctl stats | grep -Eq "^vxlan_encapsulated +$enc$" || { ctl stats; fail "xgwctl stats does not show vxlan_encapsulated $enc"; }
if [ "$DP" = kernel ]; then
	wenc=$(ctl stats --json | jget 'sum(w["vxlan_encapsulated"] for w in d["workers"])')
	[ "$wenc" = 0 ] || fail "the workers encapsulated $wenc packets of a kernel service"
fi
ok "60 TCP connections to a VIP mixing a kernel-VXLAN backend and a native one, echoed ($out; vxlan encapsulated $enc, decapsulated $dec)"

res=$(ip netns exec "$CLI" timeout 90 python3 "$XGW_TMP/bulk.py" 198.18.100.1 4000000 2>&1)
i=0
while ! echo "$res" | grep -q "^vxlan-be" && [ $i -lt 20 ]; do  # Maglev: find a flow to the tunnel
	res=$(ip netns exec "$CLI" timeout 90 python3 "$XGW_TMP/bulk.py" 198.18.100.1 4000000 2>&1)
	i=$((i + 1))
done
echo "$res" | grep -q "^vxlan-be OK" || { ctl stats; fail "bulk transfer through the tunnel: $res"; }
ok "4 MB both ways through the VXLAN tunnel, byte for byte ($res)"

# PMTU: a UDP service behind the tunnel; a 1500-byte datagram with DF does
# not fit gw-s (1500) once encapsulated: ICMP fragmentation needed comes
# back to the client with 1450 (1500 - 50), and its socket learns it.
# Without DF: a counted drop (exceeds_mtu).
ctl service add 198.18.100.1:5000/udp --datapath "$DP" || fail "udp service add"
ctl backend add 198.18.100.1:5000/udp 198.18.4.10:5000 --vxlan 198.18.3.2 --vni 42 \
	--inner-mac "$VXMAC" || fail "udp vxlan backend add"
cat >"$XGW_TMP/pmtu.py" <<'PY'
import errno, socket, sys, time
IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_PMTUDISC_DONT, IP_MTU = 10, 2, 0, 14
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, int(sys.argv[1]))
s.connect(("198.18.100.1", 5000))
mtu = 0
for i in range(20):
    try:
        s.send(b"x" * 1472)            # 1500 bytes of IP
    except OSError as e:
        if e.errno != errno.EMSGSIZE:
            raise
    time.sleep(0.1)
    mtu = s.getsockopt(socket.IPPROTO_IP, IP_MTU)
    if mtu < 1500:
        break
print(mtu)
PY
# Without DF first: once the client knows the path MTU it would fragment.
before=$(ctl stats --json | jget 'd["drops"].get("exceeds_mtu", 0)')
[ "$DP" = kernel ] && p0=$(cnt punted_to_user)
ip netns exec "$CLI" python3 "$XGW_TMP/pmtu.py" 0 >/dev/null || fail "pmtu probe without DF"
after=$(ctl stats --json | jget 'd["drops"].get("exceeds_mtu", 0)')
[ "$after" -ge $((before + 20)) ] || fail "exceeds_mtu went from $before to $after, expected +20"
if [ "$DP" = kernel ]; then # XDP hands them on; the workers count them
	p1=$(cnt punted_to_user)
	[ "$p1" -ge $((p0 + 20)) ] || fail "punted_to_user went from $p0 to $p1, expected +20"
fi
mtu=$(ip netns exec "$CLI" python3 "$XGW_TMP/pmtu.py" 2) || fail "pmtu probe"
[ "$mtu" = 1450 ] || { ctl stats; fail "client path MTU is $mtu after a too-big DF datagram, expected 1450"; }
ok "too big once encapsulated: DF gets ICMP frag-needed with MTU 1450 (client path MTU $mtu); without DF a counted drop (exceeds_mtu $before -> $after)"

# Geneve: no kernel module, so independent dissectors check what xgw sends.
PYS=/usr/bin/python3
if ! command -v tshark >/dev/null || ! $PYS -c "import scapy.contrib.geneve" 2>/dev/null; then
	ok "# SKIP tshark or python3-scapy missing (scripts/install-deps.sh): Geneve frames from xgw"
	ok "# SKIP tshark or python3-scapy missing (scripts/install-deps.sh): scapy Geneve to xgw"
else
	ctl service add 198.18.100.2:80/tcp --datapath "$DP" || fail "service add"
	ctl backend add 198.18.100.2:80/tcp 198.18.5.10:8080 --geneve 198.18.3.3 --vni 77 ||
		fail "geneve backend add"
	ip netns exec "$NODE" timeout 20 tshark -q -i u0 -f "udp dst port 6081" -c 2 \
		-w "$XGW_TMP/gnv.pcap" >"$XGW_TMP/tshark.log" 2>&1 &
	tsh=$!
	# tshark takes a while to start capturing (seconds on a busy VM)
	for _ in $(seq 100); do
		grep -q "Capture started" "$XGW_TMP/tshark.log" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	ip netns exec "$CLI" python3 -c "
import socket
try: socket.create_connection(('198.18.100.2', 80), timeout=1.5)
except OSError: pass" # SYN (+ a retransmission); no one answers
	wait $tsh
	f=$(ip netns exec "$NODE" tshark -r "$XGW_TMP/gnv.pcap" -o ip.check_checksum:TRUE -Y geneve \
		-T fields -E separator=/s -e geneve.vni -e geneve.proto_type -e ip.src -e ip.dst \
		-e ip.checksum.status -e udp.srcport -e tcp.dstport -e tcp.flags.syn 2>/dev/null | head -1)
	echo "# tshark: $f"
	read -r vni proto ipsrc ipdst cks sport dport syn <<<"$f"
	# VNI in hex; checksum status 1: good (wireshark's enum)
	[ "$((vni))" = 77 ] && [ "$proto" = 0x6558 ] && [ "$ipsrc" = "198.18.3.1,198.18.1.2" ] &&
		[ "$ipdst" = "198.18.3.3,198.18.5.10" ] && [ "$dport" = 8080 ] && [ "$syn" = 1 ] &&
		[ "$sport" -ge 49152 ] && [ "$cks" = 1,1 ] ||
		{ cat "$XGW_TMP/tshark.log"; ctl stats; fail "tshark does not see the expected Geneve frame: $f"; }
	cat >"$XGW_TMP/gcheck.py" <<'PY'
import sys
from scapy.all import rdpcap, IP, TCP, UDP, Ether, raw
from scapy.contrib.geneve import GENEVE
p = rdpcap(sys.argv[1])[0]
g = p[GENEVE]
o, i = p[IP], g[IP]
assert g.vni == 77 and g.proto == 0x6558 and g.optionlen == 0 and g.critical == 0, g.show(dump=True)
assert p[UDP].dport == 6081 and 49152 <= p[UDP].sport and p[UDP].chksum == 0
assert i.src == "198.18.1.2" and i.dst == "198.18.5.10" and g[TCP].dport == 8080
assert g[Ether].dst == p[Ether].src  # no inner MAC set: xgw's own
def ok(ip, proto):  # the checksum as sent equals scapy's own recomputation
    c = ip[proto].chksum
    q = IP(raw(ip))
    del q[proto].chksum
    return c == IP(raw(q))[proto].chksum
assert ok(o, IP) and ok(i, IP) and ok(i, TCP), "checksums"
assert o.flags.DF and o.len == len(raw(o))
print("vni", g.vni, "sport", p[UDP].sport)
PY
	r=$(ip netns exec "$NODE" $PYS "$XGW_TMP/gcheck.py" "$XGW_TMP/gnv.pcap" 2>&1) ||
		fail "scapy: $r"
	ok "Geneve frames from xgw dissected by tshark ($f) and scapy ($r): VNI, protocol, inner SYN, checksums"

	# scapy-built Geneve to xgw: an inner UDP datagram for the client,
	# without options, with a non-critical option, with a critical one,
	# and with the C bit.
	# Listen up to 30 s for the first datagram (scapy starts slowly on a
	# busy VM), then 3 s more for any other.
	ip netns exec "$CLI" timeout 40 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('198.18.1.2', 9999)); s.settimeout(30)
got = []
try:
    while True:
        got.append(s.recv(100).decode())
        s.settimeout(3)
except OSError: pass
print(' '.join(sorted(got)))" >"$XGW_TMP/grx.out" &
	rx=$!
	crit0=$(ctl stats --json | jget 'd["drops"].get("geneve_critical_option", 0)')
	cat >"$XGW_TMP/gsend.py" <<'PY'
import sys, time
from scapy.all import Ether, IP, UDP, Raw, sendp
from scapy.contrib.geneve import GENEVE, GeneveOptions
gw = sys.argv[1]
def frame(tag, **kw):
    inner = Ether(src="02:00:00:00:05:0a", dst=gw) / IP(src="198.18.9.9", dst="198.18.1.2") / \
            UDP(sport=1234, dport=9999) / Raw(tag.encode())
    return Ether(dst=gw) / IP(src="198.18.3.3", dst="198.18.3.1") / \
           UDP(sport=50000, dport=6081, chksum=0) / GENEVE(vni=77, proto=0x6558, **kw) / inner
fs = [frame("plain"),
      frame("opt", options=[GeneveOptions(classid=0x0102, type=0x11, data=b"\1\2\3\4")]),
      frame("crit", options=[GeneveOptions(classid=0x0102, type=0x91, data=b"\1\2\3\4")]),
      frame("cbit", critical=1, options=[GeneveOptions(classid=0x0102, type=0x11, data=b"\1\2\3\4")])]
time.sleep(1)
sendp(fs, iface="u0", verbose=False)
PY
	ip netns exec "$NODE" $PYS "$XGW_TMP/gsend.py" "$GWMAC" || fail "scapy send"
	wait $rx
	got=$(cat "$XGW_TMP/grx.out")
	crit1=$(ctl stats --json | jget 'd["drops"].get("geneve_critical_option", 0)')
	[ "$got" = "opt plain" ] || fail "client got '$got' from the scapy Geneve frames, expected 'opt plain'"
	[ "$crit1" -eq $((crit0 + 2)) ] || fail "geneve_critical_option $crit0 -> $crit1, expected +2"
	ok "scapy Geneve frames decapsulated (no option, non-critical option: delivered '$got'); critical option and C bit dropped (geneve_critical_option +2)"
fi

# xgw to xgw over Geneve: the gateway encapsulates for 198.18.5.20:8080
# towards a second xgw (gw2, local_ip 198.18.6.1, reached through the node
# as a router), which decapsulates and routes the inner packet back to the
# node's server; replies return natively to the gateway (reverse NAT).
GW2=$(mkns gw2)
veth "$NODE" n2 "$GW2" b-u
no_tx_csum "$NODE" n2
ip -n "$NODE" addr add 198.18.6.2/24 dev n2
ip -n "$NODE" addr add 198.18.5.20/32 dev lo
for k in all default u0 n2; do ip netns exec "$NODE" sysctl -qw net.ipv4.conf.$k.rp_filter=0; done
ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1
ip -n "$GW2" addr add 198.18.6.1/24 dev b-u
ip -n "$GW2" route add default via 198.18.6.2
ip netns exec "$GW2" sysctl -qw net.ipv4.ip_forward=0
ip -n "$GW" route add 198.18.6.0/24 via 198.18.3.2
ip netns exec "$NODE" python3 "$XGW_TMP/be.py" 198.18.5.20 xgw2-be &
XGW_PIDS+=($!)
SOCK2="$XGW_TMP/xgw2.sock"
cat >"$XGW_TMP/xgw2.json" <<JSON
{ "ports": [ { "name": "underlay", "iface": "b-u", "queues": [ { "queue": 0, "core": $CORE } ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "tunnel": { "local_ip": "198.18.6.1" },
  "services": [ { "vip": "198.18.100.9", "port": 80, "proto": "tcp", "backends": [
    { "ip": "198.18.7.1", "port": 8080,
      "tunnel": { "type": "geneve", "remote": "198.18.3.1", "vni": 88 } } ] } ],
  "ctl": { "socket": "$SOCK2" } }
JSON
ip netns exec "$GW2" "$XGWD" -c "$XGW_TMP/xgw2.json" >"$XGW_TMP/xgwd2.log" 2>&1 &
XGWD2_PID=$!
XGW_PIDS+=($XGWD2_PID)
ctl2() { ip netns exec "$GW2" "$XGWCTL" -s "$SOCK2" "$@"; }
wait_for ctl2 ports || { cat "$XGW_TMP/xgwd2.log"; fail "second xgwd did not start"; }
ip netns exec "$GW2" ping -c 1 -W 2 198.18.6.2 >/dev/null || fail "gw2 cannot reach the node"
ip netns exec "$GW" ping -c 1 -W 2 198.18.6.1 >/dev/null || fail "gw cannot reach gw2"
ctl service add 198.18.100.4:80/tcp --datapath "$DP" || fail "service add"
ctl backend add 198.18.100.4:80/tcp 198.18.5.20:8080 --geneve 198.18.6.1 --vni 88 ||
	fail "geneve backend add"
out=$(ip netns exec "$CLI" python3 "$XGW_TMP/cli.py" 20 198.18.100.4)
echo "# xgw to xgw, 20 connections: $out"
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] &&
	[ "$(echo "$out" | jget "d['seen'].get('xgw2-be', 0)")" = 20 ] ||
	{ ctl stats; ctl2 stats; fail "xgw to xgw over Geneve: $out"; }
e1=$(cnt geneve_encapsulated)
d2=$(ctl2 stats --json | jget 'sum(w["geneve_decapsulated"] for w in d["workers"])')
[ "$d2" -gt 0 ] || fail "gw2 decapsulated nothing"
ok "xgw to xgw over Geneve: 20 connections through a second xgw that decapsulates ($out; geneve encapsulated $e1, decapsulated by gw2 $d2)"

# Health checks through the tunnel: HTTP GET to the VXLAN backend on its
# overlay address, from the gateway's stack through xgwd's TUN device and
# relay (health/tun_path.h); the answers come back encapsulated and are
# passed to the kernel by the steering program.  Then the tunnel breaks
# (the node drops VXLAN): the backend goes down, new connections reach the
# native one only; mended, it comes back.
# (Not python's http.server: it looks its own name up in the DNS.)
cat >"$XGW_TMP/http.py" <<'PY'
import socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        with open(sys.argv[2], "a") as f:
            f.write("%s\n" % self.client_address[0])
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S((sys.argv[1], 8081), H).serve_forever()
PY
for a in 198.18.4.10 198.18.3.11; do
	ip netns exec "$NODE" python3 "$XGW_TMP/http.py" "$a" "$XGW_TMP/checks.$a" &
	XGW_PIDS+=($!)
done
for a in 198.18.4.10 198.18.3.11; do
	wait_for bash -c "ip netns exec $NODE ss -Hltn src $a:8081 | grep -q ." || fail "http server on $a"
done
VSVC=198.18.100.1:80/tcp
hstate() {
	ctl backend list $VSVC --json |
		jget "[(b['health']['state'], b['health'].get('checks', 0), b['health'].get('last', {}).get('result', '')) for b in d if '%s:%s' % (b['ip'], b['port']) == '$1'][0]"
}
wait_health() { # BACKEND STATE MS
	local i=0
	until hstate "$1" | grep -q "'$2'"; do
		[ $i -ge $(($3 / 50)) ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
}
ctl service check $VSVC --check http:/ok --check-port 8081 --check-interval 200 \
	--check-timeout 150 --fall 2 --rise 2 >/dev/null || fail "service check through the tunnel refused"
sleep 1.5
st=$(hstate 198.18.4.10:8080)
echo "$st" | grep -q "('up', [0-9]*, 'ok')" || { ctl backend list $VSVC; tail -5 "$XGW_TMP/xgwd.log"; fail "tunnel backend's HTTP check: $st"; }
[ "$(echo "$st" | tr -d "()'," | awk '{print $2}')" -ge 4 ] || fail "too few checks: $st"
hct() { ctl stats --json | jget "d['health_tunnel']$1"; }
dev=$(hct "['device']")
sent=$(hct "['sent']")
recv=$(hct "['received']")
[ "$sent" -gt 0 ] && [ "$recv" -gt 0 ] || fail "relay counters: $(hct)"
[ "$(hct "['drops']['bad_header']")" = 0 ] || fail "relay drops: $(hct)"
ip -n "$GW" link show "$dev" >/dev/null || fail "no device $dev"
[ -z "$(ip -n "$GW" route show table all dev "$dev" | grep -v -e '^local' -e '^multicast' -e '^fe80')" ] ||
	fail "routes added through $dev: $(ip -n "$GW" route show table all dev "$dev")"
src=$(sort -u "$XGW_TMP/checks.198.18.4.10" | tr '\n' ' ')
[ "$src" = "198.18.3.1 " ] || fail "the tunnel backend's checks came from: $src"
ok "HTTP checks of the VXLAN backend through the tunnel, from $src: $st (relay by $dev: sent $sent, received $recv, no route added)"

# The device deleted from outside: closed, opened again a second later
# (XGW_HCT_RETRY_MS), the checks resume (the backend may flip down and up
# meanwhile: fall 2 x 200 ms is shorter than the retry).
c0=$(hstate 198.18.4.10:8080 | tr -d "()'," | awk '{print $2}')
ip -n "$GW" link del "$dev" || fail "link del $dev"
wait_for ip -n "$GW" link show "$dev" || fail "$dev not opened again"
sleep 1
wait_health 198.18.4.10:8080 up 5000 || fail "after $dev was deleted: $(hstate 198.18.4.10:8080)"
st=$(hstate 198.18.4.10:8080)
[ "$(echo "$st" | tr -d "()'," | awk '{print $2}')" -gt "$c0" ] || fail "no checks since: $st"
echo "$st" | grep -q "'ok')" || fail "after $dev was deleted: $st"
ok "$dev deleted: opened again, checks go on ($st)"

# Reverse-path filtering: strict (1) drops the answers arriving on the
# device, which says so; loose (2) accepts them (the device has an address
# of its own) when the backend's address is routed at all.
ip netns exec "$GW" sysctl -qw net.ipv4.conf.all.rp_filter=1
ip -n "$GW" link del "$dev"
wait_for ip -n "$GW" link show "$dev" || fail "$dev not opened again"
wait_health 198.18.4.10:8080 down 5000 || fail "rp_filter 1: $(hstate 198.18.4.10:8080)"
w=$(hct "['warning']")
echo "$w" | grep -q "rp_filter is 1" || fail "no warning about rp_filter 1: $(hct)"
ip netns exec "$GW" sysctl -qw net.ipv4.conf.all.rp_filter=2
ip -n "$GW" route add 198.18.4.0/24 via 198.18.3.2 dev gw-s
ip -n "$GW" link del "$dev"
wait_for ip -n "$GW" link show "$dev" || fail "$dev not opened again"
wait_health 198.18.4.10:8080 up 5000 || fail "rp_filter 2: $(hstate 198.18.4.10:8080)"
[ "$(hct "['warning']" 2>/dev/null)" = "" ] || fail "warning left: $(hct)"
ok "rp_filter 1: the backend down and stats say why ($w); rp_filter 2: up again"

ip netns exec "$NODE" nft -f - <<'NFT' || fail "nft"
table inet xgwtest {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 4789 drop
	}
}
NFT
t0=$(date +%s.%3N)
wait_health 198.18.4.10:8080 down 5000 || fail "broken tunnel: backend not marked down: $(hstate 198.18.4.10:8080)"
# from xgwd's log line (its time stamp), not from the polling above
lag=$(awk -v t0="$t0" 'index($0, "198.18.4.10:8080 of 198.18.100.1:80/tcp is down") && $1 >= t0 { printf "%d\n", ($1 - t0) * 1000; exit }' "$XGW_TMP/xgwd.log")
out=$(ip netns exec "$CLI" python3 "$XGW_TMP/cli.py" 30 198.18.100.1)
[ "$(echo "$out" | jget 'd["fails"]')" = 0 ] || fail "connections failed with the tunnel backend down: $out"
[ "$(echo "$out" | jget 'list(d["seen"])')" = "['native-be']" ] || fail "a new connection reached the down backend: $out"
[ "$(hstate 198.18.3.11:8080 | tr -d "()'," | awk '{print $1}')" = up ] || fail "native backend not up"
ip netns exec "$NODE" nft delete table inet xgwtest || fail "nft delete"
wait_health 198.18.4.10:8080 up 5000 || fail "mended tunnel: backend not back up: $(hstate 198.18.4.10:8080)"
out2=$(ip netns exec "$CLI" python3 "$XGW_TMP/cli.py" 60 198.18.100.1)
[ "$(echo "$out2" | jget 'd["fails"]')" = 0 ] || fail "connections failed after the backend came back: $out2"
[ "$(echo "$out2" | jget 'len(d["seen"])')" = 2 ] || fail "the backend back up gets no new connection: $out2"
ok "tunnel broken: the VXLAN backend down in $lag ms, 30 new connections all native ($out); mended: up again, both used ($out2)"

ctl service check $VSVC --check none >/dev/null || fail "check removal"
sleep 0.2
ip -n "$GW" link show "$dev" >/dev/null 2>&1 && fail "$dev left once no check goes through a tunnel"
ok "no check through a tunnel left: $dev removed"

kill -TERM "$XGWD2_PID"
wait "$XGWD2_PID" || { tail -30 "$XGW_TMP/xgwd2.log"; fail "second xgwd did not exit 0 on SIGTERM"; }
kill -TERM "$XGWD_PID"
wait "$XGWD_PID" || { tail -30 "$XGW_TMP/xgwd.log"; fail "xgwd did not exit 0 on SIGTERM"; }
if sanitizer_report "$XGW_TMP/xgwd.log" 100; then
	fail "sanitizer report in xgwd's log"
fi
ok "xgwd stopped cleanly"
