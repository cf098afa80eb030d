# Shared helpers for the namespace tests: per-run names, cleanup, skips.
# Every namespace and interface a test makes carries $XGW_PREFIX, and the
# EXIT trap removes them all, whatever happened.

XGW_PREFIX="x$(printf '%04x' $((RANDOM % 65536)))"
XGW_PIDS=()
XGW_TMP=$(mktemp -d /tmp/xgw-test.XXXXXX)

# TAP: checks are numbered as they pass and the plan (1..N) is printed at
# exit, after them (a trailing plan); a skip before any check is 1..0.
XGW_TAP_N=0
XGW_TAP_PLAN=1
skip() {
	if [ "$XGW_TAP_N" = 0 ]; then
		echo "1..0 # SKIP $*"
		XGW_TAP_PLAN=0
	else
		echo "# SKIP: $*"
	fi
	exit 77
}
fail() {
	XGW_TAP_N=$((XGW_TAP_N + 1))
	echo "not ok $XGW_TAP_N - $* (${BASH_SOURCE[1]}:${BASH_LINENO[0]})"
	exit 1
}
ok() {
	XGW_TAP_N=$((XGW_TAP_N + 1))
	echo "ok $XGW_TAP_N - $*"
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, XDP, AF_XDP)"
	ip netns list >/dev/null 2>&1 || skip "ip netns not usable here"
}

