#!/bin/bash
# fs_view.sh -- the mounted view as its users see it (SPEC sections 4 and 9): three tmpfs drives
# (C and D writable, D the primary; R configured `read only = yes`), `pxeimagesfs mount -f`, then
# synthetic parents, union listing, reads, creates, copy-up, unlink/rmdir, rename, xattrs,
# symlinks, statfs, another user, refusals, stable inode numbers, posix_checks inside the view,
# SIGTERM, and a daemonized remount. Needs root and /dev/fuse; exit 77 = skipped (a failure
# under CI=true). Runs every check and names all that failed; gives up after $FS_VIEW_TIMEOUT s.
# shellcheck disable=SC2015 # `[ a ] && [ b ] || fail` is meant: fail unless both hold
set -u
usage="usage: fs_view.sh PXEIMAGESFS_BINARY POSIX_CHECKS_BINARY"
BIN=${1:?$usage}
PC=${2:?$usage}
LIMIT=${FS_VIEW_TIMEOUT:-300}
export LC_ALL=C # error texts ("Permission denied") and sort order

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs and FUSE"
[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
for tool in fusermount3:fuse3 setfattr:attr getfattr:attr setpriv:util-linux perl:perl-base \
	timeout:coreutils sha256sum:coreutils python3:python3; do
	command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
done
[ -x "$BIN" ] || fail "$BIN: not an executable"
[ -x "$PC" ] || fail "$PC: not an executable"
BIN=$(readlink -f "$BIN")

T=$(mktemp -d /tmp/pxeimagesfs-view.XXXXXX) || fail "mktemp"
chmod 755 "$T" # uid 65534 must be able to reach the view
CONF=$T/pxe.conf
V=$T/view/RemoteInstall/SMSImages/SMSPKG
# the drives spell the images path differently; D's spelling is the view's
CDIR=$T/c/remoteinstall/SMSImages/smspkg
DDIR=$T/d/RemoteInstall/SMSImages/SMSPKG
RDIR=$T/r/REMOTEINSTALL/smsimages/SMSPKG
PIDS=()       # `mount -f` processes started here
VIEW_PID=     # the one serving the view now
WATCHDOG=

# --- helpers -------------------------------------------------------------------------------

# mounts_under, mounts_at, view_mounted, wait_mounted: lib.sh
wait_unmounted() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -z "$(mounts_at "$1")" ] && return 0
		sleep 0.05
	done
	return 1
}

# pids of pxeimagesfs processes running with this run's config (e.g. a daemonized mount)
our_daemons() {
	local p cmd
	for p in /proc/[0-9]*; do
		[ "$p/exe" -ef "$BIN" ] || continue # the same file (stat, no fork per process)
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		case " $cmd " in *" $CONF "*) echo "${p#/proc/}" ;; esac
	done
}

# Ends every FUSE connection of ours so that nothing waits on a hung daemon.
abort_views() {
	local majmin pid
	while read -r majmin _; do
		if [ -w "/sys/fs/fuse/connections/${majmin#*:}/abort" ]; then
			echo 1 >"/sys/fs/fuse/connections/${majmin#*:}/abort"
		fi
	done < <(awk -v p="$T/" 'index($5, p) == 1 && / - fuse\.pxeimagesfs / { print $3, $5 }' \
		/proc/self/mountinfo)
	for pid in "${PIDS[@]}" $(our_daemons); do kill -KILL "$pid" 2>/dev/null; done
}

