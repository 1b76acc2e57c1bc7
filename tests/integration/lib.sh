#!/bin/bash
# lib.sh -- helpers the integration scripts source: how a check fails, skips or passes.
# A missing prerequisite skips (exit 77, ctest's SKIP_RETURN_CODE) except under CI=true, where
# it fails: CI must run every integration test.

fail() { echo "FAIL: $*" >&2; exit 1; }
need() {
	if [ "${CI:-}" = true ]; then fail "$* (CI=true: a missing prerequisite is a failure)"; fi
	echo "SKIPPED: $*" >&2; exit 77
}
ok() { echo "ok - $*"; }

# need_root_fuse -- root (to mount tmpfs and FUSE) and /dev/fuse
need_root_fuse() {
	[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs and FUSE"
	[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
}

# need_tools TOOL:PACKAGE... -- each TOOL on PATH, else need() naming its Debian package
need_tools() {
	local tool
	for tool in "$@"; do
		command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
	done
}

# Two tmpfs drives and a view, for the scripts that need nothing more:
# view_sandbox NAME -- T (mktemp -d), IMG, V (the view's images folder), C and D (the drives'),
# tmpfs mounted at $T/c and $T/d, everything undone at exit.
view_sandbox() {
	T=$(mktemp -d "/tmp/pxeimagesfs-$1.XXXXXX") || fail "mktemp"
	IMG=RemoteInstall/SMSImages/SMSPKG
	V=$T/view/$IMG C=$T/c/$IMG D=$T/d/$IMG
	VIEW_PID=
	trap view_cleanup EXIT
	mkdir -p "$T/c" "$T/d" "$T/view" || fail "mkdir"
	mount -t tmpfs -o size=256m pxe-c "$T/c" && mount -t tmpfs -o size=256m pxe-d "$T/d" ||
		fail "cannot mount tmpfs"
	mkdir -p "$C" "$D"
}
view_cleanup() {
	local m
	[ -n "$VIEW_PID" ] && view_stop
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -u "$T/view" 2>/dev/null
	for m in "$T/c" "$T/d"; do grep -q " $m " /proc/self/mountinfo && umount "$m"; done
	rm -rf "$T"
}
# view_start BIN DRIVE_SECTIONS [GLOBAL_LINES [ENV=VALUE...]] -- mount -f in the background, in
# the environment's passthrough mode (tests/run.sh runs the suite once with
# PXEIMAGESFS_PASSTHROUGH=no) unless ENV says otherwise (a test of both modes passes
# PXEIMAGESFS_PASSTHROUGH=yes for "as the kernel offers it"); waits up to 10 s for the mount and
# its status file
view_start() {
	local bin=$1 drives=$2 extra=${3:-} i
	shift 3 2>/dev/null || shift $#
	cat >"$T/pxe.conf" <<CONF
[global]
    mountpoint = $T/view
    mode = union
    state directory = $T/state
    run directory = $T/run
    rescan interval = 0
$extra
$drives
[share]
    samba = none
CONF
	env "$@" "$bin" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
	VIEW_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q " $T/view .* - fuse.pxeimagesfs " /proc/self/mountinfo &&
			[ -n "$(view_status_file)" ] && return 0
		kill -0 "$VIEW_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/log" >&2
	fail "the view did not mount"
}
view_stop() {
	kill "$VIEW_PID" 2>/dev/null
	timeout 10 tail --pid="$VIEW_PID" -f /dev/null || {
		local t
		for t in /proc/"$VIEW_PID"/task/*; do
			echo "# thread ${t##*/} $(cat "$t/comm" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null): $(tr '\n' ' ' <"$t/stack" 2>/dev/null | cut -c1-300)" >&2
		done
		fail "mount -f still running 10 s after SIGTERM"
	}
	VIEW_PID=
}
# threads_take_stop_signals PID -- prints the threads of PID, other than its main thread, that
# do not block SIGINT and SIGTERM. libfuse's handler runs in whichever thread the kernel picks
# and only the main thread's wait is woken by it: a stop signal taken by another thread leaves
# the daemon running until the next FUSE request.
threads_take_stop_signals() {
	local t blk
	for t in /proc/"$1"/task/*; do
		[ "${t##*/}" = "$1" ] && continue
		blk=$(awk '/^SigBlk:/ { print $2 }' "$t/status" 2>/dev/null) || continue
		[ -n "$blk" ] || continue
		(((0x$blk & 0x4002) == 0x4002)) || echo "${t##*/}($(cat "$t/comm" 2>/dev/null))"
	done
}
view_status_file() { ls "$T"/run/*.json 2>/dev/null | head -1; }
# view_status EXPR -- a fresh status file (SIGUSR1 rewrites it), then the Python expression
# EXPR over it as `s`
view_status() {
	local f i
	f=$(view_status_file)
	rm -f "$f"
	kill -USR1 "$VIEW_PID"
	for ((i = 0; i < 100; i++)); do [ -f "$f" ] && break; sleep 0.02; done
	python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($1)" "$f"
}
