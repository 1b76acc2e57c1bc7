#!/bin/bash
# smbtorture.sh -- SMB clients get from the view what a native share gives them: Samba's own
# protocol tests (smbtorture's smb2 suites) and its NetBench load (bench.nbench with dbench's
# client.txt) run against a native tmpfs folder, the share pxeimagesfs generates (its private
# smbd) and a plain share whose path is in the view. Every subtest that passes natively must
# pass on both view shares (some fail natively on any Linux smbd: those are not asked of the
# view). The view runs with passthrough as configured by the environment
# (PXEIMAGESFS_PASSTHROUGH=no: the daemon-served path), every suite in both; a sanitizer build,
# or one built without passthrough, runs a shorter set (connect, lock, sharemode, fileid), and
# the passthrough-off run of tests/run.sh (PXE_TEST_SHORT=1) the suites that move file data
# (connect, read, rw, durable-open, fileid).
#
# NetBench runs on the native share, a plain share of the view and the generated share's block
# (served by the plain smbd: dbench's load is SMB1, which the private smbd does not speak).
#
# The native share's results depend on Samba and the kernel, not on the build under test: with
# PXE_SMBTORTURE_NATIVE naming a directory (tests/run.sh: one for all its builds), the first run
# keeps them there (each suite's passing subtests, NetBench's throughput) and later runs compare
# with those instead of running the native share again.
#
#   smbtorture.sh PXEIMAGESFS_BINARY
#
# Ports 44581 (the generated share's private smbd) and 44582 (the plain smbd), 127.0.0.1 only.
# Exit 77 = skipped (a failure under CI=true). Debian packages: samba, samba-testsuite
# (smbtorture), dbench (client.txt).
set -u
BIN=${1:?usage: smbtorture.sh PXEIMAGESFS_BINARY}
P1=44581 P2=44582
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, need_root_fuse, need_tools

need_root_fuse
need_tools smbtorture:samba-testsuite smbd:samba fusermount3:fuse3
LOAD=/usr/share/dbench/client.txt
[ -r "$LOAD" ] || need "$LOAD not found (package dbench)"
for p in $P1 $P2; do listening "$p" && fail "port $p on 127.0.0.1 is already in use"; done

T=$(mktemp -d /tmp/pxeimagesfs-torture.XXXXXX) || fail "mktemp"
IMG=RemoteInstall/SMSImages/SMSPKG
V=$T/view/$IMG
VIEW_PID= SMBD_PID=
cleanup() {
	[ -n "$SMBD_PID" ] && kill "$SMBD_PID" 2>/dev/null
	if [ -n "$VIEW_PID" ]; then
		kill "$VIEW_PID" 2>/dev/null
		timeout 20 tail -s 0.05 --pid="$VIEW_PID" -f /dev/null
	fi
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -u "$T/view" 2>/dev/null
	for m in "$T/c" "$T/native"; do grep -q " $m " /proc/self/mountinfo && umount "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT
gen_conf() { find "$T/state" -name smb.conf -newer "$T/pxe.conf" 2>/dev/null | head -1; }
mkdir -p "$T/c" "$T/native" "$T/view" "$T/state" "$T/run" "$T/plain" || fail "mkdir"
mount -t tmpfs -o size=512m torture-c "$T/c" && mount -t tmpfs -o size=512m torture-n "$T/native" ||
	need "cannot mount tmpfs"
mkdir -p "$T/c/$IMG"
chmod 777 "$T/native" "$T/c/$IMG"

# the view, sharing itself through its private smbd (the generated share)
drive_sections DRIVES "C:$T/c"
view_conf "$DRIVES" "    mount timeout = 0
    rescan interval = 0" "    samba = private
    port = $P1
    interfaces = 127.0.0.1
    guest ok = yes
    read only = no
    samba:force user = root"
"$BIN" mount -f -c "$T/pxe.conf" >"$T/view.log" 2>&1 &
VIEW_PID=$!
# a plain smbd of our own: the native folder, and the view's images folder as any share
smb_private_conf "$T/plain/smb.conf" "$T/plain" "    smb ports = $P2
    interfaces = 127.0.0.1
    bind interfaces only = yes
    server min protocol = NT1
    map to guest = Bad User"
cat >>"$T/plain/smb.conf" <<CONF || fail "writing $T/plain/smb.conf"
[native]
    path = $T/native
    read only = no
    guest ok = yes
    force user = root
[view]
    path = $V
    read only = no
    guest ok = yes
    force user = root
CONF
for ((i = 0; i < 200; i++)); do
	listening $P1 && [ -d "$V" ] && [ -s "$(gen_conf)" ] && break
	kill -0 "$VIEW_PID" 2>/dev/null || { cat "$T/view.log" >&2; fail "the view's daemon exited"; }
	sleep 0.05
done
listening $P1 || { cat "$T/view.log" >&2; fail "the generated share's smbd does not listen on $P1"; }
# the generated share's block, as pxeimagesfs wrote it for its private smbd, also served by the
# plain smbd (which speaks SMB1 for NetBench: the private smbd is SMB2 and newer only)
awk '/^\[/ { on = ($0 != "[global]") } on' "$(gen_conf)" >>"$T/plain/smb.conf"
grep -q '^\[SMSPXEIMAGES\$\]' "$T/plain/smb.conf" || fail "no [SMSPXEIMAGES\$] block in $(gen_conf)"
smbd_start "$T/plain/smb.conf" $P2 "$T/plain/smbd.out"
PT=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s.get("passthrough",{}).get("active"))' \
	"$(ls "$T"/run/*.json | head -1)" 2>/dev/null)
