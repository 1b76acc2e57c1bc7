#!/bin/bash
# io_uring.sh -- FUSE over io_uring as the view's transport (issue 18), and its fallback.
# Sets /sys/module/fuse/parameters/enable_uring to Y (the original value is put back at exit)
# and mounts a view with `fuse transport = io_uring`: status says io_uring, the daemon holds
# io_uring file descriptors and its ring threads block the stop signals (else SIGTERM taken by
# one leaves the daemon running); lookups, listing, create/write/read back, rename, unlink and
# 8 parallel readers (daemon-served reads: passthrough off) are right; SIGTERM stops it. Then
# `-o io_uring` in the foreground, ended by umount; the daemonized mount (it forks before INIT,
# the rings live in the daemon), ended by SIGTERM; enable_uring = N: one line says what to do,
# the view serves on /dev/fuse; no io_uring asked for: /dev/fuse, no reason given.
# A build against libfuse older than 3.18 (-DPXE_LIBFUSE=system) checks only that it refuses
# io_uring with a clear line and serves on /dev/fuse. Needs root, /dev/fuse, python3 and a
# kernel with FUSE over io_uring (Linux 6.14+); exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: io_uring.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

PARAM=/sys/module/fuse/parameters/enable_uring
need_root_fuse
need_tools python3:python3 sha256sum:coreutils timeout:coreutils fusermount3:fuse3
[ -e "$PARAM" ] || need "the kernel has no FUSE over io_uring ($PARAM is missing: Linux 6.14+)"
BUILT_IN=yes
"$BIN" --version | grep -q 'FUSE over io_uring: built in' || BUILT_IN=no

ORIG=$(cat "$PARAM") || fail "cannot read $PARAM"
view_sandbox uring
restore() { echo "$ORIG" >"$PARAM" || echo "FAIL: cannot put $ORIG back into $PARAM" >&2; }
trap 'view_cleanup; restore' EXIT
echo Y >"$PARAM" || need "cannot write $PARAM"

head -c 16M /dev/urandom >"$C/boot.wim"
SUM=$(sha256sum <"$C/boot.wim")
mkdir -p "$D/pkg"
for i in $(seq 1 50); do echo "file $i" >"$D/pkg/f$i.txt"; done
drive_sections DRIVES "C:$T/c:10:ro" "D:$T/d:20"

