#!/bin/bash
# A routing table of real size learnt from the kernel: 100,000 IPv4 and
# 5,000 IPv6 routes loaded with `ip -batch` into the gateway's namespace
# after xgwd started (so they arrive as RTM_NEWROUTE events, applied one by
# one), plus multipath routes.  xgwd's own table (`route.get`, looked up in
# the workers' LPM) is compared with `ip route get` for random addresses;
# then a tenth of the routes are deleted and others replaced, and the
# comparison is made again.  No traffic: the routes point at the two
# gateway links, the addresses looked up are only looked up.
#
#   [cli] c0 198.18.1.2/24 ---- gw-c 198.18.1.1/24 [gw] gw-s 198.18.2.1/24 ---- b0 198.18.2.11/24 [be]
set -u
XGWD=${1:?usage: fib.sh XGWD XGWCTL}
XGWCTL=${2:?usage: fib.sh XGWD XGWCTL}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 missing"
N4=${XGW_FIB_ROUTES:-100000}
N6=$((N4 / 20))

CLI=$(mkns cli); GW=$(mkns gw); BE=$(mkns be)
cli_gw "$CLI" "$GW"
gw_be "$GW" "$BE"
ip -n "$GW" addr add 2001:db8:1::1/64 dev gw-c nodad
ip -n "$GW" addr add 2001:db8:2::1/64 dev gw-s nodad
start_xgwd "$GW" "$XGWD" 4096

# The routes: prefixes of /8../32 (most /24, as in an Internet table) over
# the whole IPv4 space outside 198.18.0.0/15 (the links), IPv6 /32../64
# inside 2001:db8::/32, each via one of the two neighbours or straight out
# of a link; a seeded generator so that a failure repeats.
python3 - "$N4" "$N6" "$XGW_TMP" <<'PY' || fail "cannot generate routes"
import ipaddress, random, sys
n4, n6, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rnd = random.Random(12)
links = ["198.18.0.0/15"]
def nh4():
    return rnd.choice(["via 198.18.1.2 dev gw-c", "via 198.18.2.11 dev gw-s", "dev gw-c", "dev gw-s"])
seen, add, dele, repl = set(), [], [], []
while len(seen) < n4:
    ln = rnd.choice([24] * 6 + [8, 12, 16, 18, 20, 22, 23, 25, 28, 32])
    a = ipaddress.ip_network((rnd.getrandbits(32) >> (32 - ln) << (32 - ln), ln))
    if a in seen or any(a.overlaps(ipaddress.ip_network(l)) for l in links) or a.is_multicast \
       or a.network_address.packed[0] in (0, 127) or a.network_address.packed[0] >= 224:
        continue
    seen.add(a)
    add.append(f"route add {a} {nh4()}")
seen6 = set()
while len(seen6) < n6:
    ln = rnd.choice([32, 36, 40, 44, 48, 48, 48, 56, 64])
    x = (0x20010db8 << 96) | (rnd.getrandbits(96) >> (128 - ln) << (128 - ln))
    a = ipaddress.ip_network((x, ln))
    if a in seen6 or a.overlaps(ipaddress.ip_network("2001:db8:1::/48")) or \
       a.overlaps(ipaddress.ip_network("2001:db8:2::/48")):
        continue
    seen6.add(a)
    add.append(f"route add {a} " + rnd.choice(["via 2001:db8:1::2 dev gw-c", "via 2001:db8:2::11 dev gw-s", "dev gw-s"]))
open(f"{tmp}/add.batch", "w").write("\n".join(add) + "\n")
# Churn: delete every tenth route, move every seventh to the other link.
for i, line in enumerate(add):
    cmd = line.replace("route add", "route del").split(" via ")[0].split(" dev ")[0]
    if i % 10 == 0:
        dele.append(cmd)
    elif i % 7 == 0 and ":" not in line:
        repl.append(line.replace("route add", "route replace").replace("gw-c", "gw-X").replace("gw-s", "gw-c").replace("gw-X", "gw-s").replace("198.18.1.2 ", "198.18.9.9 ").replace("198.18.2.11 ", "198.18.1.2 ").replace("198.18.9.9 ", "198.18.2.11 "))
open(f"{tmp}/churn.batch", "w").write("\n".join(dele + repl) + "\n")
# Addresses to compare: random ones, and ones inside routed prefixes.
qs = []
nets = sorted(seen, key=str)
for i in range(3000):
    if i % 3 == 0:
        q = ipaddress.ip_address(rnd.getrandbits(32))
    else:
        n = rnd.choice(nets)
        q = n.network_address + rnd.randrange(n.num_addresses)
    if q.is_multicast or q.packed[0] in (0, 127) or q.packed[0] >= 224 or q in ipaddress.ip_network("198.18.0.0/15"):
        continue
    qs.append(str(q))
n6l = sorted(seen6, key=str)
for i in range(600):
    n = rnd.choice(n6l)
    qs.append(str(n.network_address + rnd.randrange(min(n.num_addresses, 1 << 60))))
open(f"{tmp}/queries", "w").write("\n".join(qs) + "\n")
PY

