#!/bin/bash
# posix_acl.sh -- POSIX ACLs on a drive are enforced through the view as on the drive (SPEC
# section 4: xattrs, POSIX ACLs among them, pass through). A mode-bits-only check through the
# view would read the ACL's mask as the owning group's bits: a member of the owning group that
# the ACL denies would read the file, and a user the ACL names would be refused.
#
#   deny/allow   a file of root:nogroup with user::rw- user:daemon:rw- group::--- mask::rw-
#                other::---: nobody (of nogroup) is refused and daemon reads, through the view
#                as on the drive; the ACL reads back through the view byte for byte, and a
#                folder's default ACL too
#   outside      the ACL changed on the drive (a grant to nobody, then taken back): the view
#                follows within BOUND_MS (2 s), however long the kernel may cache it
#   through      an ACL set through the view lands on the drive and is enforced at once; one
#                removed through the view likewise
#   inherit      files and folders made through the view in a folder with a default ACL get
#                the ACL and mode made on the drive get (umask 022, 077, 000), and in a folder
#                without one the mode asked less the umask, as on the drive
#   window       an entry made through the view (file, folder, FIFO) is never more open on the
#                drive, even for an instant, than its final mode (createmode.so, preloaded into
#                the daemon, records the mode each is made with); the daemon's umask 022, the
#                makers' 077 and 027
#   noacl        a drive without ACLs (squashfs on a loop device, as vfat or exFAT: the drive
#                answers EOPNOTSUPP): its files are reached by their mode bits (0640
#                root:nogroup: nobody reads, daemon does not), an ACL reads as absent, and
#                setting one fails as on the drive
# Needs root, /dev/fuse, setpriv and losetup (util-linux), mksquashfs (squashfs-tools), python3.
# Exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
set -u
BIN=${1:?usage: posix_acl.sh PXEIMAGESFS_BINARY CREATEMODE_SO}
SHIM=${2:?usage: posix_acl.sh PXEIMAGESFS_BINARY CREATEMODE_SO}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 python3:python3 setpriv:util-linux losetup:mount mksquashfs:squashfs-tools

BOUND_MS=${PXE_ACL_BOUND_MS:-2000}
NOBODY=65534 NOGROUP=65534 DAEMON=1

view_sandbox acl
acl_cleanup() {
	local rc=$?
	view_stop_or_kill
	loop_detach
	view_cleanup
	exit "$rc"
}
trap acl_cleanup EXIT
trap 'exit 143' TERM INT

# acl FILE SPEC|-: set FILE's access ACL (system.posix_acl_access) to SPEC, entries
# "tag:id:perm" with tag u, g, m or o, id empty for the owner, owning group, mask and other,
# perm a number (rwx = 7); "-" removes it. Exit status 1 with the errno's name on failure.
acl() {
	python3 - "$@" <<'PY'
import errno, os, struct, sys
path, spec = sys.argv[1], sys.argv[2]
name = "system.posix_acl_" + (sys.argv[3] if len(sys.argv) > 3 else "access")
try:
    if spec == "-":
        os.removexattr(path, name)
        sys.exit(0)
    tags = {"u": (0x01, 0x02), "g": (0x04, 0x08), "m": (0x10, 0x10), "o": (0x20, 0x20)}
    ents = []
    for e in spec.split(","):
        t, i, p = e.split(":")
        ents.append((tags[t][1 if i else 0], int(p), int(i) if i else 0xFFFFFFFF))
    ents.sort(key=lambda x: (x[0], x[2]))
    os.setxattr(path, name, struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *x) for x in ents))
