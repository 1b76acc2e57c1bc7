#!/bin/bash
# passthrough_fallback.sh -- a drive the kernel stops passing through while some of its files
# are open in passthrough. A file the kernel refuses as a backing file (here one of a tracefs
# mounted inside the drive's images folder: a filesystem mounted there is served as part of
# the drive) makes the daemon serve that drive's files itself from then on. A file already
# open in passthrough must still open again (the kernel keeps one mode per inode: its new
# opens join the backing file it has); on the old code they were answered cached and the
# kernel failed them with EIO. Then, once every handle is closed, it opens served by the
# daemon, bytes exact. Both with the file held open by one process and with several opens
# at once. A build without passthrough (libfuse older than 3.17) passes at once. Needs root,
# /dev/fuse, python3, tracefs and a kernel that offers passthrough (Linux 6.9+); exit 77 =
# skipped (a failure under CI=true).
set -u
BIN=${1:?usage: passthrough_fallback.sh PXEIMAGESFS_BINARY}
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox, view_start

need_root_fuse
need_tools python3:python3 sha256sum:coreutils timeout:coreutils fusermount3:fuse3
if ! "$BIN" --version | grep -q 'kernel passthrough: built in'; then
	ok "this build has no kernel passthrough (libfuse older than 3.17): every file is served by the daemon, nothing to fall back from"
	exit 0
fi
grep -qw tracefs /proc/filesystems || need "this kernel has no tracefs"

view_sandbox ptfall
# the nested mount goes before the drives' tmpfs at exit
trap 'grep -qF " $C/odd " /proc/self/mountinfo && umount "$C/odd"; view_cleanup' EXIT
head -c 4M /dev/urandom >"$C/boot.wim" || fail "cannot write boot.wim"
want=$(sha256sum <"$C/boot.wim" | cut -d' ' -f1)
mkdir "$C/odd" && mount -t tracefs ptfall-tracefs "$C/odd" || fail "cannot mount a tracefs at $C/odd"
[ -f "$C/odd/tracing_on" ] || fail "no tracing_on in the tracefs at $C/odd"
drive_sections DRIVES "C:$T/c"
view_start "$BIN" "$DRIVES" "" PXEIMAGESFS_PASSTHROUGH=yes
if [ "$(view_status 's["passthrough"]["active"]')" != True ]; then
	why=$(view_status 's["passthrough"].get("reason")')
	case $why in
	*kernel*) need "passthrough not offered here: $why" ;;
	*) fail "passthrough not active: $why" ;;
	esac
fi
sum() { # FILE -> its sha256, or fails (an open or a read that fails)
	local out
	out=$(timeout 20 sha256sum <"$1") || return 1
	echo "${out%% *}"
}

exec 3<"$V/boot.wim" || fail "cannot open boot.wim through the view"
[ "$(view_status 's["counters"]["passthrough_opens"]')" -ge 1 ] || fail "boot.wim did not open in passthrough"
# the kernel refuses the tracefs file as a backing file: the drive is served by the daemon now
timeout 20 cat "$V/odd/tracing_on" >/dev/null || fail "cannot read odd/tracing_on through the view"
for _ in $(seq 100); do grep -q 'cannot pass files of drive C through' "$T/log" && break; sleep 0.05; done
grep -q 'cannot pass files of drive C through' "$T/log" ||
	fail "the daemon did not stop passing drive C through: $(tail -3 "$T/log")"
got=$(sum "$V/boot.wim") || fail "boot.wim, open in passthrough elsewhere, did not open again (EIO)"
[ "$got" = "$want" ] || fail "boot.wim read again while held: sha256 $got, the drive's $want"
pids=()
for i in 1 2 3 4; do
	(g=$(sum "$V/boot.wim") && [ "$g" = "$want" ]) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "one of 4 opens at once of boot.wim failed or read other bytes"; done
ok "boot.wim, held open in passthrough, opens again after drive C stopped being passed through (5 opens, bytes exact)"
exec 3<&-
pt0=$(view_status 's["counters"]["passthrough_opens"]')
got=$(sum "$V/boot.wim") || fail "boot.wim did not open once closed"
[ "$got" = "$want" ] || fail "boot.wim once closed: sha256 $got, the drive's $want"
[ "$(view_status 's["counters"]["passthrough_opens"]')" = "$pt0" ] ||
	fail "boot.wim opened in passthrough again once closed: drive C is served by the daemon now"
ok "once closed, boot.wim opens served by the daemon, bytes exact"
view_stop || fail "the view did not stop cleanly"
