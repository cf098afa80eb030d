#!/bin/bash
# The README's demo, run as a test: it must succeed (30 of 30 HTTP requests
# through the VIP) and leave nothing behind: no process started from its
# temporary folder (xgwd, the backends' HTTP servers), no namespace.
#
#   demo.sh SRCDIR
set -uo pipefail
SRC=$1
. "$(dirname "$0")/lib.sh"
require_root

echo "1..3"
before=$(ip netns list | awk '$1 ~ /^xgwdemo-/' | wc -l)
bash "$SRC/scripts/demo.sh" >"$XGW_TMP/demo.log" 2>&1 || {
	tail -40 "$XGW_TMP/demo.log"
	fail "demo failed"
}
grep -q '^30/30 requests answered' "$XGW_TMP/demo.log" || fail "demo: not 30/30 answered"
ok "demo: 30/30 requests answered through the VIP"
# Processes the demo started all carry its temporary folder in their
# command line (xgwd -c /tmp/xgw-demo.*/xgw.json, http.server --directory).
left=""
for i in $(seq 20); do
	left=$(pgrep -af '/tmp/xgw-demo\.' || true)
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "demo left processes running: $left"
ok "demo: no process left running"
after=$(ip netns list | awk '$1 ~ /^xgwdemo-/' | wc -l)
[ "$after" -le "$before" ] || fail "demo left namespaces: $(ip netns list | grep xgwdemo-)"
ok "demo: no namespace left"