except OSError as e:
    print("EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else errno.errorcode.get(e.errno, e.errno))
    sys.exit(1)
PY
}
# acl_bytes FILE [access|default]: the ACL xattr in hex, or the errno's name
acl_bytes() {
	python3 -c "import errno, os, sys
try: print(os.getxattr(sys.argv[1], 'system.posix_acl_' + sys.argv[2]).hex())
except OSError as e: print('EOPNOTSUPP' if e.errno == errno.EOPNOTSUPP else errno.errorcode.get(e.errno, e.errno))" "$1" "${2:-access}"
}
# reads_as UID GID FILE: "yes" when UID (in GID only) can read FILE, else "no"
reads_as() {
	if setpriv --reuid="$1" --regid="$2" --clear-groups cat "$3" >/dev/null 2>&1; then echo yes; else echo no; fi
}
# same_as_drive WHAT UID GID REL WANT: through the view and on drive C alike, and WANT
same_as_drive() {
	local native view
	native=$(reads_as "$2" "$3" "$C/$4") view=$(reads_as "$2" "$3" "$V/$4")
	[ "$native" = "$5" ] || fail "$1: on the drive uid $2 reads $4: $native (the test expects $5)"
	[ "$view" = "$native" ] || fail "$1: uid $2 reads $4 through the view: $view; on the drive: $native"
}
# follows UID GID REL WANT WHAT: the view's answer is WANT within BOUND_MS (polled every 20 ms)
follows() {
	local t0=${EPOCHREALTIME/./} now got
	while :; do
		got=$(reads_as "$1" "$2" "$V/$3")
		[ "$got" = "$4" ] && return 0
		now=${EPOCHREALTIME/./}
		[ $(((now - t0) / 1000)) -lt "$BOUND_MS" ] || fail "$5: after $BOUND_MS ms uid $1 still reads $3 through the view: $got (want $4)"
		sleep 0.02
	done
}

# every folder up to the files is open to all (the test's users walk the path)
chmod 755 "$T" "$T/view"
mkdir -p "$C/PKGA0001/sub" && echo secret >"$C/PKGA0001/f.wim" && echo open >"$C/PKGA0001/g.wim" ||
	fail "cannot make the drive's files"
chown -R root:nogroup "$C/PKGA0001" && chmod 755 "$C/PKGA0001" && chmod 644 "$C/PKGA0001/g.wim"
find "$T/c" -type d -exec chmod 755 {} + || fail "chmod"
acl "$C/PKGA0001/f.wim" "u::6,u:$DAEMON:6,g::0,m::6,o::0" || fail "cannot set an ACL on tmpfs"
acl "$C/PKGA0001/sub" "u::7,g::5,g:$NOGROUP:7,m::7,o::5" default || fail "cannot set a default ACL on tmpfs"

drive_sections DRIVES "C:$T/c"
view_start "$BIN" "$DRIVES"
mode=$(view_status "s['passthrough']['active']")

# ---- deny/allow ------------------------------------------------------------------------------
same_as_drive deny "$NOBODY" "$NOGROUP" PKGA0001/f.wim no
same_as_drive allow "$DAEMON" "$DAEMON" PKGA0001/f.wim yes
same_as_drive "mode bits" "$NOBODY" "$NOGROUP" PKGA0001/g.wim yes
[ "$(acl_bytes "$V/PKGA0001/f.wim")" = "$(acl_bytes "$C/PKGA0001/f.wim")" ] ||
	fail "the ACL through the view: $(acl_bytes "$V/PKGA0001/f.wim"); on the drive: $(acl_bytes "$C/PKGA0001/f.wim")"
[ "$(acl_bytes "$V/PKGA0001/sub" default)" = "$(acl_bytes "$C/PKGA0001/sub" default)" ] ||
	fail "the default ACL through the view: $(acl_bytes "$V/PKGA0001/sub" default); on the drive: $(acl_bytes "$C/PKGA0001/sub" default)"
[ "$(acl_bytes "$V/PKGA0001/g.wim")" = ENODATA ] || fail "a file with no ACL: $(acl_bytes "$V/PKGA0001/g.wim") through the view"
ok "deny/allow: the ACL decides through the view as on the drive (nobody refused, daemon reads; passthrough active: $mode); ACLs read back byte for byte"

# ---- outside ---------------------------------------------------------------------------------
acl "$C/PKGA0001/f.wim" "u::6,u:$DAEMON:6,u:$NOBODY:4,g::0,m::6,o::0" || fail "outside: setting the ACL on the drive"
follows "$NOBODY" "$NOGROUP" PKGA0001/f.wim yes "outside: a grant to nobody made on the drive"
acl "$C/PKGA0001/f.wim" "u::6,u:$DAEMON:6,g::0,m::6,o::0" || fail "outside: setting the ACL on the drive"
follows "$NOBODY" "$NOGROUP" PKGA0001/f.wim no "outside: the grant taken back on the drive"
ok "outside: ACL changes made on the drive are enforced through the view within $BOUND_MS ms"

