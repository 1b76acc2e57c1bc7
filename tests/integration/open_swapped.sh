#!/bin/bash
# open_swapped.sh -- a drive file that becomes a FIFO or a device node after the kernel looked
# it up (the view said: regular file) is refused at OPEN, never opened by the daemon: a FIFO's
# open would block the daemon's thread until a writer came (for ever), a device's would reach
# its driver. For each data path (kernel passthrough on and off, lib.sh both_modes): stat a
# file through the view, swap it on the drive (mkfifo or mknod, then rename over it) and open it
# through the view at once, for reading and for writing, within 5 s each: the open must fail with EIO,
# the next stat must show what the drive holds, and the daemon must still answer for another
# file and keep an open handle of the old file working. Needs root, /dev/fuse, python3;
# exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: open_swapped.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox, both_modes

need_root_fuse
need_tools python3:python3 timeout:coreutils mkfifo:coreutils mknod:coreutils fusermount3:fuse3

view_sandbox open-swapped
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
OPEN_S=5 # an open through the view answers within this
ROUNDS=12 # swaps per kind and open mode until one reaches the daemon (the folder watch often
         # tells the kernel first)

# swap_open NAME KIND MODE -- NAME (looked up through the view as a regular file) becomes a
# fifo or a char device (1,3: /dev/null) on drive D by a rename over it, and is opened through
# the view for reading (r) or writing (w: O_APPEND) at once, by the same process (before the
# folder watch can tell the kernel). Prints how the open answered within OPEN_S seconds: ok,
# EIO, EACCES, another errno's name; when it did not answer, where it waits: "daemon" (a thread
# of the daemon waits in a FIFO's open: the bug), "fifo" (the opener waits in the kernel's own
# FIFO of the view: the watch told the kernel first; POSIX open of a FIFO), or "hang"
swap_open() {
	local pid i t err
	rm -f "$D/.swap"
	case $2 in
	fifo) mkfifo "$D/.swap" ;;
	char) mknod "$D/.swap" c 1 3 ;;
	esac || fail "cannot make the $2"
	python3 - "$D/.swap" "$D/$1" "$V/$1" "$3" >"$T/open.out" 2>&1 <<'PY' &
import errno, os, sys
os.rename(sys.argv[1], sys.argv[2])
try:
    os.close(os.open(sys.argv[3], os.O_RDONLY if sys.argv[4] == "r" else os.O_WRONLY | os.O_APPEND))
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
	pid=$!
	for ((i = 0; i < OPEN_S * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		# waiting in the kernel's own FIFO of the view (the watch told the kernel first): known
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

check() {
	MODE=$1
	shift
	local kind how name got round e0 refused=0 known=0 i
	view_start "$BIN" "$DRIVES" "" "$@"
	echo other >"$D/other.wim" && echo held >"$D/held.wim" || fail "cannot write on D"
	exec 3<"$V/held.wim" || fail "$MODE: cannot open held.wim through the view"
	for kind in fifo char; do
		for how in r w; do
			for ((round = 1; round <= ROUNDS; round++)); do
				name=$kind-$how-$round.wim
				echo data >"$D/$name" || fail "cannot write $name"
				[ "$(stat -c %F "$V/$name")" = "regular file" ] ||
					fail "$MODE: $name is not a regular file in the view"
				e0=$(errors)
				got=$(swap_open "$name" "$kind" "$how")
				case $kind:$got in
				*:EIO) [ "$(errors)" -gt "$e0" ] && refused=$((refused + 1)) && round=$ROUNDS ;;
				fifo:fifo | char:EACCES) known=$((known + 1)) ;; # the kernel knew the new type first
				*:daemon) fail "$MODE: an open ($how) of $name, a $kind now, blocks a daemon thread in the FIFO's open" ;;
				*:hang) fail "$MODE: an open ($how) of $name, a $kind now, did not answer in ${OPEN_S} s" ;;
				*) fail "$MODE: an open ($how) of $name, a $kind now, answered $got, not EIO" ;;
				esac
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
	# at least one open reached the daemon before the folder watch told the kernel (else the
	# kernel's own GETATTR found the new type and answered EIO itself: not the case tested)
	[ $refused -ge 1 ] || fail "$MODE: no open of $((4 * ROUNDS)) reached the daemon"
	ok "$MODE: opens of files swapped for a fifo or char device: EIO at once ($refused refused by the daemon, the rest by the kernel; the view knew the new type first $known times), then the view showed the new type"
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