cleanup() {
	local rc=$? i pid mps=()
	mapfile -t mps < <(mounts_under)
	for ((i = ${#mps[@]} - 1; i >= 0; i--)); do
		umount "${mps[i]}" 2>/dev/null || umount -l "${mps[i]}" 2>/dev/null ||
			echo "warning: cannot unmount ${mps[i]}" >&2
	done
	for pid in "${PIDS[@]}" $(our_daemons); do
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "$rc" != 0 ]; then
		for i in "$T"/daemon*.log; do
			[ -s "$i" ] && { echo "--- last lines of $i" >&2; tail -n 40 "$i" >&2; }
		done
	fi
	rm -rf --one-file-system "$T"
	# only now: it also bounds a cleanup stuck on a hung daemon
	if [ -n "$WATCHDOG" ]; then kill "$WATCHDOG" 2>/dev/null; fi
}
trap cleanup EXIT

start_watchdog() {
	(
		trap 'kill "${sp:-}" 2>/dev/null; exit 0' TERM
		sleep "$LIMIT" &
		sp=$!
		wait "$sp"
		echo "FAIL: fs_view: still running after ${LIMIT}s; aborting the view" >&2
		abort_views
	) &
	WATCHDOG=$!
}

sha() { sha256sum 2>/dev/null <"$1" | cut -d' ' -f1; }
mode_owner() { stat -c '%a %u %g' "$1" 2>&1; }
# rename(2) itself: mv would hide an EXDEV by copying
prename() { perl -e 'rename($ARGV[0], $ARGV[1]) or die "rename: $!\n"' "$1" "$2"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
# shellcheck disable=SC2012 # test names are plain
listing() { ls -A "$1" 2>&1 | tr '\n' ' '; }
put() { mkdir -p "$(dirname "$1")" && printf '%s\n' "$2" >"$1"; } # put FILE LINE

# --- drives, fixtures, config --------------------------------------------------------------

# C and D differ in size so that statfs tells them apart; C holds the 64 MiB file
for spec in c:128m d:192m r:32m; do
	mkdir "$T/${spec%%:*}"
	mount -t tmpfs -o "size=${spec#*:},mode=755" tmpfs "$T/${spec%%:*}" ||
		need "cannot mount tmpfs"
done
mkdir "$T/view" "$T/state" "$T/run"
mkdir -p "$CDIR" "$DDIR" "$RDIR"

make_fixtures() {
	# union
	put "$CDIR/PKGC0001/boot.PKGC0001.wim" "only on C"
	put "$DDIR/PKGD0001/boot.PKGD0001.wim" "only on D"
	put "$CDIR/pkgb0001/boot.PKGB0001.wim" "both: C's copy"
	put "$CDIR/pkgb0001/c-extra.txt" "C extra"
	put "$DDIR/PKGB0001/boot.PKGB0001.wim" "both: D's copy, which wins"
	put "$DDIR/PKGB0001/d-extra.txt" "D extra"
	put "$CDIR/BOOT.WIM" "C's BOOT.WIM"
	put "$DDIR/boot.wim" "D's boot.wim"
	# sizes, one merged directory over three drives
	mkdir -p "$CDIR/SIZES" "$DDIR/SIZES" "$RDIR/SIZES"
	: >"$CDIR/SIZES/zero.bin"
	head -c 1 /dev/urandom >"$DDIR/SIZES/one.bin"
	head -c $((1024 * 1024 + 1)) /dev/urandom >"$RDIR/SIZES/mib1.bin"
	head -c $((64 * 1024 * 1024)) /dev/urandom >"$CDIR/SIZES/big64.bin"
	# parents to clone: only on C, with their own modes and owners
	mkdir -p "$CDIR/PKGCLONE/inner"
	chown 1234:2345 "$CDIR/PKGCLONE"
	chmod 02751 "$CDIR/PKGCLONE"
	chown 3456:4567 "$CDIR/PKGCLONE/inner"
	chmod 00700 "$CDIR/PKGCLONE/inner" # 00: GNU chmod keeps a directory's setgid bit otherwise
	# parents whose modes a umask would cut
	mkdir -p "$CDIR/PKGCLONE7/sticky"
	chmod 0777 "$CDIR/PKGCLONE7"
	chmod 01775 "$CDIR/PKGCLONE7/sticky"
	# copy-up: only on the read-only drive; written in place on C
	mkdir -p "$RDIR/PKGRO01"
	head -c $((1024 * 1024 + 7)) /dev/urandom >"$RDIR/PKGRO01/boot.PKGRO01.wim"
	printf '0123456789abcdef' >"$RDIR/PKGRO01/trunc.txt"
	chown 1234:2345 "$RDIR/PKGRO01" "$RDIR/PKGRO01/boot.PKGRO01.wim"
	chmod 0750 "$RDIR/PKGRO01"
	chmod 0640 "$RDIR/PKGRO01/boot.PKGRO01.wim"
	put "$CDIR/PKGWIP/inplace.txt" "in place"
	# unlink/rmdir
	put "$CDIR/PKGDUP/dup.txt" "dup on C"
	put "$DDIR/PKGDUP/dup.txt" "dup on D"
	put "$CDIR/PKGDUP/Case.txt" "case on C"
	put "$DDIR/PKGDUP/CASE.TXT" "case on D"
	put "$DDIR/PKGRODEL/x.txt" "x on D"
	put "$RDIR/PKGRODEL/x.txt" "x on R"
	mkdir -p "$DDIR/PKGRODIR" "$RDIR/PKGRODIR" "$DDIR/PKGNE"
	put "$CDIR/PKGNE/f" "keeps PKGNE non-empty"
	# rename
	mkdir -p "$DDIR/PKGREN" "$CDIR/PKGSRC" "$DDIR/PKGDST"
	head -c 100000 /dev/urandom >"$DDIR/PKGREN/a.txt"
	head -c $((3 * 1024 * 1024)) /dev/urandom >"$CDIR/PKGSRC/src.wim"
	# xattrs
	put "$DDIR/PKGXATTR/d.txt" "xattr on D"
	put "$CDIR/PKGXATTR/c.txt" "xattr on C"
	put "$RDIR/PKGXATTR/r.txt" "xattr on R"
	# inode numbers
	put "$CDIR/PKGINO/conly.txt" "C only"
	put "$DDIR/PKGINO/donly.txt" "D only"
	put "$CDIR/PKGINO/moving.txt" "C copy"
	put "$CDIR/PKGINO/live.txt" "C copy"
	# symlinks; hostdir is on drive D but outside its images folder
	mkdir -p "$DDIR/PKGLNK"
	ln -s /etc/passwd "$DDIR/PKGLNK/passwd-link"
	ln -s ../../../../hostdir "$DDIR/PKGLNK/escape"
	put "$T/d/hostdir/secret" "outside the images folder"
	# permissions
	put "$DDIR/PKGPERM/public.txt" "public"
	put "$DDIR/PKGPERM/private.txt" "private"
	put "$DDIR/PKGPERM/closed/inside.txt" "inside"
	put "$RDIR/PKGPERM/r-public.txt" "public on R"
	mkdir -p "$DDIR/PKGPERM/drop"
	chmod 0644 "$DDIR/PKGPERM/public.txt" "$RDIR/PKGPERM/r-public.txt"
	chmod 0600 "$DDIR/PKGPERM/private.txt"
	chmod 0700 "$DDIR/PKGPERM/closed"
	chmod 1777 "$DDIR/PKGPERM/drop"
}
(set -e; make_fixtures) # not in an `||` list, where set -e would be off
# shellcheck disable=SC2181
[ $? = 0 ] || fail "setting up the drives"

drive_sections DRIVES "C:$T/c:10:rw" "D:$T/d:20" "R:$T/r:5:ro"
cat >"$CONF" <<CONF
[global]
    mountpoint = $T/view
    images path = RemoteInstall\\SMSImages\\SMSPKG
    mode = union
    state directory = $T/state
    run directory = $T/run
    mount timeout = 5s
    log level = ${FS_VIEW_LOG_LEVEL:-info}
$DRIVES
[share]
    samba = none
CONF

# --- the checks (each runs in a subshell: `fail` ends only that check) ---------------------

check_mount_options() {
	local fstype src opts n
	n=$(mounts_at "$T/view" | wc -l)
	[ "$n" = 1 ] || fail "mount: $n mounts at $T/view, want 1"
	read -r fstype src opts < <(mounts_at "$T/view")
	[ "$fstype" = fuse.pxeimagesfs ] || fail "mount: fstype '$fstype', want fuse.pxeimagesfs"
	[ "$src" = pxeimagesfs ] || fail "mount: source '$src', want pxeimagesfs (fsname)"
	case ",$opts," in *,allow_other,*) ;; *) fail "mount: no allow_other in '$opts'" ;; esac
	case ",$opts," in
	*,default_permissions,*) ;;
	*) fail "mount: no default_permissions in '$opts'" ;;
	esac
	ok "mount: fuse.pxeimagesfs with fsname, allow_other and default_permissions"
}