# ---- through ---------------------------------------------------------------------------------
acl "$V/PKGA0001/f.wim" "u::6,u:$NOBODY:4,g::0,m::4,o::0" || fail "through: setting an ACL through the view"
[ "$(acl_bytes "$C/PKGA0001/f.wim")" = "$(acl_bytes "$V/PKGA0001/f.wim")" ] ||
	fail "through: the drive's ACL $(acl_bytes "$C/PKGA0001/f.wim") is not the one set through the view"
same_as_drive "through: a grant" "$NOBODY" "$NOGROUP" PKGA0001/f.wim yes
same_as_drive "through: daemon no longer named" "$DAEMON" "$DAEMON" PKGA0001/f.wim no
acl "$V/PKGA0001/f.wim" - || fail "through: removing the ACL through the view"
[ "$(acl_bytes "$C/PKGA0001/f.wim")" = ENODATA ] || fail "through: the ACL removed through the view is still on the drive"
# the mode is 0640 now (the mask was r--): the owning group reads, others do not
same_as_drive "through: removed" "$NOBODY" "$NOGROUP" PKGA0001/f.wim yes
same_as_drive "through: removed" "$DAEMON" "$DAEMON" PKGA0001/f.wim no
ok "through: ACLs set and removed through the view land on the drive and are enforced at once"

# ---- inherit ---------------------------------------------------------------------------------
# A file or folder made in a folder with a default ACL takes its ACL and mode from that ACL and
# the mode asked, the creator's umask ignored; in one without, the mode asked less the umask.
# Through the view as on the drive (before: the umask taken away and the mode forced with a
# chmod, which also narrowed the inherited ACL's mask: 0644 for 0664 with umask 022).
# made NAME DIR UMASK: NAME.f (a file) and NAME.d (a folder) made in DIR with UMASK
made() { (umask "$3" && : >"$2/$1.f" && mkdir "$2/$1.d") || fail "inherit: cannot make $2/$1.*"; }
for dir in PKGA0001/sub PKGA0001; do
	for um in 022 077 000; do
		made "n$um" "$C/$dir" "$um"
		made "v$um" "$V/$dir" "$um"
		for k in f d; do
			native=$(stat -c %a "$C/$dir/n$um.$k") view=$(stat -c %a "$C/$dir/v$um.$k")
			[ "$view" = "$native" ] || fail "inherit: in $dir with umask $um, a $k made through the view has mode $view; made on the drive: $native"
			for t in access default; do
				[ $k = f ] && [ $t = default ] && continue
				native=$(acl_bytes "$C/$dir/n$um.$k" $t) view=$(acl_bytes "$C/$dir/v$um.$k" $t)
				[ "$view" = "$native" ] || fail "inherit: in $dir with umask $um, the $t ACL of a $k made through the view: $view; made on the drive: $native"
			done
		done
	done
done
ok "inherit: files and folders made through the view get the modes and ACLs the drive gives them (default ACL: the umask ignored; none: the umask applied)"
view_stop

