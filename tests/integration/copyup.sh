#!/bin/bash
# copyup.sh -- a write to a file a read-only drive holds is never hidden, and a copy-up cut by
# kill -9 leaves nothing behind.
#
# Drives: R (tmpfs, ranked above the primary) and D (tmpfs, the primary). R is read-only in one
# of three ways: `read only = yes`, mounted ro before the view starts, remounted ro while the
# view runs; and an ext4 primary that an error turns read-only (errors=remount-ro). For each way and each I/O mode (kernel passthrough as the kernel offers it, and
# PXEIMAGESFS_PASSTHROUGH=no): write, chmod and truncate through the view, then read back
# through the view with the page cache dropped, in a listing, and after a restart of the daemon.
# Then: kill -9 in the middle of the copy-up of a 512 MiB file, restart, no leftover, and the
# first copy-up of that file succeeds; stale temporaries of the view's own making (the old
# `.<ino>.<random()>` names and the new named fallback) are removed at start, migrate's and
# anything reached through a symlink are not.
# Every view here is started in a named I/O mode (the environment's PXEIMAGESFS_PASSTHROUGH is
# never what decides), so tests/run.sh's passthrough-off run leaves this test out.
# Usage: copyup.sh PXEIMAGESFS_BINARY. Needs root and /dev/fuse; exit 77 = skipped.
set -u
BIN=${1:?usage: copyup.sh PXEIMAGESFS_BINARY}
. "$(dirname "$0")/lib.sh"
need_root_fuse
need_tools fusermount3:fuse3 python3:python3 mkfs.ext4:e2fsprogs findmnt:util-linux

view_sandbox copyup
R=$T/r/$IMG
# stop_view -- what a failed check leaves running: the daemon (killed) and its mount
stop_view() {
	[ -n "$VIEW_PID" ] && kill -9 "$VIEW_PID" 2>/dev/null && wait "$VIEW_PID" 2>/dev/null
	VIEW_PID=
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -uz "$T/view" 2>/dev/null
	[ -n "$DEBUG_LOG" ] && [ -f "$T/log" ] && cat "$T/log" >&2
	return 0
}
DEBUG_LOG=${COPYUP_DEBUG:-}
cleanup_all() {
	stop_view
	grep -q " $T/r " /proc/self/mountinfo && umount "$T/r"
	grep -q " $T/e " /proc/self/mountinfo && umount "$T/e"
	view_cleanup
}
trap cleanup_all EXIT
mkdir -p "$T/r" || fail "mkdir"
mount -t tmpfs -o size=768m pxe-r "$T/r" || fail "cannot mount tmpfs"
mount -o remount,size=768m "$T/d" || fail "cannot grow D"
mkdir -p "$R/pkg" "$D/pkg" || fail "mkdir"

drives() { # drives R_EXTRA_LINE [R_PATH]
	printf '[drive:R]\n    path = %s\n    priority = 30\n%s\n' "${2:-$T/r}" "$1"
	printf '[drive:D]\n    path = %s\n    priority = 20\n' "$T/d"
}
MODES=(pt nopt)
mode_env() { if [ "$1" = nopt ]; then echo PXEIMAGESFS_PASSTHROUGH=no; else echo PXEIMAGESFS_PASSTHROUGH=yes; fi; }
start() { # start R_EXTRA_LINE MODE [R_PATH]
	local e
	e=$(mode_env "$2")
	# shellcheck disable=SC2086
	view_start "$BIN" "$(drives "$1" "${3:-}")" "" $e
}
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# wait_ro -- until the view has republished R as read-only after a remount (10 s at most)
wait_ro() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(view_status "[d['read_only'] for d in s['view']['drives'] if d['name'] == 'R']" 2>/dev/null)" = "[True]" ] && return 0
		sleep 0.1
	done
	return 1
}

# every file the ways x modes need, made while R is still writable
for way in conf mounted remounted; do
	for m in "${MODES[@]}"; do
		printf 'old bytes on R' >"$R/pkg/$way-$m.bin"
		chmod 0644 "$R/pkg/$way-$m.bin"
	done
done

