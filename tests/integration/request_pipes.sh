#!/bin/bash
# request_pipes.sh -- the daemon reads the kernel's requests without making a pipe for each,
# also where it may not grow a pipe past pipe-max-size (no CAP_SYS_RESOURCE: a container, a
# bounded unit). libfuse splices each request through a pipe of its thread when the
# filesystem wants SPLICE_READ (its default for one with write_buf); a pipe that cannot grow to
# the largest request (2 MiB) is freed and made again for the next request, with a read of
# /proc/sys/fs/pipe-max-size each time: dbench in the view paid 68-77 us of the daemon's CPU
# per operation instead of 40-42. The daemon runs with CAP_SYS_RESOURCE dropped from its
# bounding set (setpriv) and an LD_PRELOAD shim (pipecount.so) counting its pipes; 600 small
# files are opened, read and closed three times and 600 missing names looked up twice through
# the view (well over 3,000 requests); the daemon may make at most 1 pipe per 20 opens. Needs
# root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: request_pipes.sh PXEIMAGESFS_BINARY PIPECOUNT_SO}
SHIM=${2:?usage: request_pipes.sh PXEIMAGESFS_BINARY PIPECOUNT_SO}
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox, view_start

need_root_fuse
need_tools fusermount3:fuse3 setpriv:util-linux python3:python3
FILES=600 ROUNDS=3

view_sandbox pipes
for ((i = 0; i < FILES; i++)); do printf 'file %d\n' "$i" >"$C/f$i.txt"; done || fail "cannot write the test files"
: >"$T/pipes" || fail "cannot create $T/pipes"
# the binary as the daemon starts: without CAP_SYS_RESOURCE (bounding set and inheritable)
cat >"$T/bin" <<WRAP || fail "cannot write $T/bin"
#!/bin/sh
exec setpriv --bounding-set -sys_resource --inh-caps -sys_resource -- "$BIN" "\$@"
WRAP
chmod +x "$T/bin"
drive_sections DRIVES "C:$T/c"
view_start "$T/bin" "$DRIVES" "" LD_PRELOAD="$SHIM" PXE_PIPECOUNT_FILE="$T/pipes" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" ||
	fail "the view did not mount"
grep -q '^CapBnd:.*' "/proc/$VIEW_PID/status" || fail "no CapBnd for the daemon (pid $VIEW_PID)"
bnd=$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$VIEW_PID/status")
(((0x$bnd >> 24) & 1)) && fail "the daemon still has CAP_SYS_RESOURCE (CapBnd $bnd): setpriv did not drop it"
grep -q pipecount "/proc/$VIEW_PID/maps" || fail "the shim $SHIM is not loaded in the daemon"
before=$(tr -d ' \n' <"$T/pipes")
before=${before:-0}
opens0=$(view_status "s['counters']['opens']")

for ((r = 0; r < ROUNDS; r++)); do
	(cd "$V" && cat f*.txt) >"$T/out" || fail "reading the files through the view failed"
	[ "$(grep -c '^file ' "$T/out")" = "$FILES" ] || fail "round $r: not every file read back"
done
for ((r = 0; r < 2; r++)); do
	for ((i = 0; i < FILES; i++)); do [ -e "$V/missing-$i" ] && fail "missing-$i exists in the view"; done
done
opens=$(($(view_status "s['counters']['opens']") - opens0))
[ "$opens" -ge $((FILES * ROUNDS)) ] || fail "the view counted $opens opens, expected at least $((FILES * ROUNDS))"
after=$(tr -d ' \n' <"$T/pipes")
made=$((${after:-0} - before))
echo "# the daemon made $made pipes for $opens opens (and $((2 * FILES)) lookups of missing names)"
[ "$made" -le $((opens / 20)) ] ||
	fail "the daemon made $made pipes for $opens opens: a pipe per request (libfuse's SPLICE_READ without CAP_SYS_RESOURCE)"
ok "the daemon made $made pipes for $opens opens, without CAP_SYS_RESOURCE"
view_stop || fail "the view did not stop cleanly"
