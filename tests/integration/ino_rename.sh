#!/bin/bash
# ino_rename.sh -- st_ino survives a rename through the view, as natively (Samba's file ids are
# (st_dev, st_ino)): a file, a file moved to another folder, a folder and the file in it, a
# file on the lower-ranked drive, and two files swapped through a third name keep their
# numbers (a) at once, (b) after the kernel forgot them (echo 2 > drop_caches; the daemon's
# node count shows it did) and (c) after the view was stopped and started again. New entries
# made at the old names (through the view, and on a drive directly) get numbers of their own,
# and keep them when the renamed entry is removed: no two entries of the view ever share one. A corrupt map in the state directory is survived.
# Both passthrough modes. Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: ino_rename.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3 find:findutils
[ -w /proc/sys/vm/drop_caches ] || need "/proc/sys/vm/drop_caches is not writable"

view_sandbox ino-rename
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"

ino() { stat -c %i "$1" 2>/dev/null || fail "$MODE: cannot stat ${1#"$V"/}"; }

# same NAME WANT WHEN -- NAME (below W) has number WANT
same() {
	local got
	got=$(ino "$W/$1")
	[ "$got" = "$2" ] || fail "$MODE ($3): $1 has st_ino $got, not $2 as before the rename"
}

# unique WHEN -- no two entries below W (and W itself) share a number
unique() {
	local dup
	dup=$(find "$W" -printf '%i\n' | sort | uniq -d)
	[ -z "$dup" ] || fail "$MODE ($1): st_ino $dup shown for two entries: $(find "$W" -printf '%i %P\n' | grep -E "^(${dup//$'\n'/|}) ")"
}

check_all() {
	same e/f2 "$I_f" "$1"
	same d2 "$I_d" "$1"
	same d2/c "$I_c" "$1"
	same d2/sub "$I_sub" "$1"
	same d2/sub/g "$I_g" "$1"
	same onc2 "$I_onc" "$1"
	same a "$I_b" "$1"
	same b "$I_a" "$1"
	unique "$1"
	[ "$(ino "$V")" = "$I_img" ] && [ "$(ino "$T/view")" = 1 ] ||
		fail "$MODE ($1): the images folder or the root changed its number"
}


run_mode() {
	MODE=$1
	local env=${2:-} w=m-$1
	W=$V/$w
	mkdir -p "$C/$w" && echo on-c >"$C/$w/onc"
	view_start "$BIN" "$DRIVES" "" $env
	I_img=${I_img:-$(ino "$V")}
	echo "# $MODE: passthrough active: $(view_status "s['passthrough']['active']")"
	mkdir "$W/d" "$W/d/sub" "$W/e" && echo f >"$W/f" && echo c >"$W/d/c" && echo g >"$W/d/sub/g" &&
		echo a >"$W/a" && echo b >"$W/b" || fail "$MODE: cannot make the tree through the view"
	I_f=$(ino "$W/f") I_d=$(ino "$W/d") I_c=$(ino "$W/d/c") I_sub=$(ino "$W/d/sub")
	I_g=$(ino "$W/d/sub/g") I_onc=$(ino "$W/onc") I_a=$(ino "$W/a") I_b=$(ino "$W/b")
	mv "$W/f" "$W/e/f2" && mv "$W/d" "$W/d2" && mv "$W/onc" "$W/onc2" &&
		mv "$W/a" "$W/t" && mv "$W/b" "$W/a" && mv "$W/t" "$W/b" || fail "$MODE: a rename failed"
	[ -f "$C/$w/onc2" ] || fail "$MODE: onc2 is not on drive C"
	# new entries where the renamed ones were
	echo new >"$W/f" && mkdir "$W/d" && echo new >"$W/d/c" || fail "$MODE: cannot make new f, d"
	check_all "at once"
	ok "$MODE: renamed entries keep st_ino at once; new ones at the old names get their own"

	view_forget
	check_all "after the kernel forgot them"
	ok "$MODE: renamed entries keep st_ino after the kernel forgot them"

	view_stop
	view_start "$BIN" "$DRIVES" "" $env
	check_all "after a restart"
	# an entry made on a drive directly at an old name is a new entry with its own number
	echo direct >"$D/$w/t" && mkdir "$D/$w/d/sub" && echo direct >"$D/$w/d/sub/g"
	rm "$D/$w/f" && echo direct >"$D/$w/f"
	view_forget
	check_all "after a restart and entries made on the drive at the old names"
	ok "$MODE: renamed entries keep st_ino after a restart; entries made on a drive directly differ"

	# renamed back: the number goes with it, and the new entry there must have moved away
	mv "$W/f" "$W/f-new" && mv "$W/e/f2" "$W/f" || fail "$MODE: renaming back failed"
	view_forget
	same f "$I_f" "renamed back"
	unique "renamed back"

	# the new entry at an old name keeps its own number when the renamed one is gone
	echo x >"$W/x" && mv "$W/x" "$W/y" && echo new >"$W/x" || fail "$MODE: cannot make x, y"
	I_x=$(ino "$W/x")
	rm "$W/y" || fail "$MODE: cannot remove y"
	view_forget
	same x "$I_x" "the renamed entry removed"
	view_stop
	view_start "$BIN" "$DRIVES" "" $env
	same x "$I_x" "the renamed entry removed, after a restart"
	unique "the renamed entry removed, after a restart"
	ok "$MODE: an entry made at a renamed entry's old name keeps its number when that one is gone"
	view_stop
}

both_modes run_mode

# a corrupt map in the state directory: the daemon starts, numbers stay unique
MODE=corrupt-map
W=$V/m-passthrough
for f in "$T"/state/inodes-*.map; do
	[ -f "$f" ] || fail "no inode map in the state directory"
	head -c 100 "$f" >"$f.x" && head -c 3000 /dev/urandom >>"$f.x" && mv "$f.x" "$f"
done
view_start "$BIN" "$DRIVES" ""
unique "a map cut and followed by garbage"
view_stop
printf 'garbage' >"$(ls "$T"/state/inodes-*.map | head -1)"
view_start "$BIN" "$DRIVES" ""
unique "a map of garbage"
view_stop
ok "a corrupt inode map: the view starts and shows no number twice"