# check_written NAME WHAT -- the view shows the written bytes, mode and size of NAME
check_written() {
	local f=$V/pkg/$1 got
	drop
	got=$(cat "$f") || fail "$2: cannot read $1"
	[ "$got" = wri ] || fail "$2: $1 reads '$got', want 'wri' (the written bytes)"
	got=$(stat -c %a.%s "$f")
	[ "$got" = 600.3 ] || fail "$2: $1 has mode.size $got, want 600.3"
	drop
	got=$(ls -l "$V/pkg" | awk -v n="$1" '$NF == n {print $1 "." $5}')
	[ "$got" = "-rw-------.3" ] || fail "$2: the listing shows $1 as '$got', want -rw-------.3"
}

# check_way WAY R_EXTRA_LINE MODE
check_way() {
	local way=$1 extra=$2 m=$3 name=$1-$3.bin got
	trap stop_view EXIT
	start "$extra" "$m"
	if [ "$way" = remounted ]; then
		mount -o remount,ro "$T/r" || fail "$way: cannot remount R read-only"
		wait_ro || fail "$way: the view did not see R go read-only"
	fi
	[ "$(cat "$V/pkg/$name")" = "old bytes on R" ] || fail "$way/$m: R's bytes not served first"
	printf 'written' >"$V/pkg/$name" || fail "$way/$m: the write failed"
	got=$(cat "$V/pkg/$name")
	[ "$got" = written ] || fail "$way/$m: reads '$got' right after the write, want 'written'"
	chmod 0600 "$V/pkg/$name" || fail "$way/$m: chmod failed"
	truncate -s 3 "$V/pkg/$name" || fail "$way/$m: truncate failed"
	check_written "$name" "$way/$m"
	[ "$(cat "$R/pkg/$name")" = "old bytes on R" ] || fail "$way/$m: R's copy changed"
	[ "$(cat "$D/pkg/$name" 2>/dev/null)" = wri ] || fail "$way/$m: D has no written copy"
	view_stop
	start "$extra" "$m"
	check_written "$name" "$way/$m after a restart"
	view_stop
	[ "$way" = remounted ] && { mount -o remount,rw "$T/r" || fail "cannot remount R rw"; }
	ok "$way/$m: a write, chmod and truncate of R's file are what every later read sees"
}

check_ro_ways() {
	local m
	for m in "${MODES[@]}"; do
		(check_way conf "    read only = yes" "$m") || return 1
		mount -o remount,ro "$T/r" || fail "cannot remount R ro"
		(check_way mounted "" "$m") || return 1
		mount -o remount,rw "$T/r" || fail "cannot remount R rw"
		(check_way remounted "" "$m") || return 1
		(check_errors "$m") || return 1
	done
}

# check_errors MODE -- R is an ext4 drive (the primary: the mount table says rw) that an error
# turns read-only (errors=remount-ro: EROFS for every write, statvfs may still say rw); D is
# the other writable drive. The write is copied up to D and wins, also after a restart.
check_errors() {
	local m=$1 img=$T/e-$1.img E=$T/e/$IMG dev got
	trap stop_view EXIT
	truncate -s 32M "$img" && mkfs.ext4 -q -F "$img" >/dev/null || fail "errors: mkfs.ext4"
	mkdir -p "$T/e" && mount -o loop,errors=remount-ro "$img" "$T/e" || fail "errors: mount"
	mkdir -p "$E/pkg" && printf 'old bytes on R' >"$E/pkg/err.bin" && chmod 0644 "$E/pkg/err.bin"
	sync
	start "" "$m" "$T/e"
	[ "$(cat "$V/pkg/err.bin")" = "old bytes on R" ] || fail "errors/$m: R's bytes not served"
	dev=$(basename "$(findmnt -no SOURCE "$T/e")")
	echo 1 >"/sys/fs/ext4/$dev/trigger_fs_error" || fail "errors/$m: cannot trigger an error"
	touch "$E/probe" 2>/dev/null && fail "errors/$m: R still writable after the error"
	printf 'written' >"$V/pkg/err.bin" || fail "errors/$m: the write failed"
	chmod 0600 "$V/pkg/err.bin" || fail "errors/$m: chmod failed"
	truncate -s 3 "$V/pkg/err.bin" || fail "errors/$m: truncate failed"
	check_written err.bin "errors/$m"
	[ "$(cat "$D/pkg/err.bin" 2>/dev/null)" = wri ] || fail "errors/$m: D has no written copy"
	view_stop
	start "" "$m" "$T/e"
	check_written err.bin "errors/$m after a restart"
	view_stop
	umount "$T/e" || fail "errors/$m: umount"
	rm -f "$D/pkg/err.bin" "$img"
	ok "errors/$m: a write to a drive turned read-only by an error is what every later read sees"
}

