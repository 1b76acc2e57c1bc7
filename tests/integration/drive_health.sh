#!/bin/bash
# drive_health.sh -- a drive that hangs or fails leaves the view like an unmounted one, and the
# view keeps answering (SPEC section 9: "a drive that hangs or returns EIO for everything").
#
#   publish    publish_hang: building a view that stats a hung drive (hangfs, every request
#              blocks) must not hold the lock every request takes: 200 fsview_get() calls
#              meanwhile, each within 200 ms
#   hang       a view of C (tmpfs, priority 20, primary) and H (hangfs, priority 10). H hangs:
#              within 15 s (rescan interval 1 s, a bounded probe) the status file says H is
#              unavailable and the view degraded; reads of C's file go on all the while (each
#              within 2.5 s of its own time, not counting a pause of the whole machine that a
#              heartbeat saw: a stalled view never answers); then listing the images folder,
#              creating a file and looking up H's package answer within 3 s each. H answers again: back in the view within 15 s.
#   eio        a view of E (ext4 on a loop device, priority 30, primary) and C (tmpfs). E is shut
#              down (EXT4_IOC_SHUTDOWN: stat and readdir still work, every create and read
#              fails with EIO): within 15 s E is unavailable, C primary, the status degraded,
#              and a create through the view succeeds and lands on C.
# Usage: drive_health.sh PXEIMAGESFS HANGFS PUBLISH_HANG. Needs root, /dev/fuse, a loop
# device (losetup, util-linux), mkfs.ext4 (e2fsprogs) and python3. Exit 77 = skipped (a
# failure under CI=true). PXE_DRIVE_HEALTH_ONLY=publish|hang|eio runs one part.
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
# shellcheck disable=SC2317 # functions called from traps
set -u
BIN=${1:?usage: drive_health.sh PXEIMAGESFS HANGFS PUBLISH_HANG}
HANGFS=${2:?usage: drive_health.sh PXEIMAGESFS HANGFS PUBLISH_HANG}
PUBLISH=${3:?usage: drive_health.sh PXEIMAGESFS HANGFS PUBLISH_HANG}
ONLY=${PXE_DRIVE_HEALTH_ONLY:-}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3 losetup:mount mkfs.ext4:e2fsprogs

view_sandbox health
H=$T/h
CTL=$T/hang.ctl
HANG_PID=
echo ok >"$CTL"
mkdir -p "$H" "$T/e"
health_cleanup() {
	local rc=$?
	touch "$T/stop-reader" 2>/dev/null # the hang part's reader and heartbeat end
	echo ok >"$CTL" # release every request waiting in hangfs, so the view can stop
	view_stop_or_kill # never fails: the rest of the cleanup runs
	grep -q " $H " /proc/self/mountinfo && { fusermount3 -u "$H" 2>/dev/null || umount -l "$H"; }
	[ -n "$HANG_PID" ] && kill "$HANG_PID" 2>/dev/null && wait "$HANG_PID" 2>/dev/null
	loop_detach
	view_cleanup
	exit "$rc"
}
trap health_cleanup EXIT
trap 'exit 143' TERM INT

"$HANGFS" "$H" "$CTL" 2>"$T/hangfs.log" &
HANG_PID=$!
for ((i = 0; i < 100; i++)); do grep -q " $H .* - fuse.hangfs " /proc/self/mountinfo && break; sleep 0.05; done
grep -q " $H .* - fuse.hangfs " /proc/self/mountinfo || fail "hangfs did not mount: $(cat "$T/hangfs.log")"
[ "$(timeout 5 cat "$H/$IMG/PKGH0001/hang.txt")" = "served by hangfs" ] || fail "hangfs serves wrong"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# epoch_ms -- the time in ms, without a fork
epoch_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# dh_start DRIVE_SECTIONS: mount -f a view rescanning every second (lib.sh's view_start turns
# the periodic rescan off); waits up to 15 s for the mount and its status file
dh_start() {
	view_conf "$1" "    rescan interval = 1s
    mount timeout = 0"
	VIEW_MOUNT_SECONDS=15 view_mount "$BIN"
}
# st EXPR: the Python expression EXPR over the status file as `s` (drives by name in `d`)
st() {
	python3 -c "import json,sys
s=json.load(open(sys.argv[1])); d={x['name']: x for x in s['view']['drives']}
print($1)" "$(view_status_file)" 2>/dev/null
}
# wait_status SECONDS EXPR: until EXPR prints True; prints the milliseconds it took
wait_status() {
	local t0
	t0=$(now_ms)
	while [ $(($(now_ms) - t0)) -lt $(($1 * 1000)) ]; do
		[ "$(st "$2")" = True ] && { echo $(($(now_ms) - t0)); return 0; }
		sleep 0.05
	done
	return 1
}

