#!/bin/bash
# ino_detached.sh -- an open file whose name comes to name another file keeps its st_ino, and
# the other file gets a number of its own: no two live files of the view share one (tar,
# rsync -H and Samba's file ids take one number for one file). Each case holds a descriptor on
# the old file and stats both: (a) the file replaced on its drive behind the view (rename over
# it), (b) removed through the view and created again. Not so (c) when its drive goes away
# (lazily unmounted) and a lower-ranked drive has a copy at the path: that copy is the same
# file for clients and keeps the number (SPEC 4), as a copy-up does (passthrough.sh). Once the
# old file is closed and forgotten, the name has its stable number again. (A folder's node is
# its path in the view, merged over the drives: a working directory in a folder replaced on a
# drive lists the new one; one kernel inode, one number.) Both passthrough modes (the
# environment's first). Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: ino_detached.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3
[ -w /proc/sys/vm/drop_caches ] || need "/proc/sys/vm/drop_caches is not writable"

view_sandbox ino-detached
mkdir -p "$T/e" || fail "mkdir"
E=$T/e/$IMG
cleanup_e() { exec 3<&-; cd /; grep -q " $T/e " /proc/self/mountinfo && umount -l "$T/e"; view_cleanup; }
trap cleanup_e EXIT

fd_ino() { python3 -c 'import os; print(os.fstat(3).st_ino)'; }
fd_data() { python3 -c 'import os; print(os.pread(3, 64, 0).decode().strip())'; }
path_ino() { stat -c %i "$1" 2>/dev/null; }
# shows PATH DATA -- PATH reads DATA within 3 s (the kernel's cached entry named the old file)
shows() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ "$(cat "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.02
	done
	fail "$MODE: ${1#"$V"/} does not read '$2' 3 s after the change (reads '$(cat "$1" 2>&1)')"
}
# differ WHAT PATH OLD_DATA NEW_DATA -- descriptor 3 is still the old file (OLD_DATA), PATH
# the new one (NEW_DATA), and their numbers differ
differ() {
	local old new
	shows "$2" "$4"
	[ "$(fd_data)" = "$3" ] || fail "$MODE ($1): the open descriptor no longer reads the old file"
	old=$(fd_ino) new=$(path_ino "$2")
	[ -n "$old" ] && [ -n "$new" ] || fail "$MODE ($1): cannot stat the old or the new file"
	[ "$old" != "$new" ] ||
		fail "$MODE ($1): the open old file and the new file at its name share st_ino $old"
	ok "$MODE ($1): old file st_ino $old, new file $new"
}


run_mode() {
	MODE=$1
	local w=m-$1 stable old
	W=$V/$w
	mount -t tmpfs -o size=16m pxe-e "$T/e" || fail "cannot mount tmpfs at $T/e"
	mkdir -p "$C/$w" "$D/$w" "$E/$w" || fail "mkdir"
	echo old >"$C/$w/a" && echo on-c >"$C/$w/gone" && echo on-e >"$E/$w/gone" ||
		fail "cannot fill the drives"
	drive_sections DRIVES "C:$T/c:10" "D:$T/d:20" "E:$T/e:30"
	view_start "$BIN" "$DRIVES" "" "$2"
	stable=$(path_ino "$W/a")

	# (a) replaced on its drive behind the view
	exec 3<"$W/a" || fail "$MODE: cannot open a"
	echo new >"$C/$w/a.tmp" && mv "$C/$w/a.tmp" "$C/$w/a" || fail "cannot replace a on C"
	differ "replaced on the drive" "$W/a" old new
	exec 3<&-

	# (b) removed through the view and created again
	echo first >"$W/b" && exec 3<"$W/b" || fail "$MODE: cannot make and open b"
	rm "$W/b" && echo second >"$W/b" || fail "$MODE: cannot remove and make b again"
	differ "removed and created again through the view" "$W/b" first second
	exec 3<&-

	# (c) its drive gone: the open file stays on E, the name now leads to C's copy, which is the
	# same file for clients (SPEC: the same path has the same st_ino whichever drive serves it;
	# Samba keeps its share modes on the file id across the switch, as across a copy-up; reads
	# of the open descriptor fail with EIO unless the kernel passes them through)
	exec 3<"$W/gone" || fail "$MODE: cannot open gone"
	[ "$(fd_data)" = on-e ] || fail "$MODE: gone is not served from E"
	old=$(fd_ino)
	umount -l "$T/e" || fail "cannot unmount E"
	shows "$W/gone" on-c
	[ "$(path_ino "$W/gone")" = "$old" ] && [ "$(fd_ino)" = "$old" ] ||
		fail "$MODE (drive gone): C's copy has st_ino $(path_ino "$W/gone"), the open one $(fd_ino), not $old"
	ok "$MODE (its drive unmounted): the lower-ranked drive's copy keeps the path's number $old"
	exec 3<&-

	view_forget
	[ "$(path_ino "$W/a")" = "$stable" ] ||
		fail "$MODE: a has st_ino $(path_ino "$W/a") once the old file is forgotten, not $stable"
	ok "$MODE: once the old file is closed and forgotten, the name has its stable number again"
	view_stop
}

both_modes run_mode
