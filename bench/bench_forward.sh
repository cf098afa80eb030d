#!/bin/bash
# Foundation benchmark: 64-byte UDP from a generator namespace into the
# gateway's veth, sent back out of the same veth by the device under test,
# xgw (one-arm routing: TTL, checksum, route and neighbour lookup, MAC
# rewrite) and dpdk-testpmd --forward-mode=macswap on the net_af_xdp driver,
# on the same veth, queue and cores, alternated A/B in one run.
#
#   [gen] g0 198.18.1.2 ==== d0 198.18.1.1 [dut: xgwd | dpdk-testpmd]
#   xgw-pktgen (live frames, core 0) -> d0 -> worker/lcore on core 1 -> d0 -> g0
#
# Delivered rate = g0's rx_packets delta / generator seconds: the same
# counter for both candidates.  Usage: bench_forward.sh BUILD_DIR [RUNS] [SECONDS]
set -euo pipefail
B=$(cd "${1:?usage: bench_forward.sh BUILD_DIR [RUNS] [SECONDS]}" && pwd)
RUNS=${2:-3}
SECS=${3:-5}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
command -v dpdk-testpmd >/dev/null || echo "dpdk-testpmd missing: testpmd runs skipped" >&2
P="xbf$(printf '%04x' $((RANDOM % 65536)))"
GEN=$P-gen DUT=$P-dut
TMP=$(mktemp -d /tmp/xgw-bench.XXXXXX)
GEN_CORE=0
DUT_CORE=$(($(nproc) - 1))
cleanup() {
	pkill -f "xgwd -c $TMP" 2>/dev/null || true
	pkill -f "iface=d0.*$P" 2>/dev/null || true
	sleep 0.2
	ip netns del $GEN 2>/dev/null || true
	ip netns del $DUT 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add $GEN; ip netns add $DUT
ip link add g0 netns $GEN type veth peer name d0 netns $DUT
ip -n $GEN link set g0 up; ip -n $DUT link set d0 up
ip -n $GEN addr add 198.18.1.2/24 dev g0
ip -n $DUT addr add 198.18.1.1/24 dev d0
GMAC=$(ip netns exec $GEN cat /sys/class/net/g0/address)
DMAC=$(ip netns exec $DUT cat /sys/class/net/d0/address)

cat >"$TMP/xgw.json" <<JSON
{ "ports": [ { "name": "p", "iface": "d0", "queues": [ { "queue": 0, "core": $DUT_CORE } ] } ],
  "umem": { "frames": 8192, "frame_size": 2048 },
  "steer": [ { "dst": "198.18.1.100", "proto": "udp", "dport": 9 } ],
  "neighbours": [ { "ip": "198.18.1.100", "mac": "$GMAC", "port": "p" } ],
  "ctl": { "socket": "$TMP/xgw.sock" } }
JSON

rx() { ip netns exec $GEN cat /sys/class/net/g0/statistics/rx_packets; }
# gen: runs the generator, prints "offered_pps delivered_pps"
gen() {
	local r0 r1 out secs sent
	r0=$(rx)
	out=$(ip netns exec $GEN "$B/bench/xgw-pktgen" -i g0 --core $GEN_CORE --dst-mac "$DMAC" \
		--src 198.18.1.2 --dst 198.18.1.100 --dport 9 --size 64 --duration "$SECS" --json --quiet)
	sleep 0.3 # let the DUT drain
	r1=$(rx)
	secs=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
	sent=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pps"])')
	python3 -c "print(f'{$sent:.0f} {($r1 - $r0) / $secs:.0f}')"
}

run_xgw() {
	ip netns exec $DUT "$B/xgwd/xgwd" -c "$TMP/xgw.json" 2>>"$TMP/xgwd.log" &
	local pid=$!
	for i in $(seq 50); do [ -S "$TMP/xgw.sock" ] && break; sleep 0.1; done
	sleep 0.5
	gen
	kill -INT $pid; wait $pid || true
	rm -f "$TMP/xgw.sock"
	sleep 1.2 # the queue may report EBUSY for about a second after close
}

run_testpmd() {
	ip netns exec $DUT sh -c "mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf;
		exec dpdk-testpmd -l $GEN_CORE,$DUT_CORE --no-huge -m 1024 --no-pci \
		--file-prefix $P --vdev net_af_xdp0,iface=d0,start_queue=0,queue_count=1 -- \
		--forward-mode=macswap --total-num-mbufs=16384 --auto-start --stats-period 5" \
		>>"$TMP/testpmd.log" 2>&1 &
	local pid=$!
	for i in $(seq 100); do grep -q "Start automatic packet forwarding\|Rx-pps" "$TMP/testpmd.log" && break; sleep 0.1; done
	sleep 0.5
	gen
	kill -INT $pid; wait $pid || true
	sleep 1.2
}

echo "# xgw vs dpdk-testpmd macswap, 64 B UDP, veth (copy mode), gen core $GEN_CORE, DUT core $DUT_CORE"
echo "# $(date -u +%FT%TZ) $(uname -r) $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo nogit)"
printf "%-4s %-8s %12s %12s\n" run dut offered_pps delivered_pps
xs=(); ts=(); rs=()
for i in $(seq "$RUNS"); do
	read -r o x <<<"$(run_xgw)"
	printf "%-4s %-8s %12s %12s\n" "$i" xgw "$o" "$x"
	xs+=("$x")
	if command -v dpdk-testpmd >/dev/null; then
		read -r o t <<<"$(run_testpmd)"
		printf "%-4s %-8s %12s %12s\n" "$i" testpmd "$o" "$t"
		ts+=("$t")
		rs+=("$(python3 -c "print($x / max($t, 1))")")
	fi
done
python3 - "${xs[*]}" "${ts[*]:-}" "${rs[*]:-}" <<'PY'
import statistics, sys
xs = [float(v) for v in sys.argv[1].split()]
print(f"median xgw     {statistics.median(xs)/1e6:.3f} Mpps")
if sys.argv[2].strip():
    ts = [float(v) for v in sys.argv[2].split()]
    rs = [float(v) for v in sys.argv[3].split()]
    print(f"median testpmd {statistics.median(ts)/1e6:.3f} Mpps")
    print(f"median ratio xgw/testpmd (per A/B pair) {statistics.median(rs):.2f}  pairs: " +
          " ".join(f"{r:.2f}" for r in rs))
PY
