#!/bin/bash
# The control socket's file mode and group as configured, enforced by the
# kernel on real unprivileged users: one in the configured group connects
# and is served, one outside it is refused (EACCES at connect), for reads
# and writes alike; with "mode": "0600" the member is refused too.  The
# users and the group are made for the test and removed after it.
set -u
XGWD=${1:?usage: ctl_perm.sh XGWD XGWCTL}
XGWCTL=${2:?usage: ctl_perm.sh XGWD XGWCTL}
. "$(dirname "$0")/lib.sh"
require_root
for t in useradd userdel groupadd groupdel runuser; do
	command -v $t >/dev/null || skip "$t missing (passwd, util-linux)"
done

G="xgw${XGW_PREFIX#x}g"; IN="xgw${XGW_PREFIX#x}i"; OUT="xgw${XGW_PREFIX#x}o"
cleanup_users() {
	userdel "$IN" 2>/dev/null
	userdel "$OUT" 2>/dev/null
	groupdel "$G" 2>/dev/null
	xgw_cleanup
}
trap cleanup_users EXIT
groupadd "$G" || fail "groupadd $G"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$IN" || fail "useradd $IN"
useradd -M -N -g nogroup -s /usr/sbin/nologin "$OUT" || fail "useradd $OUT"
id -nG "$IN" | grep -qw "$G" || fail "$IN not in $G"
! id -nG "$OUT" | grep -qw "$G" || fail "$OUT in $G"
# The users must reach the socket's directory: only the file's mode and
# group may decide.
chmod 0711 "$XGW_TMP"

CLI=$(mkns cli); GW=$(mkns gw); BEN=$(mkns be)
cli_gw "$CLI" "$GW"
gw_be "$GW" "$BEN"
XGW_CTL_EXTRA="\"group\": \"$G\", \"mode\": \"0660\""
start_xgwd "$GW" "$XGWD" 4096
[ "$(stat -c '%a %G %U' "$SOCK")" = "660 $G root" ] ||
	fail "socket file: $(stat -c '%a %G %U' "$SOCK")"
ok "socket file mode 0660, group $G, as configured"

as() { local u=$1; shift; ip netns exec "$GW" runuser -u "$u" -- "$XGWCTL" -s "$SOCK" "$@"; }
as "$IN" service list >/dev/null || fail "member $IN refused: $(as "$IN" service list 2>&1)"
as "$IN" service add 198.18.100.1:80/tcp >/dev/null || fail "member $IN cannot write"
[ "$(ctl service list --json | jget 'len(d)')" = 1 ] || fail "member's write not applied"
ok "member of $G: read and write served"

out=$(as "$OUT" service list 2>&1) && fail "non-member $OUT served: $out"
echo "$out" | grep -q "Permission denied" || fail "non-member $OUT: not refused by the kernel: $out"
out=$(as "$OUT" service add 198.18.100.2:80/tcp 2>&1) && fail "non-member $OUT could write"
[ "$(ctl service list --json | jget 'len(d)')" = 1 ] || fail "non-member's write applied"
# The kernel's answer, not xgwctl's: connect(2) itself fails with EACCES.
ip netns exec "$GW" runuser -u "$OUT" -- python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except PermissionError:
    sys.exit(0)
sys.exit('connected')" "$SOCK" || fail "connect(2) as $OUT did not fail with EACCES"
ok "non-member $OUT: connect(2) refused with EACCES, config unchanged"

# Mode 0600: the group's members are refused as well.
kill -TERM "$XGWD_PID"; wait "$XGWD_PID"
XGW_CTL_EXTRA="\"group\": \"$G\", \"mode\": \"0600\""
start_xgwd "$GW" "$XGWD" 4096
[ "$(stat -c '%a %G' "$SOCK")" = "600 $G" ] || fail "socket file: $(stat -c '%a %G' "$SOCK")"
out=$(as "$IN" service list 2>&1) && fail "member served with mode 0600: $out"
echo "$out" | grep -q "Permission denied" || fail "member with mode 0600: $out"
ctl service list >/dev/null || fail "root refused"
ok "mode 0600: the member is refused too, root is served"

# An unknown group is refused when the config is loaded.
XGW_CTL_EXTRA='"group": "no-such-group-xgw"'
kill -TERM "$XGWD_PID"; wait "$XGWD_PID"
out=$(ip netns exec "$GW" "$XGWD" --check -c <(sed 's/"group": "[^"]*"/"group": "no-such-group-xgw"/' "$XGW_TMP/xgw.json") 2>&1) &&
	fail "unknown group accepted"
echo "$out" | grep -q 'ctl.group: no group "no-such-group-xgw" on this host' || fail "$out"
ok "unknown group refused at load: $out"