check_parents() {
	local d
	[ "$(listing "$T/view")" = "RemoteInstall " ] ||
		fail "parents: the view root lists '$(listing "$T/view")', want only RemoteInstall"
	[ "$(listing "$T/view/RemoteInstall")" = "SMSImages " ] ||
		fail "parents: RemoteInstall lists '$(listing "$T/view/RemoteInstall")', want SMSImages"
	[ "$(listing "$T/view/RemoteInstall/SMSImages")" = "SMSPKG " ] ||
		fail "parents: SMSImages lists '$(listing "$T/view/RemoteInstall/SMSImages")'"
	for d in "$T/view" "$T/view/RemoteInstall" "$T/view/RemoteInstall/SMSImages" "$V"; do
		[ -d "$d" ] && [ ! -L "$d" ] || fail "parents: $d is not a directory"
	done
	for d in "$T/view" "$T/view/RemoteInstall" "$T/view/RemoteInstall/SMSImages"; do
		if touch "$d/pxetest-file" 2>/dev/null; then fail "parents: created a file in $d"; fi
		if mkdir "$d/pxetest-dir" 2>/dev/null; then fail "parents: created a directory in $d"; fi
		if ln -s x "$d/pxetest-link" 2>/dev/null; then fail "parents: created a symlink in $d"; fi
	done
	if prename "$T/view/RemoteInstall" "$T/view/Other" 2>/dev/null; then
		fail "parents: renamed the synthetic RemoteInstall"
	fi
	[ -z "$(find "$T/c" "$T/d" "$T/r" -name 'pxetest-*')" ] ||
		fail "parents: a create in a synthetic parent reached a drive"
	ok "parents: RemoteInstall/SMSImages are synthetic, read-only directories"
}

check_union() {
	local top n c dups
	top=$(ls -A "$V") || fail "union: cannot list $V"
	for n in PKGC0001 PKGD0001 PKGB0001 boot.wim; do
		c=$(grep -cxF -- "$n" <<<"$top")
		[ "$c" = 1 ] || fail "union: '$n' listed $c times in the images folder, want once"
	done
	if grep -qxF BOOT.WIM <<<"$top"; then
		fail "union: C's spelling BOOT.WIM listed; D ranks higher, only 'boot.wim' may show"
	fi
	dups=$(sort -f <<<"$top" | uniq -di)
	[ -z "$dups" ] || fail "union: listed more than once (ignoring case): $dups"
	[ "$(cat "$V/PKGC0001/boot.PKGC0001.wim")" = "only on C" ] || fail "union: C-only package"
	[ "$(cat "$V/PKGD0001/boot.PKGD0001.wim")" = "only on D" ] || fail "union: D-only package"
	[ "$(cat "$V/PKGB0001/boot.PKGB0001.wim")" = "both: D's copy, which wins" ] ||
		fail "union: PKGB0001 (C and D) reads '$(cat "$V/PKGB0001/boot.PKGB0001.wim")', want D's"
	[ "$(listing "$V/PKGB0001")" = "boot.PKGB0001.wim c-extra.txt d-extra.txt " ] ||
		fail "union: PKGB0001 (pkgb0001 on C) lists '$(listing "$V/PKGB0001")'"
	[ "$(cat "$V/PKGB0001/c-extra.txt")" = "C extra" ] || fail "union: C's file in a merged dir"
	[ "$(cat "$V/boot.wim")" = "D's boot.wim" ] || fail "union: boot.wim is not D's"
	# no drive has this spelling: matched case-insensitively, D first
	[ "$(cat "$V/Boot.Wim")" = "D's boot.wim" ] ||
		fail "union: Boot.Wim reads '$(cat "$V/Boot.Wim" 2>&1)', want D's boot.wim"
	[ -f "$V/BOOT.WIM" ] || fail "union: BOOT.WIM cannot be looked up"
	[ "$(cat "$V/pkgd0001/BOOT.pkgd0001.WIM")" = "only on D" ] ||
		fail "union: case-insensitive lookup of pkgd0001/BOOT.pkgd0001.WIM"
	ok "union: merged listing, no duplicates, higher rank wins content and spelling"
}