# check_unlink_errors MODE -- an unlink that meets a copy on a drive an error turned read-only
# (ranked below the primary D) fails with EROFS and removes nothing (as for a configured
# read-only drive)
check_unlink_errors() {
	local m=$1 img=$T/e-unlink-$1.img E=$T/e/$IMG dev e
	trap stop_view EXIT
	truncate -s 32M "$img" && mkfs.ext4 -q -F "$img" >/dev/null || fail "unlink/$m: mkfs.ext4"
	mkdir -p "$T/e" && mount -o loop,errors=remount-ro "$img" "$T/e" || fail "unlink/$m: mount"
	mkdir -p "$E/pkg" && echo low >"$E/pkg/two.bin" && echo high >"$D/pkg/two.bin" && sync
	e=$(mode_env "$m")
	view_start "$BIN" "$(printf '[drive:D]\n    path = %s\n    priority = 20\n[drive:E]\n    path = %s\n    priority = 10\n' "$T/d" "$T/e")" "" "$e"
	dev=$(basename "$(findmnt -no SOURCE "$T/e")")
	echo 1 >"/sys/fs/ext4/$dev/trigger_fs_error" || fail "unlink/$m: cannot trigger an error"
	rm "$V/pkg/two.bin" 2>"$T/rm.err" && fail "unlink/$m: rm succeeded with a copy on a read-only drive"
	grep -q "Read-only file system" "$T/rm.err" || fail "unlink/$m: rm failed with '$(cat "$T/rm.err")'"
	[ "$(cat "$D/pkg/two.bin" 2>/dev/null)" = high ] || fail "unlink/$m: D's copy was removed"
	[ "$(cat "$V/pkg/two.bin")" = high ] || fail "unlink/$m: the view no longer shows D's copy"
	view_stop
	umount "$T/e" || fail "unlink/$m: umount"
	rm -f "$D/pkg/two.bin" "$img"
	ok "unlink/$m: a copy on a drive an error made read-only: EROFS, nothing removed"
}
check_unlink_errors_modes() {
	local m
	for m in "${MODES[@]}"; do (check_unlink_errors "$m") || return 1; done
}

# check_listing -- a listing (READDIRPLUS) shows each name's attributes from the copy a lookup
# finds: R (ranked first, writable here) and D both hold x, y and z, created in other orders so
# the drives list them in other orders; R's sizes must show. Then R's files made read-only
# (configured) with only y written through the view: y shows the written size, x and z R's.
check_listing() {
	local got m
	trap stop_view EXIT
	mkdir -p "$R/lst" "$D/lst"
	for n in x y z; do head -c 1 /dev/zero >"$R/lst/$n"; done
	for n in z y x; do head -c 22 /dev/zero >"$D/lst/$n"; done
	for m in "${MODES[@]}"; do
		start "" "$m"
		drop
		got=$(ls -l "$V/lst" | awk 'NF > 3 {printf "%s=%s ", $NF, $5}')
		[ "$got" = "x=1 y=1 z=1 " ] || fail "listing/$m: shows '$got', want R's sizes x=1 y=1 z=1"
		view_stop
	done
	rm -f "$D/lst/x" "$D/lst/y" "$D/lst/z"
	for m in "${MODES[@]}"; do
		start "    read only = yes" "$m"
		head -c 333 /dev/zero >"$V/lst/y" || fail "listing/$m: the write failed"
		drop
		got=$(ls -l "$V/lst" | awk 'NF > 3 {printf "%s=%s ", $NF, $5}')
		[ "$got" = "x=1 y=333 z=1 " ] || fail "listing/$m: shows '$got', want x=1 y=333 z=1"
		view_stop
		rm -f "$D/lst/y"
	done
	rm -rf "$R/lst" "$D/lst"
	ok "listing: sizes from the copy a lookup finds, in both modes"
}