# ---- publish ---------------------------------------------------------------------------------
if [ -z "$ONLY" ] || [ "$ONLY" = publish ]; then
	mkdir -p "$T/good/$IMG"
	echo hang >"$CTL"
	# its publishing thread stays in the hung drive's stat, and a request the drive has read
	# cannot be abandoned: the process ends only once the drive answers. So: wait for its
	# verdict (it prints one within 6 s), release the drive, then reap it.
	"$PUBLISH" "$T/good" "$H" >"$T/publish.out" 2>&1 &
	pub=$!
	for ((i = 0; i < 200; i++)); do grep -q . "$T/publish.out" && break; sleep 0.05; done
	echo ok >"$CTL"
	timeout 10 tail -s 0.05 --pid="$pub" -f /dev/null || fail "publish: publish_hang still runs after the drive answered"
	wait "$pub"
	rc=$?
	out=$(cat "$T/publish.out")
	[ "$rc" = 0 ] || fail "publish: ${out:-no verdict within 10 s} (exit $rc)"
	ok "publish: ${out#publish_hang: }"
fi

# ---- hang ------------------------------------------------------------------------------------
if [ -z "$ONLY" ] || [ "$ONLY" = hang ]; then
	mkdir -p "$C/PKGC0001" && echo "C's file" >"$C/PKGC0001/c.txt"
	drive_sections DRIVES "C:$T/c:20" "H:$H:10"
	dh_start "$DRIVES"
	[ -d "$V/PKGH0001" ] && [ -d "$V/PKGC0001" ] || fail "hang: the view lacks a package: $(ls "$V")"
	[ "$(cat "$V/PKGH0001/hang.txt")" = "served by hangfs" ] || fail "hang: H's file reads wrong"
	[ "$(st "d['H']['in_view'] and s['healthy']")" = True ] || fail "hang: H not in view at start"

	# a reader of C's file all along: each read within 2.5 s of the view's own time. A machine
	# that stops every process (a busy host pausing the VM) delays the reads as much as anything
	# else: a heartbeat that forks nothing (EPOCHREALTIME, read -t on a FIFO of its own) notes
	# every gap of over 250 ms, and a read's time within such a gap is the machine's, not the view's
	mkfifo "$T/hb.fifo"
	(
		exec {hb}<>"$T/hb.fifo"
		prev=$(epoch_ms)
		while [ -p "$T/hb.fifo" ] && [ ! -e "$T/stop-reader" ]; do # ends with $T too
			read -r -t 0.05 -u "$hb" _
			now=${EPOCHREALTIME/./} now=$((now / 1000))
			[ $((now - prev)) -gt 250 ] && echo "$prev $now" >>"$T/gaps"
			prev=$now
		done
	) &
	HEARTBEAT=$!
	(
		while [ ! -e "$T/stop-reader" ]; do
			t0=$(epoch_ms)
			got=$(timeout 5 cat "$V/PKGC0001/c.txt" 2>&1)
			t1=$(epoch_ms)
			[ "$got" = "C's file" ] || { echo "FAILED read: '$got' after $((t1 - t0)) ms" >"$T/reader"; exit 1; }
			echo "$t0 $t1" >>"$T/reads"
			sleep 0.05
		done
	) &
	READER=$!
	sleep 0.5
	echo hang >"$CTL"
	took=$(wait_status 15 "d['H']['state'] == 'unavailable' and not d['H']['in_view'] and not s['healthy']") ||
		fail "hang: 15 s after H hung, the status does not say H is unavailable: $(st "d['H']['state'], d['H']['reason'], s['degraded_reasons']")"
	ok "hang: H marked unavailable $took ms after it hung ($(st "d['H']['reason']")); degraded: $(st "s['degraded_reasons']")"
	for what in "ls $V" "touch $V/PKGC0001/new.txt" "stat $V/PKGC0001/new.txt"; do
		t0=$(now_ms)
		# shellcheck disable=SC2086 # split on purpose
		timeout 3 $what >/dev/null 2>&1 || fail "hang: '$what' failed or took over 3 s with H hung"
		echo "# '$what': $(($(now_ms) - t0)) ms"
	done
	t0=$(now_ms)
	timeout 3 stat "$V/PKGH0001" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "hang: stat of H's package with H hung: exit $rc (want ENOENT within 3 s)"
	[ -f "$C/PKGC0001/new.txt" ] || fail "hang: the file created with H hung is not on C"
	ok "hang: listing, create and lookups answer with H hung (H's package gone from the view after $(($(now_ms) - t0)) ms)"
	touch "$T/stop-reader"
	wait "$READER" "$HEARTBEAT"
	[ ! -s "$T/reader" ] || fail "hang: reading C's file while H hung: $(cat "$T/reader")"
	# each read's time less the machine's gaps within it: the slowest read by the view's own
	# time (its own, its whole and its paused ms), and the slowest read's whole time
	reader=$(touch "$T/gaps" && python3 -c "import sys
gaps=[tuple(map(int, l.split())) for l in open(sys.argv[2])]
own=(0, 0, 0)
raw=0
for l in open(sys.argv[1]):
    a, b = map(int, l.split())
    paused = sum(max(0, min(b, e) - max(a, s)) for s, e in gaps)
    own = max(own, (b - a - paused, b - a, paused))
    raw = max(raw, b - a)
print(*own, raw)" "$T/reads" "$T/gaps") || fail "hang: no read of C's file recorded"
	read -r own whole paused raw <<<"$reader"
	[ "$own" -lt 2500 ] ||
		fail "hang: reading C's file while H hung took $own ms of the view's own time ($whole ms, $paused ms of it with every process paused)"
	ok "hang: C's file read all along ($(wc -l <"$T/reads") reads), the slowest $raw ms; by the view's own time $own ms (machine paused $(wc -l <"$T/gaps") times)"
	echo ok >"$CTL"
	took=$(wait_status 15 "d['H']['state'] == 'online' and d['H']['in_view'] and s['healthy']") ||
		fail "hang: 15 s after H answered again it is not back: $(st "d['H']['state'], d['H']['reason']")"
	timeout 5 ls "$V" | grep -qx PKGH0001 || fail "hang: H's package not in the view after H came back"
	ok "hang: H back in the view $took ms after it answered again"
	view_stop
fi

# ---- eio -------------------------------------------------------------------------------------
if [ -z "$ONLY" ] || [ "$ONLY" = eio ]; then
	truncate -s 64M "$T/e.img" && mkfs.ext4 -q -F "$T/e.img" || fail "eio: mkfs.ext4"
	loop_attach "$T/e.img"
	mount "$LOOP" "$T/e" || fail "eio: cannot mount $LOOP"
	mkdir -p "$T/e/$IMG/PKGE0001" && echo "E's file" >"$T/e/$IMG/PKGE0001/e.txt"
	rm -f "$T"/run/*.json
	drive_sections DRIVES "E:$T/e:30" "C:$T/c:10"
	dh_start "$DRIVES"
	[ "$(st "s['view']['view']['primary']")" = E ] || fail "eio: E is not primary at start"
	echo before >"$V/PKGE0001/before.txt" && [ -f "$T/e/$IMG/PKGE0001/before.txt" ] ||
		fail "eio: a create before the shutdown did not land on E"
	python3 -c "import fcntl,os,struct,sys
fd=os.open(sys.argv[1], os.O_RDONLY); fcntl.ioctl(fd, 0x8004587d, struct.pack('I', 2))" "$T/e" ||
		fail "eio: cannot shut E down (EXT4_IOC_SHUTDOWN)"
	touch "$T/e/probe" 2>/dev/null && fail "eio: E still takes creates after the shutdown"
	took=$(wait_status 15 "d['E']['state'] == 'unavailable' and s['view']['view']['primary'] == 'C' and not s['healthy']") ||
		fail "eio: 15 s after E failed, the status does not say E is unavailable with C primary: $(st "d['E']['state'], d['E']['reason'], s['view']['view']['primary']")"
	ok "eio: E marked unavailable $took ms after it was shut down ($(st "d['E']['reason']")), C primary, degraded"
	mkdir -p "$V/PKGC0002" 2>/dev/null && echo after >"$V/PKGC0002/after.txt" 2>/dev/null ||
		fail "eio: a create through the view fails with E shut down and C writable"
	[ "$(cat "$C/PKGC0002/after.txt" 2>/dev/null)" = after ] || fail "eio: the create did not land on C"
	ok "eio: creates go to C"
	view_stop
fi
echo "drive_health: all checks passed"
