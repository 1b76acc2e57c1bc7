#!/bin/bash
# read_memory.sh -- the daemon's memory stays bounded while it serves reads itself (no kernel
# passthrough: Debian 12's stock kernel, `passthrough = no`). A 200 MiB file on drive C is read
# through the view by one reader four times, FUSE cache dropped between (a fresh first read
# each time), then by 8 readers at once (a boot storm); the daemon's peak resident set (VmHWM)
# may grow by at most GROWTH_MIB (24) over what it was before the reads. Each worker thread
# that reads keeps one read buffer of its own (fs/ops_file.c); libfuse's copy through a buffer
# it allocates per read left 54-110 MiB resident in glibc's heaps. The bytes read must match the
# drive's. Under a sanitizer build the memory check is left out (its allocator's own bookkeeping
# dominates); the reads run. Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: read_memory.sh PXEIMAGESFS_BINARY}
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox, view_start

need_root_fuse
need_tools fusermount3:fuse3 sha256sum:coreutils timeout:coreutils
GROWTH_MIB=${PXE_READ_MEMORY_GROWTH_MIB:-24}
SIZE_MIB=200 READERS=8

view_sandbox readmem
head -c $((SIZE_MIB << 20)) /dev/urandom >"$C/big.wim" || fail "cannot write the test file"
want=$(sha256sum <"$C/big.wim" | cut -d' ' -f1)
drive_sections DRIVES "C:$T/c"
view_start "$BIN" "$DRIVES" "    passthrough = no" || fail "the view did not mount"
hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$VIEW_PID/status"; }
before=$(hwm)
[ -n "$before" ] || fail "no VmHWM for the daemon (pid $VIEW_PID)"

for i in 1 2 3 4; do
	echo 1 >/proc/sys/vm/drop_caches
	got=$(timeout 120 sha256sum <"$V/big.wim" | cut -d' ' -f1) || fail "read $i through the view failed"
	[ "$got" = "$want" ] || fail "read $i through the view: sha256 $got, the drive's $want"
done
ok "4 first reads of $SIZE_MIB MiB through the daemon, bytes exact"
echo 1 >/proc/sys/vm/drop_caches
pids=()
for ((i = 0; i < READERS; i++)); do
	(got=$(timeout 120 sha256sum <"$V/big.wim" | cut -d' ' -f1) && [ "$got" = "$want" ]) &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a reader of the boot storm failed or got other bytes"; done
ok "$READERS readers at once, bytes exact"

after=$(hwm)
threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$VIEW_PID/status")
growth=$(((after - before) / 1024))
echo "# daemon VmHWM $((before / 1024)) MiB before the reads, $((after / 1024)) MiB after ($threads threads)"
if grep -qa __asan_init "$BIN"; then
	ok "a sanitizer build: the memory bound is not checked (grew $growth MiB)"
else
	[ "$growth" -le "$GROWTH_MIB" ] ||
		fail "the daemon's peak resident set grew by $growth MiB serving reads (at most $GROWTH_MIB)"
	ok "the daemon's peak resident set grew by $growth MiB (at most $GROWTH_MIB)"
fi
view_stop || fail "the view did not stop cleanly"
