#!/bin/bash
# launch_modes.sh -- the view behaves the same in every launch mode (SPEC section 10):
#
#   foreground  pxeimagesfs mount -f -c FILE           (in the background of this script)
#   daemon      pxeimagesfs mount -c FILE              (daemonizes once mounted)
#   fstab       mount -t fuse.pxeimagesfs -o config=FILE,allow_other none MP
#               (mount(8) -> mount.fuse3 -> "pxeimagesfs none MP -o ...", daemonizes)
#   systemd     packaging/systemd/pxeimagesfs.service started by systemd as PID 1 in a container
#               (tests/harness/systemd_container.sh; ExecStart runs `mount -f`, Type=notify)
#
# In each mode the shared checks of view_checks.sh run on the mounted view (nosuid,nodev in
# mountinfo; a file created on the drive directly shows in the view; create and read through
# it). In the first three modes also: the mount command exits non-zero, with nothing mounted and
# no daemon left, when the kernel's INIT fails (-o max_read=65536, which libfuse refuses at
# INIT), and the mount command returns only once the view answers (a stat right after it).
# The host modes run in a private mount namespace (unshare) where a directory holding a
# `pxeimagesfs` symlink is bind-mounted over /usr/local/sbin, as tests/integration/fstab.sh
# does: mount(8) runs its helpers with /bin/sh's default PATH.
# Usage: launch_modes.sh PXEIMAGESFS_BINARY UNIT_FILE. Needs root, /dev/fuse, util-linux,
# fuse3, systemd and systemd-container. Exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
# shellcheck disable=SC2317 # functions called from traps
set -u
BIN=${1:?usage: launch_modes.sh PXEIMAGESFS_BINARY UNIT_FILE}
UNIT=${2:?usage: launch_modes.sh PXEIMAGESFS_BINARY UNIT_FILE}
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECKS=$HERE/view_checks.sh

. "$HERE/lib.sh" # fail, need, ok
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# alive PID: running (a zombie waiting for its reaper is not)
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}
# pids of pxeimagesfs processes (the binary under test) whose command line names $CONF
our_daemons() {
	local p
	for p in /proc/[0-9]*; do
		[ "$p/exe" -ef "$BIN" ] || continue # the same file (stat, no fork per process)
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -e "config=$CONF" -e "$CONF" &&
			echo "${p#/proc/}"
	done
}
wait_gone() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do alive "$1" || return 0; sleep 0.05; done
	! alive "$1"
}

