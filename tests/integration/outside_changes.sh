#!/bin/bash
# outside_changes.sh -- changes made on the drives directly, not through the view, show in the
# view at once although the kernel caches names, attributes and listings of watched folders for
# a minute (fs/dirwatch.c). Two tmpfs drives, C (priority 10) and D (priority 20, empty). Each
# check first caches what it is about to change (ls -l, stat, cat through the view), changes it
# on the drive, and wants the view to show the change within 3 s (the cache would keep the old
# answer for 60 s). Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: outside_changes.sh PXEIMAGESFS_BINARY SLOWXATTR_SO}
SHIM=${2:?usage: outside_changes.sh PXEIMAGESFS_BINARY SLOWXATTR_SO}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3 getfattr:attr setfattr:attr

view_sandbox outside
mkdir -p "$C/PKG00001"
echo one >"$C/PKG00001/a.wim"
echo keep >"$C/PKG00001/b.wim"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
[ -f "$SHIM" ] || fail "no $SHIM (build the slowxattr target)"
view_start "$BIN" "$DRIVES" "" LD_PRELOAD="$SHIM" PXE_SLOWXATTR_CTL="$T/slowx" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
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

# user.* xattrs (Samba's DOS attributes) of watched folders' entries are kept by the view
# (fs/xcache.c): a change on the drive is an event that drops them, one through the view drops
# them at once; a file with two links (changed through the other one, outside the view's
# folders) and a value past 256 bytes are never kept
xget() { getfattr --absolute-names --only-values -n user.DOSATTRIB "$1" 2>/dev/null || echo none; }
xattr_is() { [ "$(xget "$1")" = "$2" ]; }
kept() { view_status 's["counters"]["xattrs_kept"]'; }
F=$C/PKG00001/c.wim
setfattr -n user.DOSATTRIB -v v1 "$F" || fail "setxattr on C"
k0=$(kept)
for _ in 1 2 3; do xattr_is "$V/PKG00001/c.wim" v1 || fail "xattr: the view reads $(xget "$V/PKG00001/c.wim"), want v1"; done
k1=$(kept)
[ $((k1 - k0)) -ge 2 ] || fail "xattr: 3 reads of one xattr, $((k1 - k0)) of their GETXATTRs answered from what the view kept (want 2 or more)"
setfattr -n user.DOSATTRIB -v v2 "$F" || fail "setxattr on C"
within "an xattr changed on C" xattr_is "$V/PKG00001/c.wim" v2
setfattr -x user.DOSATTRIB "$F" || fail "removexattr on C"
within "an xattr removed on C" xattr_is "$V/PKG00001/c.wim" none
xattr_is "$V/PKG00001/c.wim" none || fail "xattr: the removed xattr is back"
setfattr -n user.DOSATTRIB -v v3 "$F" || fail "setxattr on C"
within "an xattr added on C (its absence was kept)" xattr_is "$V/PKG00001/c.wim" v3
# through the view: the next read has the new value at once, with no wait for the event
for v in v4 v5 v6; do
	setfattr -n user.DOSATTRIB -v "$v" "$V/PKG00001/c.wim" ||
		fail "setxattr through the view"
	xattr_is "$V/PKG00001/c.wim" "$v" || fail "xattr: set to $v through the view, read back $(xget "$V/PKG00001/c.wim")"
done
# a folder (PKG00001 is on D too now, and D's copy answers for it)
setfattr -n user.DOSATTRIB -v d1 "$C/PKG00002" || fail "setxattr on C's folder"
xattr_is "$V/PKG00002" d1 && xattr_is "$V/PKG00002" d1 || fail "xattr: the folder's reads $(xget "$V/PKG00002")"
setfattr -n user.DOSATTRIB -v d2 "$C/PKG00002" || fail "setxattr on C's folder"
within "a folder's xattr changed on C" xattr_is "$V/PKG00002" d2
# a file with a second link outside the images folder: a change through that link is no event
# of the view's folders, so its xattrs are never kept (as the kernel keeps its attributes, what
# was kept before the second link came stays until an event or a view change)
: >"$C/PKG00002/linked" && setfattr -n user.DOSATTRIB -v l1 "$C/PKG00002/linked" ||
	fail "setxattr on C"