# rings PID -- the io_uring file descriptors of PID
rings() { ls -l /proc/"$1"/fd 2>/dev/null | grep -c 'anon_inode:\[io_uring\]'; }
# on_uring WHAT PID -- status, file descriptors and the ring threads' signal masks say io_uring
on_uring() {
	local name n bad
	name=$(view_status 's["transport"]["name"]')
	[ "$name" = io_uring ] || fail "$1: transport is $name: $(view_status 's["transport"]'); log: $(cat "$T/log")"
	n=$(rings "$2")
	[ "$n" -ge 1 ] || fail "$1: status says io_uring, but the daemon holds no io_uring fd"
	grep -q '^fuse-ring' /proc/"$2"/task/*/comm || fail "$1: no fuse-ring thread"
	bad=$(threads_take_stop_signals "$2")
	[ -z "$bad" ] || fail "$1: threads that take SIGTERM/SIGINT: $bad"
	ok "$1: transport io_uring ($n io_uring fds, ring threads block the stop signals)"
}

# work -- real requests through the view
work() {
	local i pids=() n
	stat "$V/boot.wim" >/dev/null && [ -d "$V/pkg" ] || fail "lookups"
	n=$(ls "$V/pkg" | wc -l)
	[ "$n" = 50 ] || fail "listing: $n names in pkg, not 50"
	head -c 3M /dev/urandom >"$T/w.bin"
	cp "$T/w.bin" "$V/new.bin" || fail "create/write"
	cmp -s "$T/w.bin" "$V/new.bin" && cmp -s "$T/w.bin" "$D/new.bin" || fail "read back"
	mv "$V/new.bin" "$V/pkg/moved.bin" && [ ! -e "$V/new.bin" ] && cmp -s "$T/w.bin" "$V/pkg/moved.bin" ||
		fail "rename"
	rm "$V/pkg/moved.bin" && [ ! -e "$V/pkg/moved.bin" ] && [ ! -e "$D/pkg/moved.bin" ] || fail "unlink"
	for i in $(seq 1 8); do
		(timeout 60 dd if="$V/boot.wim" bs=$((64 * i))k status=none | sha256sum >"$T/sum.$i") &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for i in $(seq 1 8); do [ "$(cat "$T/sum.$i")" = "$SUM" ] || fail "parallel reader $i read wrong data"; done
	ok "lookups, listing, create/write/read back, rename, unlink, 8 parallel readers"
}

# ---- a build without it: refused in one line, /dev/fuse ------------------------------------
if [ $BUILT_IN = no ]; then
	view_start "$BIN" "$DRIVES" "    fuse transport = io_uring" PXEIMAGESFS_PASSTHROUGH=no
	why=$(view_status 's["transport"].get("reason")')
	[ "$(view_status 's["transport"]["name"]')" = dev ] || fail "a build without io_uring: not on /dev/fuse"
	case $why in *"older than 3.18"*) ;; *) fail "a build without io_uring: reason '$why'" ;; esac
	[ "$(grep -c 'FUSE over io_uring asked for' "$T/log")" = 1 ] || fail "not one log line: $(cat "$T/log")"
	work
	view_stop
	ok "this build has no io_uring: $why"
	exit 0
fi

# ---- fuse transport = io_uring, passthrough off (reads served by the daemon), SIGTERM --------
view_start "$BIN" "$DRIVES" "    fuse transport = io_uring" PXEIMAGESFS_PASSTHROUGH=no
on_uring "config key" "$VIEW_PID"
work
reads=$(view_status 's["counters"]["reads"]')
[ "$reads" -gt 0 ] || fail "the readers made no READ request ($reads)"
ok "$reads READ requests served over io_uring"
view_stop
grep -q 'transport: FUSE over io_uring' "$T/log" || fail "no log line for the transport: $(cat "$T/log")"
grep -q 'stopping: asked to' "$T/log" || fail "SIGTERM: no clean stop in the log: $(tail -5 "$T/log")"
ok "SIGTERM ends the daemon"

# ---- -o io_uring, passthrough as offered, in the foreground, ended by umount ----------------
view_conf "$DRIVES" "    rescan interval = 0"
"$BIN" mount -f -c "$T/pxe.conf" -o io_uring >"$T/log" 2>&1 &
VIEW_PID=$!
wait_mounted "$T/view" "$VIEW_PID" || fail "-o io_uring: not mounted: $(cat "$T/log")"
for ((i = 0; i < 100; i++)); do [ -n "$(view_status_file)" ] && break; sleep 0.05; done
on_uring "-o io_uring" "$VIEW_PID"
work
umount "$T/view" || fail "umount"
timeout 10 tail -s 0.05 --pid="$VIEW_PID" -f /dev/null || fail "umount: the daemon still runs 10 s later"
wait "$VIEW_PID"
rc=$?
VIEW_PID=
[ $rc = 0 ] || fail "umount: the daemon exited with $rc: $(tail -5 "$T/log")"
ok "umount ends the daemon (exit 0)"

# ---- daemonized: the rings belong to the daemon, not to the parent that exits ---------------
view_conf "$DRIVES" "    rescan interval = 0
    fuse transport = io_uring"
rm -f "$T"/run/*.json
timeout 30 "$BIN" mount -c "$T/pxe.conf" >"$T/log" 2>&1 || fail "daemon mount: $(cat "$T/log")"
for ((i = 0; i < 100; i++)); do [ -n "$(view_status_file)" ] && break; sleep 0.05; done
VIEW_PID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$(view_status_file)")
on_uring "daemon" "$VIEW_PID"
work
view_stop
ok "daemonized: SIGTERM ends it"
view_mounted "$T/view" && fail "daemon: still mounted after SIGTERM"

# ---- enable_uring = N: one clear line, /dev/fuse -------------------------------------------
echo N >"$PARAM" || fail "cannot write $PARAM"
view_start "$BIN" "$DRIVES" "    fuse transport = io_uring" PXEIMAGESFS_PASSTHROUGH=no
name=$(view_status 's["transport"]["name"]')
why=$(view_status 's["transport"].get("reason")')
[ "$name" = dev ] || fail "enable_uring = N: transport is $name"
case $why in *"echo Y > $PARAM"*) ;; *) fail "enable_uring = N: the reason does not say what to do: $why" ;; esac
[ "$(grep -c 'FUSE over io_uring asked for' "$T/log")" = 1 ] || fail "enable_uring = N: not one log line: $(cat "$T/log")"
[ "$(rings "$VIEW_PID")" = 0 ] || fail "enable_uring = N: the daemon holds io_uring fds"
"$BIN" status -c "$T/pxe.conf" | grep -q "^transport: /dev/fuse (io_uring: .*echo Y" ||
	fail "status: $("$BIN" status -c "$T/pxe.conf")"
work
view_stop
ok "enable_uring = N: $why"

# ---- not asked for: /dev/fuse, no reason ----------------------------------------------------
echo Y >"$PARAM" || fail "cannot write $PARAM"
view_start "$BIN" "$DRIVES" ""
[ "$(view_status 's["transport"]')" = "{'name': 'dev'}" ] || fail "default: $(view_status 's["transport"]')"
[ "$(rings "$VIEW_PID")" = 0 ] || fail "default: the daemon holds io_uring fds"
grep -q 'io_uring' "$T/log" && fail "default: the log speaks of io_uring: $(grep io_uring "$T/log")"
view_stop
ok "default: /dev/fuse"
