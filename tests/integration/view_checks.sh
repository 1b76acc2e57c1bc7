#!/bin/bash
# view_checks.sh -- the checks every launch mode must pass (SPEC section 10), run against a
# mounted view by launch_modes.sh: directly on the host for `mount -f`, plain `mount` and the
# fstab route, and inside the systemd container for the unit.
#
#   view_checks.sh MOUNTPOINT DRIVE_IMAGES_DIR LABEL
#
# MOUNTPOINT is the view, DRIVE_IMAGES_DIR the images folder of the primary drive (written to
# directly). Checked:
#   flags    the view's mount in /proc/self/mountinfo has nosuid and nodev
#   outside  a file created on the drive directly (not through the view) shows in the view
#            within 10 s, in a folder whose listing the kernel had cached (the folder watcher
#            thread must run in the serving process)
#   create   a file created through the view reads back and lands on the drive
# Prints one "ok - LABEL: ..." line per check; the first failure exits 1 with "FAIL: ...".
set -u
MP=${1:?usage: view_checks.sh MOUNTPOINT DRIVE_IMAGES_DIR LABEL}
DRIVE=${2:?usage: view_checks.sh MOUNTPOINT DRIVE_IMAGES_DIR LABEL}
LABEL=${3:-view}
export LC_ALL=C
V=$MP/RemoteInstall/SMSImages/SMSPKG

fail() { echo "FAIL: $LABEL: $*" >&2; exit 1; }
ok() { echo "ok - $LABEL: $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# every access to the view is bounded: a hung daemon must fail the check, not hang it
t() { timeout 10 "$@"; }

# -- flags: the per-mount options (field 6) of the last mount at MP
opts=$(awk -v mp="$MP" '$5 == mp && / - fuse\.pxeimagesfs / { o = $6 } END { print o }' /proc/self/mountinfo)
[ -n "$opts" ] || fail "no fuse.pxeimagesfs mount at $MP in /proc/self/mountinfo"
for f in nosuid nodev; do
	[[ ,$opts, == *,$f,* ]] || fail "the view is mounted without $f (mount options '$opts')"
done
ok "mounted with $opts (nosuid and nodev)"

# -- outside: cache the folder's listing and a lookup of the name, then create it on the drive
tag=$$-$RANDOM
mkdir -p "$DRIVE/PKGLM001" || fail "mkdir on the drive"
echo first >"$DRIVE/PKGLM001/first.txt" || fail "writing on the drive"
# twice: the first listing makes the daemon watch the folder, the second one is what the kernel
# keeps (for a minute in a watched folder: only the watcher's invalidation shows a change)
for _ in 1 2; do
	t ls -l "$V" >/dev/null 2>&1 || fail "cannot list $V"
	t ls -l "$V/PKGLM001" >/dev/null 2>&1 || fail "cannot list $V/PKGLM001"
	t cat "$V/PKGLM001/first.txt" >/dev/null 2>&1 || fail "cannot read $V/PKGLM001/first.txt"
	t stat "$V/PKGLM001/outside-$tag.txt" >/dev/null 2>&1 && fail "outside-$tag.txt exists before it was made"
done
echo "made outside $tag" >"$DRIVE/PKGLM001/outside-$tag.txt" || fail "writing on the drive"
t0=$(now_ms)
seen=
for ((i = 0; i < 200; i++)); do
	if t ls "$V/PKGLM001" 2>/dev/null | grep -qx "outside-$tag.txt" &&
		[ "$(t cat "$V/PKGLM001/outside-$tag.txt" 2>/dev/null)" = "made outside $tag" ]; then
		seen=$(($(now_ms) - t0))
		break
	fi
	sleep 0.05
done
[ -n "$seen" ] || fail "a file created on the drive directly is not in the view 10 s later (no folder watcher in the serving process?)"
ok "a file created on the drive directly shows in the view after $seen ms"

# -- create and read through the view
echo "through the view $tag" >"$V/PKGLM001/created-$tag.txt" 2>/dev/null ||
	fail "cannot create a file through the view"
[ "$(t cat "$V/PKGLM001/created-$tag.txt" 2>/dev/null)" = "through the view $tag" ] ||
	fail "a file created through the view reads back wrong"
[ "$(cat "$DRIVE/PKGLM001/created-$tag.txt" 2>/dev/null)" = "through the view $tag" ] ||
	fail "a file created through the view is not on the drive"
ok "a file created through the view reads back and is on the drive"
rm -rf "$DRIVE/PKGLM001"
