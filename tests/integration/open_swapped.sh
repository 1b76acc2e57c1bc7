#!/bin/bash
# open_swapped.sh -- a drive file that becomes a FIFO or a device node after the kernel looked
# it up (the view said: regular file) is refused at OPEN, never opened by the daemon: a FIFO's
# open would block the daemon's thread until a writer came (for ever), a device's would reach
# its driver. Drive D is a FUSE filesystem (passfs over a tmpfs): the view does not watch the
# folders of such a drive (inotify does not see all its changes), so the kernel keeps the
# view's entry for its short timeout (1 s) and an open (or a truncate by path: the daemon opens
# the drive file to change its size) right after the swap reaches the daemon
# in every round (with a watched drive the watch told the kernel first, and the kernel
# answered the open itself). For each data path (kernel passthrough on and off, lib.sh
# both_modes): look a file up through the view, swap it on the tmpfs under D (mkfifo or mknod,
# then rename over it) and open it through the view at once, for reading and for writing,
# within 5 s each: the daemon must answer EIO (its error count grows) without opening the
# FIFO or device (an inotify IN_OPEN watch on it, as the drive shows it), the next stat must
# show what the drive holds, and the daemon must still answer for another file and keep an
# open handle of the old file working. Needs root, /dev/fuse, python3; exit 77 = skipped (a
# failure under CI=true).
set -u
BIN=${1:?usage: open_swapped.sh PXEIMAGESFS_BINARY PASSFS_BINARY}
PASSFS=${2:?usage: open_swapped.sh PXEIMAGESFS_BINARY PASSFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox, both_modes

need_root_fuse
need_tools python3:python3 timeout:coreutils mkfifo:coreutils mknod:coreutils fusermount3:fuse3

view_sandbox open-swapped
# D's files are written and swapped on the tmpfs at $T/d; the view reads them through passfs
# at $T/f (dev: a device node there opens as one, as on a drive mounted with dev)
PASSFS_PID=
passfs_cleanup() {
	view_stop_or_kill
	if grep -q " $T/f " /proc/self/mountinfo; then
		fusermount3 -u "$T/f" 2>/dev/null || fusermount3 -uz "$T/f"
	fi
	[ -z "$PASSFS_PID" ] || stop_pid "$PASSFS_PID"
	view_cleanup
}
trap passfs_cleanup EXIT
mkdir -p "$T/f" || fail "mkdir"
"$PASSFS" "$T/d" "$T/f" -f -o dev,fsname=passfs,subtype=passfs >"$T/passfs.log" 2>&1 &
PASSFS_PID=$!
for ((i = 0; i < 200; i++)); do
	[ "$(mounts_at "$T/f" | cut -d' ' -f1)" = fuse.passfs ] && break
	kill -0 "$PASSFS_PID" 2>/dev/null || break
	sleep 0.05
done
[ "$(mounts_at "$T/f" | cut -d' ' -f1)" = fuse.passfs ] || fail "passfs did not mount: $(cat "$T/passfs.log")"
drive_sections DRIVES "C:$T/c:10" "D:$T/f:20"
OPEN_S=5  # an open through the view answers within this
ROUNDS=4  # swaps per kind and open mode; every one must reach the daemon
[ "${PXE_TEST_SHORT:-}" = 1 ] && ROUNDS=2 # tests/run.sh's later runs
SLOW_S=0.5 # a round whose open came this long after its lookup is done again (at most
           # twice): the kernel's entry (1 s) may have ended, and its own lookup answered

# swap_open NAME KIND MODE -- looks NAME up through the view (it must be a regular file),
# makes it a fifo or a char device (1,3: /dev/null) on the tmpfs under drive D by a rename
# over it, and opens it through the view for reading (r) or writing (w: O_APPEND), or
# truncates it by its path (t: a SETATTR of its size, no open), at once, in one process. Prints how the open answered within OPEN_S seconds: ok, EIO, EACCES, another
# errno's name, "notreg" (the lookup did not find a regular file) or "slow" (the open came
# SLOW_S or more after the lookup, and did not answer EIO); when it did not answer, where it
# waits: "daemon" (a thread of the daemon waits in a FIFO's open: the bug), "fifo" (the opener
# waits in the kernel's own FIFO of the view: the kernel knew the new type; POSIX open of a
# FIFO), or "hang"
swap_open() {
	local pid i t err
	rm -f "$D/.swap"
	case $2 in
	fifo) mkfifo "$D/.swap" ;;
	char) mknod "$D/.swap" c 1 3 ;;
	esac || fail "cannot make the $2"
	python3 - "$D/.swap" "$D/$1" "$V/$1" "$3" "$SLOW_S" "$T/f/$IMG/$1" >"$T/open.out" 2>&1 <<'PY' &
import ctypes, errno, os, stat, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if not stat.S_ISREG(os.stat(sys.argv[3]).st_mode):
    print("notreg")
    sys.exit()
looked = time.monotonic()
os.rename(sys.argv[1], sys.argv[2])
# the object as the daemon finds it (through passfs): does anyone open it? (IN_OPEN = 0x20)
ino = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
if ino < 0 or libc.inotify_add_watch(ino, sys.argv[6].encode(), 0x20) < 0:
    print("nowatch", os.strerror(ctypes.get_errno()))
    sys.exit()
slow = time.monotonic() - looked >= float(sys.argv[5])
def opened():
    try:
        return len(os.read(ino, 4096)) > 0
    except BlockingIOError:
        return False