xgw_cleanup() {
	local pid ns
	[ "$XGW_TAP_PLAN" = 1 ] && echo "1..$XGW_TAP_N"
	for pid in "${XGW_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	for pid in "${XGW_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	# By prefix: mkns runs in $(...) subshells, so no list survives.  A
	# held PID may be a subshell around `ip netns exec`: whatever still
	# runs inside our namespaces is ended there, so nothing outlives them.
	for ns in $(ip netns list | awk -v p="$XGW_PREFIX-" 'index($1, p) == 1 {print $1}'); do
		pid=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pid" ] && kill -9 $pid 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$XGW_TMP"
}
trap xgw_cleanup EXIT
trap 'exit 130' INT TERM

mkns() {
	local ns="$XGW_PREFIX-$1"
	ip netns add "$ns" || fail "cannot create namespace $ns"
	ip -n "$ns" link set lo up
	# bpffs per namespace exec is mounted by xgwd itself.
	echo "$ns"
}

# veth NS_A IF_A NS_B IF_B [QUEUES]: a veth pair between two namespaces,
# with QUEUES RX and TX queues on each end (default 1).
veth() {
	local q=${5:-1}
	ip link add "$2" netns "$1" numtxqueues "$q" numrxqueues "$q" type veth peer name "$4" \
		netns "$3" numtxqueues "$q" numrxqueues "$q" || fail "cannot create veth $2/$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# no_tx_csum NS IF: make the sender compute checksums itself.  veth offers
# TX checksum offload, so the kernel leaves a partial checksum for "the NIC"
# to finish; a frame diverted by XDP into AF_XDP never meets that NIC and
# arrives with a wrong checksum.  Real NICs deliver complete checksums.
no_tx_csum() {
	ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1 ||
		fail "cannot turn off TX checksum offload on $2 (ethtool missing?)"
}

# lan_backend NS SW I: backend namespace NS on the switch SW's bridge br0
# (port sw-bI), address 198.18.2.1I/24, default route via the gateway's
# 198.18.2.1, with complete checksums (no_tx_csum).
lan_backend() {
	veth "$1" b0 "$2" sw-b$3
	ip -n "$2" link set sw-b$3 master br0
	no_tx_csum "$1" b0
	ip -n "$1" addr add 198.18.2.1$3/24 dev b0
	ip -n "$1" route add default via 198.18.2.1
}

# wait_for CMD...: retry up to 10 s.
wait_for() {
	local i
	for i in $(seq 1 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The core the workers pin to: the last one, so that tests on two cores leave
# core 0 to the traffic generators.
xgw_core() { echo $(($(nproc) - 1)); }

# cli_gw CLI GW [QUEUES]: the client side every topology shares: c0 198.18.1.2/24 in
# CLI (TX checksums computed, default route via the gateway) to gw-c
# 198.18.1.1/24 in GW.
cli_gw() {
	veth "$1" c0 "$2" gw-c "${3:-1}"
	no_tx_csum "$1" c0
	ip -n "$1" addr add 198.18.1.2/24 dev c0
	ip -n "$1" route add default via 198.18.1.1
	ip -n "$2" addr add 198.18.1.1/24 dev gw-c
}

# jget EXPR: EXPR over the JSON document on stdin (as d), printed.
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# sanitizer_report LOG LINES: true, after printing up to LINES lines of
# them, if LOG holds a sanitizer report.
sanitizer_report() {
	grep -qE 'Sanitizer|runtime error:' "$1" || return 1
	grep -E -A30 'Sanitizer|runtime error:' "$1" | head -"$2"
}

# echo_servers NS: in NS, on 198.18.2.11, a TCP server echoing lines on
# :8080 and a UDP server echoing datagrams on :5353 (ended by the cleanup).
echo_servers() {
	cat >"$XGW_TMP/echo_srv.py" <<'PY'
import socket, socketserver, threading
class T(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
class TS(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024
threading.Thread(target=TS(("198.18.2.11", 8080), T).serve_forever, daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("198.18.2.11", 5353))
while True:
    d, a = u.recvfrom(2048)
    u.sendto(d, a)
PY
	ip netns exec "$1" python3 "$XGW_TMP/echo_srv.py" &
	XGW_PIDS+=($!)
	wait_for ip netns exec "$1" python3 -c \
		"import socket; socket.create_connection(('198.18.2.11', 8080), 1)" ||
		fail "echo servers did not start"
}

# gw_be GW BE [QUEUES]: the one-backend side (hostile.sh, synflood.sh, multiq.sh):
# gw-s 198.18.2.1/24 in GW to b0 198.18.2.11/24 in BE (TX checksums
# computed, default route via the gateway); the gateway's kernel does not
# route, so whatever it forwards, xgw forwarded.
gw_be() {
	veth "$1" gw-s "$2" b0 "${3:-1}"
	no_tx_csum "$2" b0
	ip -n "$1" addr add 198.18.2.1/24 dev gw-s
	ip -n "$2" addr add 198.18.2.11/24 dev b0
	ip -n "$2" route add default via 198.18.2.1
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=0
}

# start_xgwd GW XGWD MAX_ENTRIES [QUEUES]: xgwd in GW over ports "client"
# (gw-c) and "backend" (gw-s), queue q on core q % nproc for q < QUEUES
# (default 1: queue 0 on xgw_core), its control socket at $SOCK; sets
# XGWD_PID and defines ctl.  Fails the test if it does not come up.
# XGW_CFG_EXTRA: more top-level members for the config ("metrics": ...);
# XGW_CTL_EXTRA: more members of "ctl" ("group": ...); XGW_CT_EXTRA: more
# members of "conntrack" ("udp_timeout_s": ...).
start_xgwd() {
	local q n=${4:-1} queues="" core
	for ((q = 0; q < n; q++)); do
		core=$((n == 1 ? $(xgw_core) : q % $(nproc)))
		queues+="${queues:+, }{ \"queue\": $q, \"core\": $core }"
	done
	SOCK="$XGW_TMP/xgw.sock"
	cat >"$XGW_TMP/xgw.json" <<JSON
{ "ports": [
    { "name": "client", "iface": "gw-c", "queues": [ $queues ] },
    { "name": "backend", "iface": "gw-s", "queues": [ $queues ] } ],
  "umem": { "frames": 4096, "frame_size": 2048 },
  "conntrack": { "max_entries": $3${XGW_CT_EXTRA:+, $XGW_CT_EXTRA} },
  "ctl": { "socket": "$SOCK"${XGW_CTL_EXTRA:+, $XGW_CTL_EXTRA} }${XGW_CFG_EXTRA:+, $XGW_CFG_EXTRA} }
JSON
	XGW_GW_NS=$1
	XGW_CTL_BIN=${XGWCTL:?}
	ip netns exec "$1" "$2" -c "$XGW_TMP/xgw.json" >"$XGW_TMP/xgwd.log" 2>&1 &
	XGWD_PID=$!
	XGW_PIDS+=($XGWD_PID)
	wait_for ctl ports || { cat "$XGW_TMP/xgwd.log"; fail "xgwd did not start"; }
}
ctl() { ip netns exec "$XGW_GW_NS" "$XGW_CTL_BIN" -s "$SOCK" "$@"; }

# xdp_rx_peer NS IF: let IF receive frames that the XDP datapath sends it by
# XDP_TX or redirect from its veth peer.  veth schedules the receiver only
# when it has an XDP program (XDP_TX needs one: GRO alone leaves XDP_TX'd
# frames queued); libxdp's default AF_XDP program passes everything while
# its XSKMAP is empty.  Without that object, GRO is the fallback (enough
# for redirects).
xdp_rx_peer() {
	local obj=/usr/lib/$(gcc -print-multiarch 2>/dev/null)/bpf/xsk_def_xdp_prog.o
	if [ -f "$obj" ] &&
		ip netns exec "$1" ip link set dev "$2" xdpdrv obj "$obj" sec xdp 2>/dev/null; then
		return 0
	fi
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null 2>&1 ||
		fail "cannot attach an XDP program or turn GRO on on $2"
}
