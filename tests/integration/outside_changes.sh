#!/bin/bash
# outside_changes.sh -- changes made on the drives directly, not through the view, show in the
# view at once although the kernel caches names, attributes and listings of watched folders for
# a minute (fs/dirwatch.c). Two tmpfs drives, C (priority 10) and D (priority 20, empty). Each
# check first caches what it is about to change (ls -l, stat, cat through the view), changes it
# on the drive, and wants the view to show the change within 3 s (the cache would keep the old
# answer for 60 s). Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: outside_changes.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3

view_sandbox outside
mkdir -p "$C/PKG00001"
echo one >"$C/PKG00001/a.wim"
echo keep >"$C/PKG00001/b.wim"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
view_start "$BIN" "$DRIVES"
[ -d "$V/PKG00001" ] || fail "the view shows no PKG00001"

# within WHAT CMD...: CMD succeeds within 3 s (polled every 20 ms); prints the latency
within() {
	local what=$1 t0 i
	shift
	t0=$(date +%s%N)
	for ((i = 0; i < 150; i++)); do
		if "$@" >/dev/null 2>&1; then
			ok "$what: seen through the view after $((($(date +%s%N) - t0) / 1000000)) ms"
			return 0
		fi
		sleep 0.02
	done
	fail "$what: not seen through the view 3 s later (a stale kernel cache)"
}
cache() { ls -l "$V/PKG00001" >/dev/null; ls -l "$V" >/dev/null; stat "$V"/PKG00001/* >/dev/null; cat "$V"/PKG00001/* >/dev/null; }
listed() { ls "$1" | grep -qx "$2"; }
not_listed() { ! ls "$1" | grep -qx "$2"; }
content_is() { [ "$(cat "$1")" = "$2" ]; }
mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }

cache
echo new >"$C/PKG00001/new.wim"
within "a file created on C" listed "$V/PKG00001" new.wim
content_is "$V/PKG00001/new.wim" new || fail "the new file reads wrong"

cache
echo more >>"$C/PKG00001/a.wim"
within "a file appended to on C (size and data)" content_is "$V/PKG00001/a.wim" "one
more"
[ "$(stat -c %s "$V/PKG00001/a.wim")" = 9 ] || fail "the appended file's size is stale"

cache
chmod 600 "$C/PKG00001/a.wim"
within "a chmod on C" mode_is "$V/PKG00001/a.wim" 600

cache
mv "$C/PKG00001/b.wim" "$C/PKG00001/c.wim"
within "a rename on C (new name)" listed "$V/PKG00001" c.wim
within "a rename on C (old name gone)" not_listed "$V/PKG00001" b.wim
[ ! -e "$V/PKG00001/b.wim" ] || fail "the renamed-away name still answers stat"

cache
rm "$C/PKG00001/new.wim"
within "a file removed on C" not_listed "$V/PKG00001" new.wim
[ ! -e "$V/PKG00001/new.wim" ] || fail "the removed file still answers stat"

cache
mkdir "$C/PKG00002"
within "a folder made on C" listed "$V" PKG00002

# D is ranked first: a copy made there shadows C's at once
cache
mkdir -p "$D/PKG00001"
echo shadow >"$D/PKG00001/a.wim"
within "a higher-ranked copy made on D" content_is "$V/PKG00001/a.wim" shadow
[ "$(stat -c %s "$V/PKG00001/a.wim")" = 7 ] || fail "the shadowing copy's size is stale"

events=$(view_status 's["counters"]["folder_events"]')
[ "${events:-0}" -gt 0 ] || fail "the status file counts no folder events"
ok "status: $events folder events"
echo "outside_changes: all checks passed"
