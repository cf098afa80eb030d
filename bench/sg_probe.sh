#!/bin/bash
# AF_XDP multi-buffer (XDP_USE_SG) on veth, issue 17's question: could the
# user datapath forward the kernel's 64 KB aggregates as the offloaded
# kernel path does?  Two namespaces over one veth pair:
#
#   [snd] a0 198.18.0.1 ==== b0 198.18.0.2 [gw: xgw-sg-probe, AF_XDP + XDP_USE_SG]
#
# 1. the offload state of a0 before and while b0 has the probe's
#    multi-buffer aware XDP program;
# 2. UDP GSO from snd (20 sends of 14,000 bytes in 1,400-byte segments,
#    and 20 plain 1,000-byte datagrams): what XDP and the socket see;
# 3. from the socket back to a0, one UDP frame of TXLEN bytes (default
#    9,000, over the 1,500 MTU) in chained descriptors, then a 1,000-byte
#    one: a0's rx_packets and rx_dropped for each.
#
# Usage: sg_probe.sh BUILD_DIR [TXLEN].  Figures: bench/README.md.
set -euo pipefail
B=$(cd "${1:?usage: sg_probe.sh BUILD_DIR [TXLEN]}" && pwd)
TXLEN=${2:-9000}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
P="xsg$(printf '%04x' $((RANDOM % 65536)))"
SND=$P-snd GW=$P-gw
cleanup() {
	ip netns del $SND 2>/dev/null || true
	ip netns del $GW 2>/dev/null || true
}
trap cleanup EXIT
ip netns add $SND
ip netns add $GW
ip link add a0 netns $SND type veth peer name b0 netns $GW
ip -n $SND addr add 198.18.0.1/24 dev a0
ip -n $GW addr add 198.18.0.2/24 dev b0
ip -n $SND link set a0 up
ip -n $GW link set b0 up
AMAC=$(ip netns exec $SND cat /sys/class/net/a0/address)
BMAC=$(ip netns exec $GW cat /sys/class/net/b0/address)
# b0's XDP program takes the UDP frames, ARP among them would not be
# answered for the sender: a static neighbour instead.
ip -n $SND neigh replace 198.18.0.2 lladdr $BMAC dev a0 nud permanent
offloads() { ip netns exec $SND ethtool -k a0 | grep -E "^(tcp-segmentation-offload|generic-segmentation-offload):|tx-udp-segmentation:" | tr -s '\t\n' '  '; echo; }
echo "a0 offloads, no XDP on b0: $(offloads)"
counters() { ip netns exec $SND cat /sys/class/net/a0/statistics/rx_packets /sys/class/net/a0/statistics/rx_dropped | tr '\n' ' '; }
send() {
	ip netns exec $SND python3 - <<'PY'
import socket
g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
g.setsockopt(socket.SOL_UDP, 103, 1400)  # UDP_SEGMENT
for _ in range(20):
    g.sendto(b"x" * 14000, ("198.18.0.2", 9))
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(20):
    p.sendto(b"y" * 1000, ("198.18.0.2", 9))
PY
}
# What a0's stack delivers to UDP port 9999 while the probe runs.
receive() {
	ip netns exec $SND timeout 8 python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.1", 9999))
end = time.monotonic() + 5.5
got = []
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        got.append(len(s.recv(65535)))
    except OSError:
        pass
print("delivered to a0's UDP socket: %d datagram(s) %s" % (len(got), got))
PY
}
for len in "$TXLEN" 1000; do
	receive &
	recv=$!
	ip netns exec $GW "$B/bench/xgw-sg-probe" b0 3 "$len" "$AMAC" "$BMAC" &
	probe=$!
	sleep 1
	[ "$len" = "$TXLEN" ] && echo "a0 offloads, probe on b0:  $(offloads)"
	read -r rx0 dr0 <<<"$(counters)"
	send
	wait $probe
	wait $recv || true
	read -r rx1 dr1 <<<"$(counters)"
	echo "a0 after the $len-byte frame: rx_packets +$((rx1 - rx0)), rx_dropped +$((dr1 - dr0))"
	sleep 1.2 # an AF_XDP queue just closed may be busy for about a second
done
