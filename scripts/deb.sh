#!/bin/bash
# Build the Debian package from this tree (dpkg-buildpackage -us -uc -b) in
# a scratch copy, so the tree gets no obj-*/ or debian/xgw/ and the .deb
# lands in OUTDIR (default: the scratch dir, removed at exit).
#
#   scripts/deb.sh [--check] [OUTDIR]
#
# --check (as root): install the package, check that what it ships is there
# and runs, then purge it and check that nothing it installed is left.
# DEB_BUILD_OPTIONS is passed through (CI uses nocheck: the unit suite has
# run already).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
scratch=$(mktemp -d /tmp/xgw-deb.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
out=${1:-$scratch}
mkdir -p "$out"

# The tracked files only (a git clone), else the tree without build dirs.
mkdir "$scratch/xgw"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$scratch/xgw" 2>/dev/null || true
	# xgw --version names the commit the package was built from.
	cp -a .git "$scratch/xgw/.git"
else
	tar --exclude='./build*' --exclude='./obj-*' -cf - . | tar -xf - -C "$scratch/xgw"
fi
(cd "$scratch/xgw" && dpkg-buildpackage -us -uc -b >"$scratch/build.log" 2>&1) || {
	tail -40 "$scratch/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
deb=$(ls "$scratch"/xgw_*.deb)
[ "$out" = "$scratch" ] || cp "$deb" "$out/"
echo "deb: built $(basename "$deb")"
dpkg-deb --info "$deb" | sed -n 's/^ \(Version\|Depends\|Installed-Size\):/deb:   \1:/p'

[ "$check" = 1 ] || exit 0
[ "$(id -u)" = 0 ] || { echo "deb: --check needs root" >&2; exit 1; }
if dpkg-query -W -f='${Status}' xgw 2>/dev/null | grep -q "install ok installed"; then
	echo "deb: an xgw package is installed already; not touching it" >&2
	exit 1
fi
fail() { echo "deb: FAIL: $*" >&2; dpkg --purge xgw >/dev/null 2>&1 || true; exit 1; }

dpkg -i "$deb" >/dev/null || fail "dpkg -i"
files=$(dpkg -L xgw)
for f in /usr/sbin/xgwd /usr/bin/xgwctl /usr/bin/xgw-pktgen /usr/bin/xgw-bench \
	/usr/share/man/man8/xgwd.8.gz /usr/share/man/man8/xgwctl.8.gz \
	/usr/share/man/man5/xgw.json.5.gz /etc/xgw/xgw.json.example \
	/usr/share/bash-completion/completions/xgwctl; do
	[ -e "$f" ] || fail "$f not installed"
done
unit=$(echo "$files" | grep '/systemd/system/xgwd.service$') || fail "no systemd unit"
grep -q '^ExecStart=/usr/sbin/xgwd -c /etc/xgw/xgw.json$' "$unit" || fail "unit paths"
/usr/sbin/xgwd --version | grep -q '^xgwd ' || fail "xgwd --version"
/usr/bin/xgwctl --version | grep -q '^xgwctl ' || fail "xgwctl --version"
# The installed example is a valid config for the installed daemon.
/usr/sbin/xgwd -c /etc/xgw/xgw.json.example --check >/dev/null 2>&1 ||
	fail "xgwd --check on the example config"
man -w xgwd >/dev/null 2>&1 || fail "man xgwd"
dpkg --purge xgw >/dev/null || fail "dpkg --purge"
left=0
while read -r f; do
	# Directories the package shares with the system stay (/lib is a
	# symlink to a directory on merged-/usr systems).
	[ -d "$f" ] && continue
	[ -e "$f" ] || [ -L "$f" ] || continue
	echo "deb: left behind: $f" >&2
	left=1
done <<<"$files"
[ "$left" = 0 ] || fail "files left after purge"
[ ! -e /etc/xgw ] || fail "/etc/xgw left after purge"
echo "deb: installed, checked and purged cleanly ($(echo "$files" | wc -l) paths)"