# ---- outside: prerequisites, the host modes in a private mount namespace, then systemd ------------
if [ -z "${PXE_LM_INNER:-}" ]; then
	need_root_fuse
	need_tools mount:mount umount:mount unshare:util-linux mount.fuse3:fuse3 timeout:coreutils \
		awk:mawk
	[ -x "$BIN" ] || fail "$BIN: not an executable"
	[ -r "$UNIT" ] || fail "$UNIT: cannot read the unit"
	BIN=$(readlink -f "$BIN")
	unshare --mount --propagation private true 2>/dev/null ||
		need "cannot create a mount namespace (unshare --mount: $(unshare --mount true 2>&1))"
	# shellcheck source=../harness/systemd_container.sh
	. "$HERE/../harness/systemd_container.sh" || fail "cannot load the harness"
	sdc_available || need "cannot run systemd in a container here: $SDC_WHY"

	T=$(mktemp -d /tmp/pxeimagesfs-launch.XXXXXX) || fail "mktemp"
	CONF=$T/pxe.conf
	SVC=pxeimagesfs.service
	outer_cleanup() {
		local rc=$? pid
		if [ "$rc" != 0 ] && [ -n "$SDC_PID1" ]; then
			sdc_exec journalctl --no-pager -o short-monotonic -u "$SVC" 2>&1 | tail -n 30 >&2
		fi
		sdc_stop
		for pid in $(our_daemons); do
			echo "warning: killing leftover daemon $pid" >&2
			kill -KILL "$pid" 2>/dev/null
			wait_gone "$pid" 5
		done
		rm -rf --one-file-system "$T"
		exit "$rc"
	}
	trap outer_cleanup EXIT
	trap 'exit 143' TERM INT

	PXE_LM_INNER=$T unshare --mount --propagation private -- "$BASH" "$0" "$BIN" "$UNIT" ||
		exit $?

	# -- systemd: the unit as shipped, the drive a tmpfs inside the container
	S=$T/staging
	IMGS=/srv/drives/c/RemoteInstall/SMSImages/SMSPKG
	mkdir -p "$S/usr/bin" "$S/usr/local/lib/pxe-test" "$S/etc/systemd/system/$SVC.d" \
		"$S/etc/pxeimagesfs" "$S/srv/drives/c" || fail "mkdir staging"
	cp "$BIN" "$S/usr/bin/pxeimagesfs" && cp "$UNIT" "$S/etc/systemd/system/$SVC" &&
		cp "$CHECKS" "$S/usr/local/lib/pxe-test/view_checks.sh" || fail "staging the files"
	{
		echo "[Service]"
		echo "RestartSec=1"
		if grep -qa __asan_init "$BIN"; then echo "Environment=ASAN_OPTIONS=detect_leaks=0"; fi
	} >"$S/etc/systemd/system/$SVC.d/50-test.conf"
	printf '[global]\n    mount timeout = 0\n    rescan interval = 1h\n[drive:C]\n    path = /srv/drives/c\n[share]\n    samba = none\n' \
		>"$S/etc/pxeimagesfs/pxeimagesfs.conf"
	sdc_start "$S" 60 || need "cannot boot systemd in a container here: $SDC_ERROR"
	sdc_exec sh -ec "mount -t tmpfs -o size=16m,mode=755 drive-c /srv/drives/c; mkdir -p $IMGS" ||
		fail "systemd: mounting the drive inside"
	t0=$(now_ms)
	out=$(sdc_exec timeout 60 systemctl start "$SVC" 2>&1) || fail "systemd: systemctl start: $out"
	# Type=notify: start returned after READY=1, which must come after INIT: the view answers
	sdc_exec timeout 5 stat -f /srv/pxeimages >/dev/null 2>&1 ||
		fail "systemd: the view does not answer right after systemctl start returned"
	echo "# systemd: started in $(($(now_ms) - t0)) ms"
	sdc_exec bash /usr/local/lib/pxe-test/view_checks.sh /srv/pxeimages "$IMGS" systemd ||
		fail "systemd: the view checks failed"
	out=$(sdc_exec timeout 30 systemctl stop "$SVC" 2>&1) || fail "systemd: systemctl stop: $out"
	echo "launch_modes: all checks passed"
	exit 0
fi

# ---- inside the private mount namespace: foreground, daemon, fstab -------------------------------
T=$PXE_LM_INNER
CONF=$T/pxe.conf
MP=$T/view
IMGS=$T/c/RemoteInstall/SMSImages/SMSPKG
views_at() { awk -v mp="$MP" '$5 == mp && / - fuse\.pxeimagesfs / { n++ } END { print n + 0 }' /proc/self/mountinfo; }