check_reads() {
	local spec n src want got
	for spec in "zero.bin:$CDIR" "one.bin:$DDIR" "mib1.bin:$RDIR" "big64.bin:$CDIR"; do
		n=${spec%%:*} src=${spec#*:}/SIZES/${spec%%:*}
		want=$(sha "$src") got=$(sha "$V/SIZES/$n")
		[ -n "$want" ] && [ "$got" = "$want" ] ||
			fail "reads: SIZES/$n: sha256 '$got' through the view, '$want' on the drive"
		[ "$(stat -c %s "$V/SIZES/$n")" = "$(stat -c %s "$src")" ] ||
			fail "reads: SIZES/$n: size $(stat -c %s "$V/SIZES/$n"), want $(stat -c %s "$src")"
	done
	src=$CDIR/SIZES/big64.bin
	[ "$(dd if="$V/SIZES/big64.bin" bs=4097 status=none | sha256sum)" = \
		"$(sha256sum <"$src")" ] || fail "reads: big64.bin read in 4097-byte blocks differs"
	[ "$(tail -c 70001 "$V/SIZES/big64.bin" | sha256sum)" = \
		"$(tail -c 70001 "$src" | sha256sum)" ] || fail "reads: the tail of big64.bin differs"
	[ "$(listing "$V/SIZES")" = "big64.bin mib1.bin one.bin zero.bin " ] ||
		fail "reads: SIZES (on C, D and R) lists '$(listing "$V/SIZES")'"
	ok "reads: 0 B, 1 B, 1 MiB+1 and 64 MiB files byte-exact from C, D and R"
}

check_create() {
	local d want got
	echo "created through the view" >"$V/PKGCLONE/inner/new.txt" ||
		fail "create: cannot create PKGCLONE/inner/new.txt"
	[ "$(cat "$DDIR/PKGCLONE/inner/new.txt" 2>&1)" = "created through the view" ] ||
		fail "create: new.txt is not on the primary D ($DDIR/PKGCLONE/inner/new.txt)"
	[ ! -e "$CDIR/PKGCLONE/inner/new.txt" ] || fail "create: new.txt landed on C"
	echo "group-writable parents" >"$V/PKGCLONE7/sticky/new.txt" ||
		fail "create: cannot create PKGCLONE7/sticky/new.txt"
	for d in PKGCLONE PKGCLONE/inner PKGCLONE7 PKGCLONE7/sticky; do
		want=$(mode_owner "$CDIR/$d") got=$(mode_owner "$DDIR/$d")
		[ "$got" = "$want" ] || fail "create: $d cloned on D as '$got' (mode uid gid), C has '$want'"
	done
	mkdir "$V/PKGCLONE/inner/newdir" || fail "create: mkdir through the view"
	[ -d "$DDIR/PKGCLONE/inner/newdir" ] && [ ! -e "$CDIR/PKGCLONE/inner/newdir" ] ||
		fail "create: newdir is not (only) on D"
	ln -s new.txt "$V/PKGCLONE/inner/newlink" || fail "create: symlink through the view"
	[ -L "$DDIR/PKGCLONE/inner/newlink" ] && [ ! -L "$CDIR/PKGCLONE/inner/newlink" ] ||
		fail "create: newlink is not (only) on D"
	[ "$(readlink "$V/PKGCLONE/inner/newlink")" = new.txt ] || fail "create: readlink newlink"
	[ "$(cat "$V/PKGCLONE/inner/newlink")" = "created through the view" ] ||
		fail "create: reading through newlink"
	[ "$(listing "$V/PKGCLONE/inner")" = "new.txt newdir newlink " ] ||
		fail "create: PKGCLONE/inner lists '$(listing "$V/PKGCLONE/inner")'"
	echo top >"$V/newtop.txt" && [ "$(cat "$DDIR/newtop.txt" 2>&1)" = top ] ||
		fail "create: newtop.txt is not on D"
	ok "create: files, directories and symlinks go to D, parents cloned with C's mode and owner"
}

check_copy_up() {
	local f=PKGRO01/boot.PKGRO01.wim orig want
	orig=$(sha "$RDIR/$f")
	{ head -c 100 "$RDIR/$f"; printf PATCH; tail -c +106 "$RDIR/$f"; } >"$T/expected.bin"
	want=$(sha "$T/expected.bin")
	printf PATCH | dd of="$V/$f" bs=1 seek=100 conv=notrunc status=none ||
		fail "copy-up: writing into $f (only on read-only R) failed"
	[ "$(sha "$RDIR/$f")" = "$orig" ] || fail "copy-up: the original on read-only R changed"
	[ -f "$DDIR/$f" ] || fail "copy-up: no copy of $f on the primary D"
	[ "$(sha "$DDIR/$f")" = "$want" ] ||
		fail "copy-up: D's copy is not the original with bytes 100-104 patched"
	[ "$(sha "$V/$f")" = "$want" ] || fail "copy-up: the view does not show the patched file"
	[ "$(mode_owner "$DDIR/$f")" = "$(mode_owner "$RDIR/$f")" ] ||
		fail "copy-up: copy is '$(mode_owner "$DDIR/$f")', original '$(mode_owner "$RDIR/$f")'"
	[ "$(mode_owner "$DDIR/PKGRO01")" = "$(mode_owner "$RDIR/PKGRO01")" ] ||
		fail "copy-up: parent cloned as '$(mode_owner "$DDIR/PKGRO01")', R has" \
			"'$(mode_owner "$RDIR/PKGRO01")'"
	truncate -s 4 "$V/PKGRO01/trunc.txt" || fail "copy-up: truncate trunc.txt through the view"
	[ "$(cat "$RDIR/PKGRO01/trunc.txt")" = 0123456789abcdef ] ||
		fail "copy-up: truncate changed the original on R"
	[ "$(cat "$V/PKGRO01/trunc.txt")" = 0123 ] && [ "$(cat "$DDIR/PKGRO01/trunc.txt")" = 0123 ] ||
		fail "copy-up: truncated trunc.txt reads '$(cat "$V/PKGRO01/trunc.txt")', want 0123"
	# a file on a writable drive is written where it is
	echo more >>"$V/PKGWIP/inplace.txt" || fail "copy-up: append to PKGWIP/inplace.txt (on C)"
	[ "$(cat "$CDIR/PKGWIP/inplace.txt")" = "in place
more" ] || fail "copy-up: the file on writable C was not written in place"
	[ ! -e "$DDIR/PKGWIP" ] || fail "copy-up: a file on writable C was copied to D"
	[ -z "$(find "$T/c" "$T/d" "$T/r" -name '.pxeimagesfs-tmp.*')" ] ||
		fail "copy-up: temporary files left on the drives:" \
			"$(find "$T/c" "$T/d" "$T/r" -name '.pxeimagesfs-tmp.*')"
	[ "$(listing "$V/PKGRO01")" = "boot.PKGRO01.wim trunc.txt " ] ||
		fail "copy-up: PKGRO01 lists '$(listing "$V/PKGRO01")'"
	[ -z "$(find "$V" -maxdepth 1 -name '.pxeimagesfs-tmp.*')" ] || fail "copy-up: temp file in the view"
	ok "copy-up: a file only on read-only R is copied to D before writing; R untouched"
}

# expect_error TEXT WHAT CMD...: CMD fails, and its output contains TEXT
expect_error() {
	local want=$1 what=$2 out
	shift 2
	if out=$("$@" 2>&1); then fail "$what succeeded, want '$want'"; fi
	grep -qF "$want" <<<"$out" || fail "$what: '$out', want '$want'"
}

check_remove() {
	rm "$V/PKGDUP/dup.txt" || fail "remove: unlink of PKGDUP/dup.txt (on C and D)"
	[ ! -e "$CDIR/PKGDUP/dup.txt" ] || fail "remove: C's copy of dup.txt survived"
	[ ! -e "$DDIR/PKGDUP/dup.txt" ] || fail "remove: D's copy of dup.txt survived"
	[ ! -e "$V/PKGDUP/dup.txt" ] || fail "remove: dup.txt still in the view"
	rm "$V/PKGDUP/CASE.TXT" || fail "remove: unlink of PKGDUP/CASE.TXT (Case.txt on C)"
	[ ! -e "$CDIR/PKGDUP/Case.txt" ] && [ ! -e "$DDIR/PKGDUP/CASE.TXT" ] ||
		fail "remove: a case variant survived: C '$(listing "$CDIR/PKGDUP")'," \
			"D '$(listing "$DDIR/PKGDUP")'"
	[ -z "$(ls -A "$V/PKGDUP")" ] || fail "remove: PKGDUP still lists '$(listing "$V/PKGDUP")'"
	rmdir "$V/PKGDUP" || fail "remove: rmdir of PKGDUP (on C and D)"
	[ ! -e "$CDIR/PKGDUP" ] && [ ! -e "$DDIR/PKGDUP" ] || fail "remove: a copy of PKGDUP survived"
	[ ! -e "$V/PKGDUP" ] || fail "remove: PKGDUP still in the view"

	expect_error "Read-only file system" "remove: unlink of PKGRODEL/x.txt (also on R)" \
		rm "$V/PKGRODEL/x.txt"
	[ -e "$DDIR/PKGRODEL/x.txt" ] && [ -e "$RDIR/PKGRODEL/x.txt" ] ||
		fail "remove: a failed unlink removed a copy of x.txt"
	[ "$(cat "$V/PKGRODEL/x.txt")" = "x on D" ] || fail "remove: x.txt after the failed unlink"
	expect_error "Read-only file system" "remove: rmdir of PKGRODIR (also on R)" \
		rmdir "$V/PKGRODIR"
	[ -d "$DDIR/PKGRODIR" ] && [ -d "$RDIR/PKGRODIR" ] ||
		fail "remove: a failed rmdir removed a copy of PKGRODIR"
	expect_error "Directory not empty" "remove: rmdir of PKGNE (empty on D, a file on C)" \
		rmdir "$V/PKGNE"
	[ -d "$DDIR/PKGNE" ] && [ -f "$CDIR/PKGNE/f" ] || fail "remove: rmdir of PKGNE removed a copy"
	ok "remove: unlink/rmdir remove every copy; EROFS and nothing removed if one is on R"
}

check_rename() {
	local want n
	want=$(sha "$DDIR/PKGREN/a.txt")
	prename "$V/PKGREN/a.txt" "$V/PKGREN/b.txt" || fail "rename: within D"
	[ "$(sha "$V/PKGREN/b.txt")" = "$want" ] || fail "rename: b.txt content differs"
	[ ! -e "$V/PKGREN/a.txt" ] && [ ! -e "$DDIR/PKGREN/a.txt" ] || fail "rename: a.txt still there"
	[ -f "$DDIR/PKGREN/b.txt" ] || fail "rename: b.txt is not on D"
	want=$(sha "$CDIR/PKGSRC/src.wim")
	prename "$V/PKGSRC/src.wim" "$V/PKGDST/dst.wim" ||
		fail "rename: PKGSRC/src.wim (on C) to PKGDST/dst.wim (PKGDST only on D)"
	[ "$(sha "$V/PKGDST/dst.wim")" = "$want" ] || fail "rename: dst.wim content differs"
	[ ! -e "$V/PKGSRC/src.wim" ] || fail "rename: src.wim still in the view"
	[ ! -e "$CDIR/PKGSRC/src.wim" ] || fail "rename: src.wim still on C"
	n=$(find "$T/c" "$T/d" "$T/r" -name dst.wim | wc -l)
	[ "$n" = 1 ] || fail "rename: $n copies of dst.wim on the drives, want 1"
	[ "$(listing "$V/PKGDST")" = "dst.wim " ] || fail "rename: PKGDST lists '$(listing "$V/PKGDST")'"
	[ -z "$(ls -A "$V/PKGSRC")" ] || fail "rename: PKGSRC lists '$(listing "$V/PKGSRC")'"
	ok "rename: within a drive and across drives (no EXDEV), content intact"
}

xattr_of() { getfattr --absolute-names -e hex -n "$1" "$2" 2>&1 | sed -n "s/^$1=//p"; }

check_xattr() {
	local ns=user val=0x000004000400000011000000200000000000000000a1b2c3d4e5f6 spec f drive
	if setfattr -n user.pxeprobe -v 1 "$T/d/hostdir/secret" 2>/dev/null; then
		setfattr -x user.pxeprobe "$T/d/hostdir/secret"
	else
		ns=security
		echo "# tmpfs has no user.* xattrs on this kernel (Linux < 6.6): using security.DOSATTRIB"
	fi
	for spec in "PKGXATTR/d.txt:$DDIR" "PKGXATTR/c.txt:$CDIR"; do
		f=${spec%%:*} drive=${spec#*:}
		setfattr -n "$ns.DOSATTRIB" -v "$val" "$V/$f" || fail "xattr: setfattr on $f"
		[ "$(xattr_of "$ns.DOSATTRIB" "$V/$f")" = "$val" ] ||
			fail "xattr: $f reads '$(xattr_of "$ns.DOSATTRIB" "$V/$f")', want $val"
		[ "$(xattr_of "$ns.DOSATTRIB" "$drive/$f")" = "$val" ] ||
			fail "xattr: $f on its drive has '$(xattr_of "$ns.DOSATTRIB" "$drive/$f")'"
		getfattr --absolute-names -d -m - "$V/$f" 2>/dev/null | grep -q "^$ns\.DOSATTRIB=" ||
			fail "xattr: listxattr of $f does not name $ns.DOSATTRIB"
		setfattr -x "$ns.DOSATTRIB" "$V/$f" || fail "xattr: removing it from $f"
		if getfattr -n "$ns.DOSATTRIB" "$V/$f" >/dev/null 2>&1 ||
			getfattr -n "$ns.DOSATTRIB" "$drive/$f" >/dev/null 2>&1; then
			fail "xattr: $ns.DOSATTRIB still on $f after removing it"
		fi
	done
	[ ! -e "$DDIR/PKGXATTR/c.txt" ] || fail "xattr: setting an xattr copied c.txt (on C) to D"
	# as Samba does it: the file held open while its xattr is set by path, then read through
	# the open descriptor (fgetxattr, flistxattr); R's file is copied up to D by the set, and
	# the open descriptor must not answer with the read-only original's
	for spec in "PKGXATTR/d.txt:$DDIR" "PKGXATTR/c.txt:$CDIR" "PKGXATTR/r.txt:$DDIR"; do
		f=${spec%%:*} drive=${spec#*:}
		out=$(python3 - "$V/$f" "$ns.DOSATTRIB" "$val" <<'PY' 2>&1
import os, sys
path, name, val = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3][2:])
fd = os.open(path, os.O_RDONLY)
def fd_has():
    try:
        got = os.getxattr(fd, name)
    except OSError as e:
        got = e.strerror
    return got, name in os.listxattr(fd)
os.setxattr(path, name, val)
got, listed = fd_has()
if got != val or not listed:
    sys.exit(f"after setting it by path, the open descriptor reads {got!r} (listed: {listed})")
os.removexattr(path, name)
got, listed = fd_has()
if got != "No data available" or listed:
    sys.exit(f"after removing it by path, the open descriptor reads {got!r} (listed: {listed})")
os.close(fd)
PY
		) || fail "xattr: $f held open: $out"
		[ "$f" != PKGXATTR/r.txt ] || [ -e "$drive/$f" ] || fail "xattr: setting an xattr on r.txt (on R) did not copy it to D"
	done
	ok "xattr: $ns.DOSATTRIB set, read, listed and removed on D and C files; read through an open descriptor after a set by path (R's file copied up)"
}

check_symlinks() {
	local l=$V/PKGLNK/passwd-link e=$V/PKGLNK/escape out
	[ "$(stat -c %F "$l")" = "symbolic link" ] ||
		fail "symlinks: passwd-link shows as '$(stat -c %F "$l" 2>&1)', want symbolic link"
	[ "$(readlink "$l")" = /etc/passwd ] || fail "symlinks: readlink passwd-link"
	# the kernel follows it, to the host's /etc/passwd: fine
	cmp -s "$l" /etc/passwd || fail "symlinks: passwd-link does not lead to /etc/passwd"
	# on D, escape leads to $T/d/hostdir (outside the images folder); the daemon must report
	# the link itself, and the kernel resolves it in the view: PKGLNK/../../../.. is the view
	# root, which has no hostdir
	[ "$(stat -c %F "$e")" = "symbolic link" ] ||
		fail "symlinks: escape shows as '$(stat -c %F "$e" 2>&1)' (followed on the drive?)"
	[ "$(readlink "$e")" = ../../../../hostdir ] || fail "symlinks: readlink escape"
	if out=$(ls -A "$e/" 2>&1); then fail "symlinks: escape/ lists '$out', want ENOENT"; fi
	grep -q "No such file or directory" <<<"$out" || fail "symlinks: escape/: '$out', want ENOENT"
	[ ! -e "$e/secret" ] || fail "symlinks: escape/secret (on D outside the images) reachable"
	[ ! -e "$T/view/hostdir" ] || fail "symlinks: the view root shows D's hostdir"
	# .. is the kernel's business and stays in the view's own tree
	[ "$(listing "$V/..")" = "SMSPKG " ] || fail "symlinks: $V/.. lists '$(listing "$V/..")'"
	if out=$(cat "$V/../../../etc/passwd" 2>&1); then
		fail "symlinks: $V/../../../etc/passwd (the view root's etc) was readable"
	fi
	ok "symlinks: shown as links, never followed out of the images folder by the daemon"
}

blocks() { df --output=size,avail "$1" | awk 'NR == 2 { print $1, $2 }'; }

check_statfs() {
	local c d v s d2 i
	for ((i = 0; i < 5; i++)); do # measure again if D changed meanwhile
		d=$(blocks "$T/d") v=$(blocks "$T/view") s=$(blocks "$V") d2=$(blocks "$T/d")
		[ "$d" = "$d2" ] && break
		sleep 0.2
	done
	c=$(blocks "$T/c")
	[ -n "$d" ] && [ "$c" != "$d" ] || fail "statfs: test bug: C and D both report '$d'"
	[ "$v" = "$d" ] || fail "statfs: df on the view says '$v' (size avail), D '$d', C '$c'"
	[ "$s" = "$d" ] || fail "statfs: df on the images folder says '$s', D '$d'"
	[ "$(stat -f -c '%S %b %f %a' "$V")" = "$(stat -f -c '%S %b %f %a' "$T/d")" ] ||
		fail "statfs: stat -f on the view '$(stat -f -c '%S %b %f %a' "$V")'," \
			"D '$(stat -f -c '%S %b %f %a' "$T/d")'"
	ok "statfs: the view reports the primary drive D"
}

check_other_user() {
	local out
	[ "$(as_nobody cat "$V/PKGPERM/public.txt" 2>&1)" = public ] ||
		fail "other-user: 65534 cannot read 0644 public.txt: $(as_nobody cat "$V/PKGPERM/public.txt" 2>&1)"
	[ "$(as_nobody cat "$V/PKGPERM/r-public.txt" 2>&1)" = "public on R" ] ||
		fail "other-user: 65534 cannot read 0644 r-public.txt (on R)"
	expect_error "Permission denied" "other-user: 65534 reading 0600 private.txt" \
		as_nobody cat "$V/PKGPERM/private.txt"
	expect_error "Permission denied" "other-user: 65534 listing 0700 closed/" \
		as_nobody ls "$V/PKGPERM/closed"
	expect_error "Permission denied" "other-user: 65534 creating in root's 0755 PKGPERM" \
		as_nobody touch "$V/PKGPERM/nobody.txt"
	[ ! -e "$DDIR/PKGPERM/nobody.txt" ] || fail "other-user: the refused create made a file"
	# shellcheck disable=SC2016 # $1 is the inner shell's
	out=$(as_nobody sh -c 'echo mine >"$1"' sh "$V/PKGPERM/drop/mine.txt" 2>&1) ||
		fail "other-user: 65534 cannot create in the 1777 drop/: $out"
	[ "$(stat -c %u:%g "$DDIR/PKGPERM/drop/mine.txt")" = 65534:65534 ] ||
		fail "other-user: a file 65534 created is owned by" \
			"$(stat -c %u:%g "$DDIR/PKGPERM/drop/mine.txt" 2>&1) on D, want 65534:65534"
	ok "other-user: 65534 reads what the mode allows, EACCES otherwise, owns what it creates"
}

check_inodes() {
	local i1 i2 i p
	[ "$(cat "$V/PKGINO/moving.txt")" = "C copy" ] || fail "inodes: moving.txt is not C's"
	: >"$T/inodes" # for check_remount
	for p in PKGINO/conly.txt PKGINO/donly.txt PKGINO/moving.txt PKGINO/live.txt PKGINO \
		boot.wim PKGB0001 PKGB0001/c-extra.txt SIZES/big64.bin SIZES/mib1.bin; do
		i=$(stat -c %i "$V/$p") || fail "inodes: stat $p"
		echo "$p $i" >>"$T/inodes"
	done
	[ -z "$(cut -d' ' -f2 "$T/inodes" | sort | uniq -d)" ] ||
		fail "inodes: different paths share an st_ino: $(tr '\n' ';' <"$T/inodes")"
	i1=$(stat -c %i "$V/PKGINO/live.txt")
	[ "$(cat "$V/PKGINO/live.txt")" = "C copy" ] || fail "inodes: live.txt is not C's"
	printf 'D copy, longer\n' >"$DDIR/PKGINO/live.txt"
	rm "$CDIR/PKGINO/live.txt"
	for ((i = 0; i < 25; i++)); do
		[ "$(cat "$V/PKGINO/live.txt" 2>/dev/null)" = "D copy, longer" ] && break
		sleep 0.2
	done
	[ "$(cat "$V/PKGINO/live.txt" 2>&1)" = "D copy, longer" ] ||
		fail "inodes: 5 s after C's live.txt was replaced by D's the view reads" \
			"'$(cat "$V/PKGINO/live.txt" 2>&1)'"
	i2=$(stat -c %i "$V/PKGINO/live.txt")
	[ "$i1" = "$i2" ] || fail "inodes: live.txt has st_ino $i1 from C, $i2 from D"
	# one file, two spellings (the second matched case-insensitively): one inode
	[ "$(stat -c %i "$V/boot.wim")" = "$(stat -c %i "$V/Boot.Wim")" ] ||
		fail "inodes: boot.wim and Boot.Wim (the same file) differ"
	ok "inodes: st_ino stays when the serving drive changes (C to D)"
}

check_refusals() {
	local before rc out
	before=$(mounts_under | wc -l)
	timeout 20 "$BIN" mount -c "$CONF" -f >/dev/null 2>"$T/refusal.err" </dev/null
	rc=$? out=$(cat "$T/refusal.err")
	[ "$rc" = 2 ] || fail "refusals: a second mount on $T/view exited $rc, want 2 ($out)"
	grep -qiF -e "$T/view" -e "already mounted" <<<"$out" ||
		fail "refusals: second mount: message '$out' names neither the mountpoint nor the cause"
	[ "$(mounts_at "$T/view" | wc -l)" = 1 ] && [ "$(mounts_under | wc -l)" = "$before" ] ||
		fail "refusals: the refused mount changed the mount table"
	kill -0 "$VIEW_PID" 2>/dev/null || fail "refusals: the first daemon died"
	[ "$(cat "$V/PKGD0001/boot.PKGD0001.wim" 2>&1)" = "only on D" ] ||
		fail "refusals: the first mount stopped working"
	mkdir "$T/c/sub"
	timeout 20 "$BIN" mount -c "$CONF" -f "$T/c/sub" >/dev/null 2>"$T/refusal.err" </dev/null
	rc=$? out=$(cat "$T/refusal.err")
	[ "$rc" = 2 ] || fail "refusals: a mountpoint inside drive C exited $rc, want 2 ($out)"
	grep -qiF -e "$T/c/sub" -e drive <<<"$out" ||
		fail "refusals: inside C: message '$out' names neither the mountpoint nor the drive"
	[ "$(mounts_under | wc -l)" = "$before" ] || fail "refusals: $T/c/sub got mounted"
	rmdir "$T/c/sub"
	ok "refusals: an already mounted mountpoint and one inside a drive, exit 2"
}

# under several umasks: the modes of new entries must be the caller's, never the daemon's
check_posix() {
	local out rc u bad=()
	for u in 022 0 002 077; do
		out=$(timeout 120 "$PC" -u "$u" "$V" 2>&1)
		rc=$?
		printf '# posix_checks -u %s\n# %s\n' "$u" "${out//$'\n'/$'\n'# }"
		[ "$rc" = 0 ] || bad+=("umask $u: exit $rc")
	done
	[ ${#bad[@]} = 0 ] || fail "posix: posix_checks $V failed (${bad[*]})"
	ok "posix: posix_checks inside the view, umasks 022, 0, 002 and 077"
}

# Not in a subshell: `wait` needs the parent. Returns 1 on failure.
check_sigterm() {
	local i rc
	kill -TERM "$VIEW_PID"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$VIEW_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$VIEW_PID" 2>/dev/null; then
		echo "FAIL: sigterm: mount -f still running 10 s after SIGTERM" >&2
		return 1
	fi
	wait "$VIEW_PID"
	rc=$?
	PIDS=() VIEW_PID=
	if [ "$rc" != 0 ]; then
		echo "FAIL: sigterm: mount -f exited $rc after SIGTERM, want 0" >&2
		return 1
	fi
	if [ -n "$(mounts_at "$T/view")" ]; then
		echo "FAIL: sigterm: $T/view still mounted after the process exited" >&2
		return 1
	fi
	ok "sigterm: mount -f unmounts and exits 0"
}

check_remount() {
	local rc p ino got
	[ "$(wc -l <"$T/inodes" 2>/dev/null)" = 10 ] ||
		fail "remount: no st_ino records from the first mount (see the inodes check)"
	# while unmounted, moving.txt moves from C to D
	printf 'D copy, moved here\n' >"$DDIR/PKGINO/moving.txt"
	rm "$CDIR/PKGINO/moving.txt"
	timeout 30 "$BIN" mount -c "$CONF" >/dev/null 2>"$T/daemon2.log" </dev/null
	rc=$?
	[ "$rc" = 0 ] || fail "remount: daemonizing mount exited $rc: $(cat "$T/daemon2.log")"
	view_mounted "$T/view" || fail "remount: mount exited 0 before the view was mounted"
	# other names first, so an inode counter would not hand out the same numbers again
	ls -laR "$V/SIZES" "$V/PKGB0001" "$V/PKGCLONE" >/dev/null
	[ "$(cat "$V/PKGINO/moving.txt")" = "D copy, moved here" ] ||
		fail "remount: moving.txt is not D's copy"
	while read -r p ino; do
		got=$(stat -c %i "$V/$p")
		[ "$got" = "$ino" ] || fail "remount: $p has st_ino $got, was $ino before the remount"
	done < <(tac "$T/inodes")
	umount "$T/view" || fail "remount: umount $T/view"
	wait_unmounted "$T/view" || fail "remount: still mounted 10 s after umount"
	ok "remount: daemonized mount; st_ino kept across unmount/mount and a C-to-D move"
}

# --- run -----------------------------------------------------------------------------------

"$BIN" mount -c "$CONF" -f >"$T/daemon.log" 2>&1 </dev/null &
VIEW_PID=$!
PIDS+=("$VIEW_PID")
start_watchdog
wait_mounted "$T/view" "$VIEW_PID" ||
	fail "no fuse.pxeimagesfs mount at $T/view within 10 s (mounted there: '$(mounts_at "$T/view")')"
[ -d "$V" ] || fail "$V is not a directory in the mounted view"

FAILED=()
for check in mount_options parents union reads create copy_up remove rename xattr symlinks \
	statfs other_user inodes refusals posix; do
	("check_$check") || FAILED+=("$check")
	kill -0 "$VIEW_PID" 2>/dev/null ||
		fail "the daemon (pid $VIEW_PID) died during '$check' (failed so far: ${FAILED[*]:-none})"
done
if check_sigterm; then
	(check_remount) || FAILED+=(remount)
else
	FAILED+=(sigterm)
fi
[ ${#FAILED[@]} = 0 ] || fail "fs_view: ${#FAILED[@]} check(s) failed: ${FAILED[*]}"
echo "fs_view: all checks passed"