ok "a native share, the generated share (port $P1) and a plain share of the view (port $P2); passthrough active: $PT"

SUITES=(smb2.connect smb2.read smb2.rw smb2.lock smb2.sharemode smb2.rename smb2.durable-open
	smb2.timestamps smb2.fileid smb2.ioctl.sparse_file_flag smb2.ioctl.sparse_qar)
# every suite with passthrough on and off (PXEIMAGESFS_PASSTHROUGH=no); a sanitizer build, or one
# that cannot do passthrough at all (a libfuse older than 3.17), repeats those data paths slower
if grep -qa __asan_init "$BIN" || "$BIN" --version 2>/dev/null | grep -q "kernel passthrough: not available"; then
	SUITES=(smb2.connect smb2.lock smb2.sharemode smb2.fileid)
elif [ "${PXEIMAGESFS_PASSTHROUGH:-}" = no ] && [ "${PXE_TEST_SHORT:-}" = 1 ]; then
	# tests/run.sh's passthrough-off run: the setting changes only how file data moves (the
	# kernel's backing file, or the daemon's reads and writes); locks, share modes, renames,
	# timestamps and ioctls take the same path in both, and the release run asked all of them
	SUITES=(smb2.connect smb2.read smb2.rw smb2.durable-open smb2.fileid)
fi
# torture SHARE PORT SUITE -- the subtests that passed, one per line ("success: NAME")
torture() {
	timeout 300 smbtorture "//127.0.0.1/$1" -p "$2" -U% "$3" 2>&1 | tee -a "$T/torture.log" |
		sed -n 's/^success: //p' | sort -u
}
NATIVE_KEPT=${PXE_SMBTORTURE_NATIVE:-}
[ -z "$NATIVE_KEPT" ] || [ -d "$NATIVE_KEPT" ] || fail "PXE_SMBTORTURE_NATIVE=$NATIVE_KEPT: not a directory"
# native SUITE -- torture on the native share, or what an earlier run kept of it
native() {
	local kept=${NATIVE_KEPT:+$NATIVE_KEPT/$1} out
	if [ -n "$kept" ] && [ -s "$kept" ]; then
		cat "$kept"
		return
	fi
	out=$(torture native $P2 "$1")
	[ -n "$kept" ] && [ -n "$out" ] && echo "$out" >"$kept"
	echo "$out"
}
[ -n "$NATIVE_KEPT" ] && [ -n "$(ls -A "$NATIVE_KEPT")" ] &&
	echo "# the native share's results as an earlier run kept them in $NATIVE_KEPT"
bad=()
for s in "${SUITES[@]}"; do
	native=$(native "$s")
	[ -n "$native" ] || fail "$s: nothing passes on the native share (see smbtorture's output): $(tail -5 "$T/torture.log")"
	for share in "SMSPXEIMAGES\$:$P1" "view:$P2"; do
		got=$(torture "${share%:*}" "${share##*:}" "$s")
		missing=$(comm -23 <(echo "$native") <(echo "$got") | tr '\n' ' ')
		[ -z "$missing" ] || bad+=("$s on ${share%:*}: $missing")
	done
	echo "# $s: $(echo "$native" | wc -l) subtests pass natively, and on both view shares unless listed below"
done
[ ${#bad[@]} = 0 ] || fail "passing natively but not on the view: ${bad[*]}"
ok "smbtorture ${SUITES[*]}: every subtest that passes on a native folder passes on the generated share and on a plain share of the view"

# NetBench (SMB1, as dbench's load file is written): a short run on the native share and on the view
nbench() {
	timeout 120 smbtorture "//127.0.0.1/$1" -p $P2 -U% bench.nbench --loadfile="$LOAD" \
		--num-progs=2 -t 8 >"$T/nbench-$1.log" 2>&1
	grep -q '^success: nbench' "$T/nbench-$1.log" ||
		fail "NetBench on $1: $(grep -v '^ *[0-9]' "$T/nbench-$1.log" | tail -5)"
	sed -n 's/^Throughput \([0-9.]*\) MB\/sec/\1/p' "$T/nbench-$1.log" | tail -1
}
if [ -n "$NATIVE_KEPT" ] && [ -s "$NATIVE_KEPT/nbench" ]; then
	n="$(cat "$NATIVE_KEPT/nbench") (an earlier run's)"
else
	n=$(nbench native)
	[ -z "$NATIVE_KEPT" ] || echo "$n" >"$NATIVE_KEPT/nbench"
fi
v=$(nbench view)
g=$(nbench 'SMSPXEIMAGES$')
ok "NetBench (2 clients, 8 s, dbench client.txt): native $n MB/s; the view, plain share $v MB/s, generated share $g MB/s"
kill -0 "$VIEW_PID" 2>/dev/null || fail "the view's daemon died"
echo "smbtorture: all checks passed"
