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

fail() { echo "FAIL: $*" >&2; exit 1; }
need() {
	if [ "${CI:-}" = true ]; then fail "$* (CI=true: a missing prerequisite is a failure)"; fi
	echo "SKIPPED: $*" >&2; exit 77
}
ok() { echo "ok - $*"; }

[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs and FUSE"
[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
for tool in fusermount3:fuse3 timeout:coreutils; do
	command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
done

T=$(mktemp -d /tmp/pxeimagesfs-outside.XXXXXX) || fail "mktemp"
IMG=RemoteInstall/SMSImages/SMSPKG
V=$T/view/$IMG
C=$T/c/$IMG
D=$T/d/$IMG
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID"
		timeout 10 tail --pid="$PID" -f /dev/null
	fi
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -u "$T/view" 2>/dev/null
	for m in "$T/c" "$T/d"; do grep -q " $m " /proc/self/mountinfo && umount "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/c" "$T/d" "$T/view" || fail "mkdir"
mount -t tmpfs pxe-c "$T/c" && mount -t tmpfs pxe-d "$T/d" || fail "cannot mount tmpfs"
mkdir -p "$C/PKG00001" "$D"
echo one >"$C/PKG00001/a.wim"
echo keep >"$C/PKG00001/b.wim"
cat >"$T/pxe.conf" <<CONF
[global]
    mountpoint = $T/view
    mode = union
    state directory = $T/state
    run directory = $T/run
    rescan interval = 0
[drive:C]
    path = $T/c
    priority = 10
[drive:D]
    path = $T/d
    priority = 20
[share]
    samba = none
CONF
"$BIN" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
PID=$!
for ((i = 0; i < 200; i++)); do
	[ -d "$V/PKG00001" ] && break
	kill -0 "$PID" 2>/dev/null || { cat "$T/log" >&2; fail "the view did not mount"; }
	sleep 0.05
done
[ -d "$V/PKG00001" ] || fail "the view did not mount within 10 s"

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

events=$(sed -n 's/.*"folder_events": \([0-9]*\).*/\1/p' "$T"/run/*.json 2>/dev/null | head -1)
kill -USR1 "$PID"
sleep 0.3
events=$(sed -n 's/.*"folder_events": \([0-9]*\).*/\1/p' "$T"/run/*.json | head -1)
[ "${events:-0}" -gt 0 ] || fail "the status file counts no folder events"
ok "status: $events folder events"
echo "outside_changes: all checks passed"