# check_crash -- kill -9 during the copy-up of a 512 MiB file; restart cleans up, copy-up works
check_crash() {
	local i used0 used ino pid got
	trap stop_view EXIT
	dd if=/dev/urandom of="$R/pkg/big.bin" bs=1M count=512 status=none || fail "crash: dd"
	ino=$(printf %x "$(stat -c %i "$R/pkg/big.bin")")
	# what the old code's first copy-up of big.bin after any start names its temporary
	# (random() unseeded: 0x6b8b4567), the new named fallback, and what is not ours
	: >"$D/pkg/.pxeimagesfs-tmp.$ino.6b8b4567"
	: >"$D/pkg/.pxeimagesfs-tmp.copyup.0123456789abcdef0123456789abcdef"
	echo keep >"$D/pkg/.pxeimagesfs-tmp.migrate.keep.bin"
	mkdir -p "$T/outside" && echo secret >"$T/outside/.pxeimagesfs-tmp.1.2"
	ln -s "$T/outside" "$D/pkg/link" || fail "crash: ln"
	used0=$(df --output=used "$T/d" | tail -1)
	start "    read only = yes" pt
	printf x | dd of="$V/pkg/big.bin" bs=1 count=1 conv=notrunc status=none 2>/dev/null &
	pid=$!
	for ((i = 0; i < 2000; i++)); do
		used=$(df --output=used "$T/d" | tail -1)
		((used - used0 > 32768)) && break
		sleep 0.005
	done
	((used - used0 > 32768)) || fail "crash: the copy-up never started (or was too fast to catch)"
	kill -9 "$VIEW_PID"
	wait "$VIEW_PID" 2>/dev/null
	VIEW_PID=
	fusermount3 -uz "$T/view" || fail "crash: cannot unmount the dead view"
	wait "$pid" 2>/dev/null
	[ -e "$D/pkg/big.bin" ] && fail "crash: a partial big.bin appeared on D"
	start "    read only = yes" pt
	got=$(find "$D/pkg" -maxdepth 1 -name '.pxeimagesfs-tmp.*' -printf '%f ' | tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$got" = ".pxeimagesfs-tmp.migrate.keep.bin " ] ||
		fail "crash: after the restart D holds the temporaries '$got' (want migrate's only)"
	[ "$(cat "$T/outside/.pxeimagesfs-tmp.1.2")" = secret ] || fail "crash: followed a symlink"
	used=$(df --output=used "$T/d" | tail -1)
	((used - used0 < 8192)) || fail "crash: D still uses $((used - used0)) KiB more than before"
	printf x | dd of="$V/pkg/big.bin" bs=1 count=1 conv=notrunc status=none ||
		fail "crash: the first copy-up after the restart failed"
	drop
	got=$(head -c 1 "$V/pkg/big.bin")
	[ "$got" = x ] || fail "crash: big.bin starts with '$got' after the write, want x"
	cmp -s <(tail -c +2 "$V/pkg/big.bin") <(tail -c +2 "$R/pkg/big.bin") ||
		fail "crash: the copy differs from R's beyond the written byte"
	view_stop
	rm -f "$D/pkg/big.bin" "$R/pkg/big.bin" "$D/pkg/link"
	ok "crash: kill -9 mid copy-up (512 MiB) leaves nothing; stale temporaries removed at start"
}

FAILED=()
(check_ro_ways) || FAILED+=(ro_ways)
(check_listing) || FAILED+=(listing)
(check_unlink_errors_modes) || FAILED+=(unlink_errors)
(check_crash) || FAILED+=(crash)
[ ${#FAILED[@]} = 0 ] || fail "failed checks: ${FAILED[*]}"
echo "all copy-up checks passed"
