#!/bin/bash
# xgw-bench --smoke: every available scenario once, briefly, on the bench's
# own topology (generator -> device under test -> sink namespaces); checks
# the CSV has a row with a non-zero rate per available scenario, that the
# unavailable ones are listed as such, that the report and plots exist and
# that the run left no namespace behind.  Usage: bench_smoke.sh XGW_BENCH
set -u
BENCH=${1:?usage: bench_smoke.sh XGW_BENCH}
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
exec > >(tap_number)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, XDP, AF_XDP)"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns not usable here"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
TMP=$(mktemp -d /tmp/xgw-bench-smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

start=$(date +%s)
timeout 240 "$BENCH" --smoke --out "$TMP/out" >"$TMP/stdout" 2>"$TMP/stderr"
rc=$?
cat "$TMP/stderr"
[ $rc = 0 ] || { echo "FAIL: xgw-bench --smoke exited $rc"; cat "$TMP/stdout"; exit 1; }
echo "ok - xgw-bench --smoke finished in $(($(date +%s) - start)) s"

prefix=$(sed -n 's/.*prefix \(xb[0-9a-f]*\);.*/\1/p' "$TMP/stderr" | head -1)
[ -n "$prefix" ] || { echo "FAIL: no run prefix in the output"; exit 1; }
if ip netns list | grep -q "^$prefix-"; then
	echo "FAIL: namespaces of run $prefix left behind:"; ip netns list | grep "^$prefix-"; exit 1
fi
echo "ok - no namespace of run $prefix left behind"

python3 - "$TMP/out" <<'PY' || exit 1
import csv, os, shutil, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "results.csv"))))
by = {r["scenario"]: r for r in rows}
want = ["sink-ceiling", "xdp-ceiling", "kernel", "user", "nftables"] + (["testpmd"] if shutil.which("dpdk-testpmd") else [])
bad = []
for s in want:
    r = by.get(s)
    if not r:
        bad.append(f"no row for {s}")
    elif r["status"] != "ok" or not r["mpps"] or float(r["mpps"]) <= 0:
        bad.append(f"{s}: status {r['status']!r}, mpps {r['mpps']!r}")
    elif not r["lat_p50_us"] or float(r["lat_p50_us"]) <= 0:
        bad.append(f"{s}: no latency at 50% ({r['lat_p50_us']!r})")
    else:
        print(f"ok - {s}: {float(r['mpps']):.3f} Mpps, p50 {float(r['lat_p50_us']):.0f} us at 50%")
md = open(os.path.join(out, "results.md")).read()
for needle in ("user/testpmd", "user/nftables", "user/kernel", "kernel/xdp-ceiling", "kernel "):
    if needle not in md:
        bad.append(f"results.md lacks {needle!r}")
if shutil.which("gnuplot") and not os.path.exists(os.path.join(out, "throughput.png")):
    bad.append("no throughput.png")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# Real clients: iperf3 both ways and wrk against nginx through every
# available path, once, briefly.
timeout 240 "$BENCH" --apps --smoke --out "$TMP/apps" >"$TMP/apps.stdout" 2>"$TMP/apps.stderr"
rc=$?
cat "$TMP/apps.stderr"
[ $rc = 0 ] || { echo "FAIL: xgw-bench --apps --smoke exited $rc"; cat "$TMP/apps.stdout"; exit 1; }
python3 - "$TMP/apps" <<'PY' || exit 1
import csv, os, sys
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], "apps.csv"))))
md = open(os.path.join(sys.argv[1], "results.md")).read()
paths = ["user", "nftables", "nftables-offload"] + (["kernel"] if "| kernel | not available" not in md else [])
bad = []
for p in paths:
    for t in ("iperf3-up", "iperf3-down", "wrk-keepalive", "wrk-close"):
        r = [x for x in rows if (x["path"], x["test"]) == (p, t)]
        if not r or r[0]["status"] != "ok" or not float(r[0]["value"] or 0) > 0:
            bad.append(f"{p} {t}: {r[0]['status'] if r else 'no row'}")
        else:
            print(f"ok - apps {p} {t}: {float(r[0]['value']):.2f}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
echo "PASS"
