#!/bin/bash
# migrate_fifo.sh -- `pxeimagesfs migrate` when a file it compares is replaced by a FIFO
# between its stat and its open (hostile or broken drives). The race is made to happen every
# time by fifoswap.so (LD_PRELOAD): on migrate's first open for reading of the named file it
# renames a FIFO over it. A FIFO opened for reading without O_NONBLOCK waits for a writer
# forever, so migrate must open what it compares without blocking and check the type before
# reading. Two places, each checked: the plan's SHA-256 comparison of a target copy of equal
# size and mtime (--verify-existing; the target swapped), and --move's check that the
# target's copy equals the source before the source is removed (the source swapped).
# Each migrate run is bounded (30 s): a run that does not finish is the failure. Also checked:
# the source's data and the target's copy are never lost, and nothing is reported as equal.
# Needs root (tmpfs). exit 77 = skipped (a failure under CI=true).
# usage: migrate_fifo.sh PXEIMAGESFS_BINARY FIFOSWAP_SO
set -u
BIN=${1:?usage: migrate_fifo.sh PXEIMAGESFS_BINARY FIFOSWAP_SO}
SO=${2:?usage: migrate_fifo.sh PXEIMAGESFS_BINARY FIFOSWAP_SO}
LIMIT=30
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox, drive_sections
BAD=0
bad() { echo "FAIL: $*" >&2; BAD=$((BAD + 1)); }