F=$C/PKG00002/linked
ln "$F" "$T/c/outside-link" || fail "ln on C"
within "a file made on C (to be linked)" listed "$V/PKG00002" linked
xattr_is "$V/PKG00002/linked" l1 && xattr_is "$V/PKG00002/linked" l1 || fail "xattr: the linked file reads $(xget "$V/PKG00002/linked")"
setfattr -n user.DOSATTRIB -v v7 "$T/c/outside-link" || fail "setxattr on the link"
xattr_is "$V/PKG00002/linked" v7 || fail "xattr: changed through another link, the view reads $(xget "$V/PKG00002/linked")"
rm "$T/c/outside-link"
# a second link made after the value was kept, in the same folder (link() is no event for the
# first name): a listing sees the file's two links and ends what was kept
setfattr -n user.DOSATTRIB -v m1 "$C/PKG00002/linked" || fail "setxattr on C"
within "m1 set on C" xattr_is "$V/PKG00002/linked" m1
xattr_is "$V/PKG00002/linked" m1 || fail "xattr: the file reads $(xget "$V/PKG00002/linked")"
ln "$C/PKG00002/linked" "$C/PKG00002/linked2" && setfattr -n user.DOSATTRIB -v m2 "$C/PKG00002/linked2" ||
	fail "ln and setxattr on C"
within "an xattr changed on C through a second link made after it was kept (ls -l between)" \
	eval 'ls -l "$V/PKG00002" >/dev/null && xattr_is "$V/PKG00002/linked" m2'
rm "$C/PKG00002/linked2"
F=$C/PKG00001/c.wim
# a race: values set on C as fast as it goes while the view reads them (its reads may keep a
# value an instant before the event that drops it); once the writer stops, the view has the last
# value within the usual 3 s, and keeps it
python3 - "$F" "$V/PKG00001/c.wim" <<'PY' || fail "xattr race"
import os, sys, threading, time
drive, view = sys.argv[1], sys.argv[2]
stop = False
def reader():
    while not stop:
        try:
            os.getxattr(view, "user.DOSATTRIB")
        except OSError:
            pass
ts = [threading.Thread(target=reader) for _ in range(3)]
for t in ts:
    t.start()
end = time.monotonic() + 3
i = 0
while time.monotonic() < end and i < 200000:
    os.setxattr(drive, "user.DOSATTRIB", b"r%d" % i)
    i += 1
last = b"r%d" % (i - 1)
stop = True
for t in ts:
    t.join()
deadline = time.monotonic() + 3
while os.getxattr(view, "user.DOSATTRIB") != last:
    if time.monotonic() > deadline:
        sys.exit(f"after {i} changes on the drive the view reads {os.getxattr(view, 'user.DOSATTRIB')!r}, want {last!r}")
    time.sleep(0.02)
time.sleep(0.2)
if os.getxattr(view, "user.DOSATTRIB") != last:
    sys.exit("the last value did not stay")
print(f"xattr race: {i} changes on the drive in 3 s beside 3 readers; the view has the last one")
PY
# a read that raced a change is not kept: the daemon reads r1 from C, is held there (slowxattr.so)
# while r2 is set on C and its event drops what was kept, then answers r1; the next reads must
# get r2 (before, that read kept r1 for as long as no other event came)
setfattr -n user.DOSATTRIB -v r1 "$F" || fail "setxattr on C"
within "r1 set on C" xattr_is "$V/PKG00001/c.wim" r1
setfattr -n user.DOSATTRIB -v r1b "$F" && within "r1b set on C" xattr_is "$V/PKG00001/c.wim" r1b || fail "r1b"
setfattr -n user.DOSATTRIB -v r1 "$F" || fail "setxattr on C" # dropped: the next read is the drive's
rm -f "$T/slowx.in" && touch "$T/slowx" || fail "cannot arm slowxattr"
xget "$V/PKG00001/c.wim" >"$T/held.out" &
held=$!
for ((i = 0; i < 250; i++)); do [ -e "$T/slowx.in" ] && break; sleep 0.02; done
[ -e "$T/slowx.in" ] || fail "xattr race: the daemon's read was not held (slowxattr.so)"
setfattr -n user.DOSATTRIB -v r2 "$F" || fail "setxattr on C"
wait $held
[ "$(cat "$T/held.out")" = r1 ] || fail "xattr race: the held read answered $(cat "$T/held.out"), want r1"
within "r2 set on C while a read of r1 was held" xattr_is "$V/PKG00001/c.wim" r2
ok "xattr: 3 reads made $((k1 - k0)) GETXATTRs answered from what the view kept; changes on C and through the view seen"

events=$(view_status 's["counters"]["folder_events"]')
[ "${events:-0}" -gt 0 ] || fail "the status file counts no folder events"
ok "status: $events folder events"
stop_checked # a sanitizer build reports leaks at exit (what the view kept, freed)
echo "outside_changes: all checks passed"