# Compare xgwd (route.get over the control socket) with `ip route get`
# for every query address; prints "agree N" or the first differences.
compare() {
	sed 's/^/route get /' "$XGW_TMP/queries" >"$XGW_TMP/get.batch"
	ip -n "$GW" -force -batch "$XGW_TMP/get.batch" >"$XGW_TMP/kernel.out" 2>"$XGW_TMP/kernel.err"
	ip netns exec "$GW" python3 - "$SOCK" "$XGW_TMP/queries" "$XGW_TMP/kernel.out" \
		"$XGW_TMP/kernel.err" <<'PY'
import json, re, socket, sys
sock, qf, kout, kerr = sys.argv[1:5]
qs = open(qf).read().split()
# ip -batch prints one answer per resolvable address (plus a "cache" line)
# and an error line for each unreachable one: match answers by address.
kernel = {}
for line in open(kout):
    m = re.match(r"^(\S+) (?:from \S+ )?(?:via (\S+) )?dev (\S+)", line)
    if m:
        kernel[m.group(1)] = (m.group(2), m.group(3))
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rw")
bad, agree = [], 0
for q in qs:
    f.write(json.dumps({"cmd": "route.get", "args": {"addr": q}}) + "\n")
    f.flush()
    r = json.loads(f.readline())
    assert r["ok"], r
    x = r["result"]
    k = kernel.get(q)
    if x is None and k is None:
        agree += 1
        continue
    if x is None or k is None:
        bad.append((q, k, x))
        continue
    paths = x.get("nexthops") or [x]
    if any(p.get("via") == k[0] and p["dev"] == k[1] for p in paths):
        agree += 1
    else:
        bad.append((q, k, x))
print("agree", agree, "of", len(qs), "answered by the kernel:", len(kernel))
for b in bad[:10]:
    print("DIFFER", b)
sys.exit(1 if bad or len(kernel) < len(qs) // 3 else 0)
PY
}

# wait_learnt ADDR VIA: until xgwd's route for ADDR goes via VIA (30 s).
wait_learnt() {
	local i
	for i in $(seq 1 300); do
		ctl route get "$1" --json 2>/dev/null | grep -q "\"via\": *\"$2\"" && return 0
		sleep 0.1
	done
	return 1
}

T0=$(date +%s%N)
ip -n "$GW" -batch "$XGW_TMP/add.batch" || fail "ip -batch could not load the routes"
T1=$(date +%s%N)
LAST=$(grep -v ':' "$XGW_TMP/add.batch" | tail -1)
LAST_PFX=$(echo "$LAST" | awk '{print $3}')
# A sentinel added after the batch: once xgwd has it, it has read all before.
ip -n "$GW" route add 203.0.113.77/32 via 198.18.2.11 dev gw-s
wait_learnt 203.0.113.77 198.18.2.11 || fail "xgwd did not learn the sentinel route within 30 s"
T2=$(date +%s%N)
echo "# ip -batch: $(((T1 - T0) / 1000000)) ms for $N4 + $N6 routes; xgwd in step $(((T2 - T1) / 1000000)) ms after"
ok "xgwd learnt $N4 IPv4 + $N6 IPv6 routes from netlink events (last: $LAST_PFX)"
n=$(ctl route list --limit 0 --json | jget "len(d)")
[ "$n" -ge $((N4 + N6)) ] || fail "route list has $n routes, expected at least $((N4 + N6))"
ok "route list: $n routes"
grep -q "routes: .* read from the kernel" "$XGW_TMP/xgwd.log" ||
	fail "no initial dump in the log"
grep -q "netlink events lost" "$XGW_TMP/xgwd.log" &&
	echo "# note: the event socket overflowed once; xgwd re-read the table"

out=$(compare) || { echo "$out"; fail "xgwd's FIB differs from the kernel's"; }
echo "# $out"
ok "route get agrees with ip route get ($out)"

# Multipath, weighted 1:3: both paths listed with their weights.
ip -n "$GW" route add 203.0.113.0/24 nexthop via 198.18.1.2 dev gw-c weight 1 \
	nexthop via 198.18.2.11 dev gw-s weight 3 || fail "cannot add a multipath route"
wait_for sh -c "ip netns exec $GW $XGWCTL -s $SOCK route get 203.0.113.5 --json | grep -q nexthops" ||
	fail "multipath route not learnt"
mp=$(ctl route get 203.0.113.5 --json | jget "sorted((h['via'], h['weight']) for h in d['nexthops'])")
[ "$mp" = "[('198.18.1.2', 1), ('198.18.2.11', 3)]" ] || fail "multipath paths: $mp"
ctl route list --limit 0 | grep -A2 "^203.0.113.0/24" | grep -q 198.18.2.11 ||
	fail "route list does not show the multipath route's paths"
ok "multipath route followed with its weights: $mp"
ip -n "$GW" route replace 203.0.113.0/24 via 198.18.2.11 dev gw-s
wait_learnt 203.0.113.5 198.18.2.11 || fail "multipath route replaced by one path: not followed"
ok "multipath route replaced by a single path"

# Churn: deletes and replacements, then the same comparison.
ip -n "$GW" -batch "$XGW_TMP/churn.batch" || fail "churn batch failed"
ip -n "$GW" route del 203.0.113.77/32
ip -n "$GW" route add 203.0.113.78/32 via 198.18.1.2 dev gw-c
wait_learnt 203.0.113.78 198.18.1.2 || fail "xgwd did not follow the churn"
out=$(compare) || { echo "$out"; fail "xgwd's FIB differs from the kernel's after churn"; }
ok "after $(wc -l <"$XGW_TMP/churn.batch") deletes/replacements: $out"
[ "$(ctl route get 203.0.113.77 --json)" = null ] || [ -n "$(ctl route get 203.0.113.77 --json | grep 203.0.113.0)" ] ||
	fail "deleted route 203.0.113.77/32 still answered"
ok "deleted routes are gone"
kill -0 "$XGWD_PID" || fail "xgwd died"
ok "xgwd still running"