[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs"
need_tools timeout:coreutils sha256sum:coreutils mkfifo:coreutils
[ -x "$BIN" ] || fail "$BIN: not an executable"
[ -f "$SO" ] || fail "$SO: no such shim"
BIN=$(readlink -f "$BIN") SO=$(readlink -f "$SO")

view_sandbox migrate-fifo # T, C and D (the drives' images folders, tmpfs), cleaned up at exit
E=$T/e/$IMG # a third drive, ranked below C
mkdir -p "$T/e" && mount -t tmpfs -o size=64m pxe-e "$T/e" || fail "cannot mount tmpfs on $T/e"
trap 'grep -q " $T/e " /proc/self/mountinfo && umount "$T/e"; view_cleanup' EXIT
mkdir -p "$T/state" "$T/run" "$C/PKG00001" "$D/PKG00001" "$E/PKG00001" || fail "mkdir"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20" "E:$T/e:5"
view_conf "$DRIVES" "    rescan interval = 1h"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$C/PKG00001/boot.PKG00001.wim" || fail "fixture"
SHA=$(sha256sum <"$C/PKG00001/boot.PKG00001.wim" | cut -d' ' -f1)
sha() { sha256sum <"$1" 2>/dev/null | cut -d' ' -f1; }

# same_copy: D holds an exact copy of C's image, same size and mtime (what migrate skips)
same_copy() {
	rm -f "$D/PKG00001/boot.PKG00001.wim"
	cp -p "$C/PKG00001/boot.PKG00001.wim" "$D/PKG00001/boot.PKG00001.wim" || fail "cp"
}

# swapped_run NAME DIR AT ARGS...: migrate ARGS (bounded) with DIR's boot.PKG00001.wim replaced
# by a FIFO on its AT-th open for reading; RC, output in $T/NAME.out and .err
swapped_run() {
	local name=$1 dir=$2 at=$3 fifo
	shift 3
	fifo=$(dirname "$dir")/fifo.$name # on the same drive
	mkfifo "$fifo" || fail "mkfifo"
	: >"$T/$name.mark"
	# a sanitizer build: the shim is not the first library, which ASan accepts when told
	timeout -k 5 "$LIMIT" env LD_PRELOAD="$SO" PXE_FIFOSWAP_DIR="$dir" \
		PXE_FIFOSWAP_NAME=boot.PKG00001.wim PXE_FIFOSWAP_FIFO="$fifo" PXE_FIFOSWAP_AT="$at" \
		PXE_FIFOSWAP_MARK="$T/$name.mark" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$BIN" migrate -c "$T/pxe.conf" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	RC=$?
	rm -f "$fifo"
	grep -qx swapped "$T/$name.mark" || fail "$name: the shim never swapped the file in (migrate did not open $dir/boot.PKG00001.wim for reading $at times); the test is broken"
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		bad "$name: migrate $* still running after ${LIMIT}s: it opened the FIFO swapped in for the file and waits for a writer"
	fi
	if grep -qE 'AddressSanitizer|runtime error|Segmentation' "$T/$name.err"; then
		bad "$name: migrate crashed: $(head -3 "$T/$name.err")"
	fi
}

# --- 1. the plan's comparison (--verify-existing): the target's copy becomes a FIFO ---------
same_copy
swapped_run verify "$D/PKG00001" 1 --to D --from C --verify-existing
[ "$(sha "$C/PKG00001/boot.PKG00001.wim")" = "$SHA" ] || bad "verify: C's image changed"
if [ -f "$D/PKG00001/boot.PKG00001.wim" ] && [ ! -p "$D/PKG00001/boot.PKG00001.wim" ] &&
	[ "$(sha "$D/PKG00001/boot.PKG00001.wim")" != "$SHA" ]; then
	bad "verify: D's copy is a regular file with other contents"
fi
grep -qiE 'same|skip' "$T/verify.out" && grep -q 'PKG00001/boot' "$T/verify.out" &&
	! grep -qiE 'differ|conflict|fail|not a regular|error' "$T/verify.out" "$T/verify.err" &&
	bad "verify: the FIFO was reported as the same file: $(head -5 "$T/verify.out")"
[ "$BAD" = 0 ] && ok "--verify-existing: a target copy swapped for a FIFO is not waited on (exit $RC)"

# --- 2. --move: the source becomes a FIFO when the plan compares it (its first open): the
# run is refused, nothing changed
rm -f "$D/PKG00001/boot.PKG00001.wim"
same_copy
B=$BAD
swapped_run plan "$C/PKG00001" 1 --to D --from C --move
[ "$RC" = 2 ] && grep -q 'cannot compare' "$T/plan.err" ||
	bad "plan: exit $RC, not 2 with 'cannot compare': $(head -3 "$T/plan.err")"
[ -p "$C/PKG00001/boot.PKG00001.wim" ] || bad "plan: the FIFO in the source's place was removed"
[ "$(sha "$D/PKG00001/boot.PKG00001.wim")" = "$SHA" ] || bad "plan: D's copy is gone or changed"
[ "$BAD" = "$B" ] && ok "--move: a source swapped for a FIFO before the plan's comparison: refused, nothing changed"

# --- 3. --move's check that a shadowed source copy (E's, ranked below C) equals the target's
# before it is removed: E's copy becomes a FIFO when that check opens it
rm -f "$D/PKG00001/boot.PKG00001.wim" "$C/PKG00001/boot.PKG00001.wim"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$C/PKG00001/boot.PKG00001.wim" || fail "fixture"
SHA=$(sha "$C/PKG00001/boot.PKG00001.wim")
cp -p "$C/PKG00001/boot.PKG00001.wim" "$E/PKG00001/boot.PKG00001.wim" || fail "cp"
B=$BAD
swapped_run move "$E/PKG00001" 1 --to D --from C --from E --move
[ "$(sha "$D/PKG00001/boot.PKG00001.wim")" = "$SHA" ] || bad "move: D's copy is gone or changed"
[ -e "$E/PKG00001/boot.PKG00001.wim" ] ||
	bad "move: E's entry was removed although it was not verified equal to the target's copy"
[ "$RC" = 0 ] && bad "move: exit 0 although the source could not be verified (a FIFO in its place)"
[ "$BAD" = "$B" ] && ok "--move: a shadowed source copy swapped for a FIFO is not waited on, not removed (exit $RC)"

[ "$BAD" = 0 ] || { head -5 "$T"/*.out "$T"/*.err >&2; fail "$BAD check(s) failed"; }
echo "migrate_fifo: all checks passed"