try:
    if sys.argv[4] == "t":
        os.truncate(sys.argv[3], 0)
    else:
        os.close(os.open(sys.argv[3], os.O_RDONLY if sys.argv[4] == "r" else os.O_WRONLY | os.O_APPEND))
    got = "ok"
except OSError as e:
    got = errno.errorcode.get(e.errno, str(e.errno))
if got == "EIO" and opened():
    got = "opened" # refused, but only after the daemon had opened the FIFO or device
print("slow" if slow and got != "EIO" else got)
PY
	pid=$!
	for ((i = 0; i < OPEN_S * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		grep -q fifo_open "/proc/$pid/stack" 2>/dev/null && break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		err=hang
		grep -q fifo_open "/proc/$pid/stack" 2>/dev/null && err=fifo
		for t in /proc/"$VIEW_PID"/task/*; do
			grep -q fifo_open "$t/stack" 2>/dev/null && err=daemon
		done
		[ $err = fifo ] || echo "# the opener waits in: $(tr '\n' ' ' <"/proc/$pid/stack" 2>/dev/null | cut -c1-200)" >&2
		kill -KILL "$pid" 2>/dev/null
		echo $err
		return
	fi
	wait "$pid"
	cat "$T/open.out"
}

# errors -- the daemon's count of requests it answered with an error (EIO among them)
errors() { view_status "s['counters']['errors']"; }

# data_path -- which data path the view's files took: the kernel's passthrough (held.wim, open
# through the view, was passed through) or the daemon
data_path() {
	if [ "$(view_status "s['counters']['passthrough_opens']")" -gt 0 ]; then
		echo "kernel passthrough (backing files on the FUSE drive)"
	elif [ "$(view_status "s['passthrough']['active']")" = True ]; then
		echo "served by the daemon (the kernel did not take a FUSE drive's file as a backing file)"
	else
		echo "served by the daemon (passthrough: $(view_status "s['passthrough'].get('reason')"))"
	fi
}

check() {
	MODE=$1
	shift
	local kind how name got round e0 refused=0 slow=0 tries i path
	view_start "$BIN" "$DRIVES" "" "$@"
	[ "$(view_status "[d['fstype'] for d in s['view']['drives'] if d['name'] == 'D'][0]")" = fuse.passfs ] ||
		fail "$MODE: the view does not have D as a FUSE drive: $(view_status "s['view']['drives']")"
	echo other >"$D/other.wim" && echo held >"$D/held.wim" || fail "cannot write on D"
	exec 3<"$V/held.wim" || fail "$MODE: cannot open held.wim through the view"
	path=$(data_path)
	for kind in fifo char; do
		for how in r w t; do
			for ((round = 1; round <= ROUNDS; round++)); do
				for ((tries = 1; tries <= 3; tries++)); do
					name=$kind-$how-$round-$tries.wim
					echo data >"$D/$name" || fail "cannot write $name"
					e0=$(errors)
					got=$(swap_open "$name" "$kind" "$how")
					[ "$got" = slow ] || break
					slow=$((slow + 1))
				done
				case $got in
				EIO) [ "$(errors)" -gt "$e0" ] ||
					fail "$MODE: an open ($how) of $name, a $kind now, was refused (EIO) by the kernel, not the daemon" ;;
				notreg) fail "$MODE: $name is not a regular file in the view before the swap" ;;
				opened) fail "$MODE: an open ($how) of $name, a $kind now, was refused (EIO), but only after the daemon opened the $kind (a device's open reaches its driver)" ;;
				nowatch*) fail "$MODE: cannot watch $name on the drive: $got" ;;
				slow) fail "$MODE: the open ($how) of $name came ${SLOW_S} s or more after its lookup 3 times (machine too slow)" ;;
				fifo | EACCES) fail "$MODE: an open ($how) of $name, a $kind now, did not reach the daemon: the kernel knew the new type ($got)" ;;
				daemon) fail "$MODE: an open ($how) of $name, a $kind now, blocks a daemon thread in the FIFO's open" ;;
				hang) fail "$MODE: an open ($how) of $name, a $kind now, did not answer in ${OPEN_S} s" ;;
				*) fail "$MODE: an open ($how) of $name, a $kind now, answered $got, not EIO" ;;
				esac
				refused=$((refused + 1))
				[ "$(timeout "$OPEN_S" cat "$V/other.wim")" = other ] ||
					fail "$MODE: the daemon no longer answers for other.wim after the $kind open"
				got=$(timeout "$OPEN_S" stat -c %F "$V/$name")
				case $kind:$got in
				fifo:fifo | "char:character special file") ;;
				*) fail "$MODE: $name is a $kind on the drive, but the view says '$got' after the open" ;;
				esac
			done
		done
	done
	ok "$MODE: data path: $path; all $refused opens and truncates of files swapped for a fifo or char device reached the daemon and were refused (EIO) at once ($slow rounds done again: slow), then the view showed the new type"
	[ "$(python3 -c 'import os; print(os.pread(3, 64, 0).decode().strip())')" = held ] ||
		fail "$MODE: an open handle stopped reading its file"
	exec 3<&-
	# the kernel sends RELEASE in the background: wait until the daemon let go of held.wim's
	# descriptor, or a stop right away would leave its handle unreleased (LeakSanitizer says so)
	for ((i = 0; i < 100; i++)); do
		ls -l "/proc/$VIEW_PID/fd" 2>/dev/null | grep -q '/held\.wim$' || break
		sleep 0.05
	done
	stop_checked
	rm -f "$D"/*.wim
	ok "$MODE: the daemon answered throughout and stopped cleanly"
}

both_modes check