cleanup() {
	local rc=$? pid
	for pid in $(our_daemons); do kill -TERM "$pid" 2>/dev/null; done
	while [ "$(views_at)" != 0 ]; do umount "$MP" 2>/dev/null || umount -l "$MP" || break; done
	for pid in $(our_daemons); do wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null; done
	grep -q " $T/c " /proc/self/mountinfo && umount -l "$T/c"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

SBIN=/usr/local/sbin
[ -d "$SBIN" ] || SBIN=/usr/local/bin
mkdir -p "$T/sbin" "$T/c" "$T/run" "$T/state" "$MP" || fail "mkdir under $T"
chmod 755 "$T"
ln -s "$BIN" "$T/sbin/pxeimagesfs" || fail "symlink"
mount --bind "$T/sbin" "$SBIN" || need "cannot bind-mount $T/sbin over $SBIN in a private namespace"
mount -t tmpfs -o size=16m,mode=755 pxe-lm-c "$T/c" || need "cannot mount tmpfs"
mkdir -p "$IMGS/PKG00001" && echo boot >"$IMGS/PKG00001/boot.wim" || fail "the fixture"
cat >"$CONF" <<CONF || fail "writing $CONF"
# launch_modes.sh: one tmpfs drive, no share
[global]
    mountpoint = $MP
    state directory = $T/state
    run directory = $T/run
    mount timeout = 0
    rescan interval = 1h
[drive:C]
    path = $T/c
[share]
    samba = none
CONF

# start MODE [EXTRA -o OPTIONS]: mount the view in MODE; RC = the mount command's exit status
# (foreground: 0 while it runs with the view mounted)
start() {
	local mode=$1 o=${2:-} rc i
	case $mode in
	foreground)
		if [ -n "$o" ]; then # expected to fail: it must end by itself
			timeout 10 "$BIN" mount -f -c "$CONF" -o "$o" >"$T/fg.log" 2>&1
			RC=$?
			return
		fi
		"$BIN" mount -f -c "$CONF" >"$T/fg.log" 2>&1 &
		FG=$!
		for ((i = 0; i < 200; i++)); do
			[ "$(views_at)" = 1 ] && break
			alive "$FG" || break
			sleep 0.05
		done
		if alive "$FG"; then rc=0; else wait "$FG"; rc=$?; fi
		;;
	daemon) timeout 30 "$BIN" mount -c "$CONF" ${o:+-o "$o"} >"$T/mount.out" 2>&1; rc=$? ;;
	fstab) timeout 30 mount -t fuse.pxeimagesfs -o "config=$CONF,allow_other${o:+,$o}" none "$MP" \
		>"$T/mount.out" 2>&1; rc=$? ;;
	esac
	RC=$rc
}
stop() {
	local pid p
	pid=$(our_daemons)
	if [ "$1" = foreground ]; then kill -TERM "$FG"; else timeout 20 umount "$MP" || fail "$1: umount"; fi
	for p in $pid; do wait_gone "$p" 10 || fail "$1: the daemon ($p) still runs 10 s after the stop"; done
	[ "$(views_at)" = 0 ] || fail "$1: still mounted after the stop"
}

for mode in foreground daemon fstab; do
	# a failing INIT: non-zero exit, nothing mounted, no daemon
	t0=$(now_ms)
	start "$mode" max_read=65536
	rc=$RC
	left=$(views_at)
	pids=$(our_daemons)
	[ "$rc" != 0 ] || fail "$mode: a mount whose INIT fails (-o max_read=65536) exited 0 (mounted: $left, daemons: '$pids')"
	[ "$left" = 0 ] || fail "$mode: a mount whose INIT fails left $left view(s) mounted"
	[ -z "$pids" ] || fail "$mode: a mount whose INIT fails left daemon(s) $pids running"
	ok "$mode: a mount whose INIT fails exits $rc after $(($(now_ms) - t0)) ms, nothing mounted, no daemon left"

	t0=$(now_ms)
	start "$mode"
	rc=$RC
	[ "$rc" = 0 ] || fail "$mode: the mount exited $rc: $(cat "$T/mount.out" "$T/fg.log" 2>/dev/null | tail -5)"
	if [ "$mode" != foreground ]; then
		# returned only once the view answers: a stat right away must not fail
		timeout 5 stat -f "$MP" >/dev/null 2>&1 && timeout 5 stat "$IMGS" >/dev/null &&
			[ "$(timeout 5 cat "$MP/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.wim" 2>/dev/null)" = boot ] ||
			fail "$mode: the view does not answer right after the mount command returned"
	fi
	ok "$mode: mounted after $(($(now_ms) - t0)) ms ($(our_daemons | wc -w) daemon)"
	bash "$CHECKS" "$MP" "$IMGS" "$mode" || fail "$mode: the view checks failed"
	for p in $(our_daemons); do
		bad=$(threads_take_stop_signals "$p")
		[ -z "$bad" ] || fail "$mode: threads of the daemon that can take SIGTERM/SIGINT (a stop would wait for the next request): $bad"
	done
	ok "$mode: only the daemon's main thread takes SIGTERM and SIGINT"
	stop "$mode"
done
echo "# host modes: all checks passed"
