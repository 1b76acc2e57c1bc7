#!/bin/bash
# create_stale_alias.sh -- a file created through the view is the new file, never another file
# the daemon still knows by that name, and the create answers. Hard links z -> b and then
# q -> b are made through the view (the open files Z and Q get the second name b), b being
# removed on the drive behind the view after each. Creating b through the view then makes a
# new file: the create must answer within 10 s, and the reply, a read of b and its st_ino must
# be the new file's; z and q keep their data, numbers and open descriptors. (Before the fix,
# the create found Q by its stale second name, whose open handles are on another file: the
# create's open answered ESTALE, the create ignored that but had already told the kernel to
# drop Q's entry from inside the CREATE, which holds the folder locked -- the create and the
# folder watch hung for good.) Both passthrough modes (the environment's first). Needs root
# and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: create_stale_alias.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3

view_sandbox create-alias
cleanup_fds() { exec 4<&- 5<&-; view_cleanup; }
trap cleanup_fds EXIT

# gone PATH -- PATH is absent from the view within 3 s (the folder watch dropped its entry)
gone() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ -e "$1" ] || return 0
		sleep 0.02
	done
	fail "$MODE: ${1#"$V"/} still in the view 3 s after it was removed on the drive"
}
fd_data() { python3 -c "import os; print(os.pread($1, 64, 0).decode().strip())"; }
# within10 CMD... -- CMD, killed (a failure) when it has not answered within 10 s
within10() { timeout -s KILL 10 "$@"; }
# abort_view -- end the view's FUSE connection (fusectl; mounted for this if it is not): a
# request the daemon never answers cannot be killed, and the test must end
abort_view() {
	local dev ctl=/sys/fs/fuse/connections mounted=
	dev=$(awk -v mp="$T/view" '$5 == mp { print $3 }' /proc/self/mountinfo)
	[ -n "$dev" ] || return 0
	if [ ! -e "$ctl/${dev#*:}" ]; then mount -t fusectl fusectl "$ctl" && mounted=1; fi
	echo 1 >"$ctl/${dev#*:}/abort"
	[ -z "$mounted" ] || umount "$ctl"
}
# create_within10 PATH -- write new-data to PATH (a create through the view) in the
# background: 0 when it answered within 10 s, else the view is aborted and the test fails
create_within10() {
	local pid i
	sh -c 'echo new-data >"$1"' sh "$1" 2>"$T/create.err" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		abort_view
		wait "$pid"
		fail "$MODE: creating ${1#"$V"/} through the view did not answer within 10 s"
	fi
	wait "$pid" || fail "$MODE: creating ${1#"$V"/} through the view failed: $(cat "$T/create.err")"
}

run_mode() {
	MODE=$1
	local w=m-$1 ino_b ino_z ino_q
	W=$V/$w
	mkdir -p "$D/$w" || fail "mkdir"
	drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
	view_start "$BIN" "$DRIVES" "" "$2"

	echo z-data >"$W/z" && echo q-data >"$W/q" && exec 4<"$W/z" 5<"$W/q" ||
		fail "$MODE: cannot make and open z and q"
	ino_z=$(stat -c %i "$W/z") ino_q=$(stat -c %i "$W/q")
	ln "$W/z" "$W/b" || fail "$MODE: cannot link z to b through the view"
	rm "$D/$w/b" || fail "rm b on D"
	gone "$W/b"
	ln "$W/q" "$W/b" || fail "$MODE: cannot link q to b through the view"
	rm "$D/$w/b" || fail "rm b on D"
	gone "$W/b"

	create_within10 "$W/b"
	[ "$(cat "$D/$w/b")" = new-data ] || fail "$MODE: the drive's b reads '$(cat "$D/$w/b")'"
	[ "$(cat "$D/$w/z")" = z-data ] && [ "$(cat "$D/$w/q")" = q-data ] ||
		fail "$MODE: the drive's z or q was changed: '$(cat "$D/$w/z")', '$(cat "$D/$w/q")'"
	[ "$(within10 cat "$W/b")" = new-data ] ||
		fail "$MODE: b reads '$(within10 cat "$W/b")' through the view, not the created file"
	ino_b=$(within10 stat -c %i "$W/b")
	[ "$ino_b" != "$ino_z" ] && [ "$ino_b" != "$ino_q" ] ||
		fail "$MODE: the created b has st_ino $ino_b, z's $ino_z or q's $ino_q"
	[ "$(within10 stat -c %s "$W/b")" = 9 ] || fail "$MODE: b's size is not 9"
	[ "$(within10 cat "$W/z")" = z-data ] && [ "$(within10 cat "$W/q")" = q-data ] ||
		fail "$MODE: z or q reads wrong through the view"
	[ "$(within10 stat -c %i "$W/z")" = "$ino_z" ] && [ "$(within10 stat -c %i "$W/q")" = "$ino_q" ] ||
		fail "$MODE: z or q changed its st_ino"
	[ "$(fd_data 4)" = z-data ] && [ "$(fd_data 5)" = q-data ] ||
		fail "$MODE: the open descriptors read '$(fd_data 4)' and '$(fd_data 5)'"
	ok "$MODE: b created where stale hard-link names were is the new file (st_ino $ino_b)"
	exec 4<&- 5<&-
	view_stop
}

both_modes run_mode
