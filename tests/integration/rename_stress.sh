#!/bin/bash
# rename_stress.sh -- a temporary written then renamed into place is there at once, every time:
# 8 clients, each in its own folder of the view, create a temporary, rename it over a final
# name, then stat and open the final name (rename_stress.c). Run with kernel passthrough as the
# daemon chooses it and with PXEIMAGESFS_PASSTHROUGH=no, with processes listing the folders
# meanwhile. Bounded: RENAME_STRESS_COUNT renames (100000 unless set) or RENAME_STRESS_SECONDS
# (60) per run, whichever comes first; a run cut by time goes on in more rounds until it did a
# quarter of the count, for RENAME_STRESS_DEADLINE (150) s per run at the most (the floor is an
# amount of work, not a rate: a busy machine runs longer). PXE_TEST_SHORT=1 (tests/run.sh's later runs): 20000 unless set. Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: rename_stress.sh PXEIMAGESFS_BINARY RENAME_STRESS_BINARY}
STRESS=${2:?usage: rename_stress.sh PXEIMAGESFS_BINARY RENAME_STRESS_BINARY}
COUNT=${RENAME_STRESS_COUNT:-$([ "${PXE_TEST_SHORT:-}" = 1 ] && echo 20000 || echo 100000)}
SECONDS_MAX=${RENAME_STRESS_SECONDS:-60}
DEADLINE=${RENAME_STRESS_DEADLINE:-150}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3

view_sandbox rename-stress
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"

# run LABEL LISTERS [ENV=VALUE...] -- one bounded run on a fresh view
run() {
	local label=$1 listers=$2 out rc done=0 n round start=$SECONDS
	shift 2
	rm -rf "${C:?}"/* "${D:?}"/*
	view_start "$BIN" "$DRIVES" "" "$@"
	for ((round = 1; ; round++)); do
		out=$(timeout $((SECONDS_MAX + 60)) "$STRESS" "$V" 8 $((COUNT - done)) "$SECONDS_MAX" "$listers" 2>&1)
		rc=$?
		n=$(echo "$out" | sed -n 's/^rename_stress: \([0-9]*\) renames.*/\1/p' | head -1)
		done=$((done + ${n:-0}))
		[ "$rc" = 0 ] && [ -n "$n" ] && [ "$done" -lt $((COUNT / 4)) ] || break
		[ $((SECONDS - start + SECONDS_MAX)) -le "$DEADLINE" ] || break
		echo "# $label: $done renames in $round rounds ($((SECONDS - start)) s): the clients go on"
	done
	echo "$out" | tail -25
	view_stop
	[ "$rc" = 0 ] || tail -5 "$T/log" >&2
	[ "$rc" = 0 ] || fail "$label: a renamed name was missing or wrong right after its rename (exit $rc)"
	[ "$done" -ge $((COUNT / 4)) ] ||
		fail "$label: only $done renames in $((SECONDS - start)) s (wanted at least $((COUNT / 4)))"
	grep -q "writing device" "$T/log" && fail "$label: the daemon logged kernel notification errors"
	ok "$label: $done renames, each followed by a good stat and open"
}

run "passthrough as chosen, 2 listers" 2 PXEIMAGESFS_PASSTHROUGH=yes
run "PXEIMAGESFS_PASSTHROUGH=no, 2 listers" 2 PXEIMAGESFS_PASSTHROUGH=no