# ---- window ----------------------------------------------------------------------------------
# An entry made through the view is never, not even for an instant, more open on the drive than
# its final mode: another user could open it then and keep it open (a file made 0600 by a user
# with umask 077 would be read through that descriptor later). createmode.so records the mode
# each entry is made with on the drive, before the view sets its owner and mode; the daemon runs
# with umask 022 (a shell's, systemd's), the makers with umask 077 and 027, in folders with and
# without a default ACL: file, folder, FIFO, and a file asked set-user-ID and set-group-ID (6755).
# Each recorded mode must be within the final one, and never set-ID: those bits come once the
# entry is its maker's (not root's, as the view makes it), and stay.
# (before: the umask, no longer taken away by the kernel, was taken away only by a chmod after
# the create; the file was 0644 on the drive until then)
drive_sections DRIVES "C:$T/c"
um_test=$(umask)
umask 022
view_start "$BIN" "$DRIVES" "" LD_PRELOAD="$SHIM" PXE_CREATEMODE_DIR="$T/c/" PXE_CREATEMODE_LOG="$T/createmode.log" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
umask "$um_test"
n=0
for dir in PKGA0001 PKGA0001/sub; do
	for um in 077 027; do
		w=w${#dir}u$um # a name of its own in each folder: the log has names, not paths
		(umask "$um" && : >"$V/$dir/$w.f" && mkdir "$V/$dir/$w.d" && mkfifo "$V/$dir/$w.p" &&
			python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o6755))' "$V/$dir/$w.s") ||
			fail "window: cannot make $dir/$w.* through the view with umask $um"
		for k in f d p s; do
			final=$(stat -c %a "$C/$dir/$w.$k") || fail "window: $dir/$w.$k is not on the drive"
			made=$(awk -v n="$w.$k" '$1 == n { print $2 }' "$T/createmode.log")
			[ "$(wc -w <<<"$made")" = 1 ] || fail "window: createmode.so recorded $(wc -w <<<"$made") creates of $dir/$w.$k, not 1 (log: $(cat "$T/createmode.log" 2>&1))"
			[ $((8#$made & ~8#$final)) = 0 ] ||
				fail "window: $dir/$w.$k (umask $um) was made with mode $made on the drive, then set to $final: open to others until then"
			[ $((8#$made & 8#6000)) = 0 ] ||
				fail "window: $dir/$w.$k (umask $um) was made set-ID (mode $made) on the drive, owned by root until the view gave it to its maker"
			[ $k != s ] || [ $((8#$final & 8#6000)) = $((8#6000)) ] ||
				fail "window: $dir/$w.s (umask $um), made with mode 6755 through the view, has mode $final on the drive: its set-ID bits lost"
			n=$((n + 1))
		done
	done
done
ok "window: $n entries made through the view (file, folder, FIFO, set-ID file; umask 077 and 027; with and without a default ACL) were never more open on the drive than their final mode, nor set-ID while root's"
view_stop

# ---- noacl -----------------------------------------------------------------------------------
# squashfs (a read-only image of the images; its kernel driver keeps no ACLs, like vfat's)
mkdir -p "$T/src/$IMG/PKGE0001" "$T/e" && echo e >"$T/src/$IMG/PKGE0001/e.wim" &&
	chown -R root:nogroup "$T/src" && chmod 640 "$T/src/$IMG/PKGE0001/e.wim" &&
	find "$T/src" -type d -exec chmod 755 {} + || fail "noacl: the drive's files"
mksquashfs "$T/src" "$T/e.img" -quiet -no-progress >/dev/null || fail "noacl: mksquashfs"
loop_attach "$T/e.img" -r
mount -t squashfs -o ro "$LOOP" "$T/e" || fail "noacl: cannot mount $LOOP (squashfs)"
E=$T/e/$IMG
[ "$(acl_bytes "$E/PKGE0001/e.wim")" = EOPNOTSUPP ] || fail "noacl: the drive has ACLs: $(acl_bytes "$E/PKGE0001/e.wim")"
drive_sections DRIVES "E:$T/e"
view_start "$BIN" "$DRIVES"
[ "$(reads_as "$NOBODY" "$NOGROUP" "$V/PKGE0001/e.wim")" = yes ] ||
	fail "noacl: nobody (owning group, mode 640) cannot read e.wim through the view: $(setpriv --reuid=$NOBODY --regid=$NOGROUP --clear-groups cat "$V/PKGE0001/e.wim" 2>&1)"
[ "$(reads_as "$DAEMON" "$DAEMON" "$V/PKGE0001/e.wim")" = no ] || fail "noacl: daemon (other) reads e.wim through the view"
[ "$(acl_bytes "$V/PKGE0001/e.wim")" = ENODATA ] || fail "noacl: the ACL through the view: $(acl_bytes "$V/PKGE0001/e.wim") (want ENODATA: none)"
native=$(acl "$E/PKGE0001/e.wim" "u::6,g::4,o::0") && fail "noacl: an ACL was set on the drive"
got=$(acl "$V/PKGE0001/e.wim" "u::6,g::4,o::0") && fail "noacl: an ACL was set through the view on a drive without ACLs"
[ "$got" = "$native" ] || fail "noacl: setting an ACL through the view: $got; on the drive: $native"
ok "noacl: a drive without ACLs is reached by its mode bits; an ACL reads as none and cannot be set ($got, as on the drive)"
view_stop
echo "posix_acl: all checks passed"
