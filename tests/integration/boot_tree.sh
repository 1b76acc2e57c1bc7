#!/bin/bash
# boot_tree.sh -- `boot tree = yes`: the view's RemoteInstall merges the whole boot tree
# (SMSBoot, SMSImages, SMSTemp, Boot, ...) of the drives that hold the images, in any spelling,
# with today's write rules, and SMSTemp's per-client secrets keep their modes and owners.
#
# Drives: R (tmpfs, priority 30, read only), C (tmpfs, priority 20, the primary), E (tmpfs,
# priority 10, a RemoteInstall without the images: not a drive of the view). Without the option
# the view's RemoteInstall holds SMSImages only; with it: the merged listing, every spelling of
# every boot file, creates on the primary (missing folders cloned), a write to the read-only
# drive's file copied up, the SMSTemp modes (0600, 0640, other owners) seen through the view and
# enforced by the kernel for another user (allow_other, default_permissions), kept by a create
# (umask 077) and by a copy-up; symlinks shown as symlinks; E alone: no RemoteInstall until a
# mkdir of it, which takes E's folder (case kept) with what it holds.
# Usage: boot_tree.sh PXEIMAGESFS_BINARY. Needs root and /dev/fuse; exit 77 = skipped.
set -u
export LC_ALL=C
BIN=${1:?usage: boot_tree.sh PXEIMAGESFS_BINARY}
. "$(dirname "$0")/lib.sh"
need_root_fuse
need_tools fusermount3:fuse3 setpriv:util-linux

view_sandbox boot-tree
cleanup_all() {
	local m
	[ -n "$VIEW_PID" ] && kill -9 "$VIEW_PID" 2>/dev/null && wait "$VIEW_PID" 2>/dev/null
	VIEW_PID=
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -uz "$T/view" 2>/dev/null
	for m in "$T/r" "$T/e"; do grep -q " $m " /proc/self/mountinfo && umount "$m"; done
	view_cleanup
}
trap cleanup_all EXIT
mkdir -p "$T/r" "$T/e" || fail "mkdir"
mount -t tmpfs -o size=64m pxe-r "$T/r" && mount -t tmpfs -o size=64m pxe-e "$T/e" ||
	fail "cannot mount tmpfs"
umount "$T/d" # C, R and E here
chmod 0711 "$T" # other users reach the view (mktemp made it 0700)
R=$T/r/remoteinstall C=$T/c/RemoteInstall E=$T/e/REMOTEINSTALL VR=$T/view/RemoteInstall
mkdir -p "$R/smsimages/smspkg" "$R/SMSBoot/x64" "$R/Boot" "$R/SMSTemp" "$C/SMSBoot/x64" \
	"$C/SMSTemp" "$C/SMSImages/SMSPKG" "$E/SMSBoot/x64" || fail "mkdir"
echo wdsnbp-R >"$R/SMSBoot/x64/wdsnbp.com"
echo pxeboot-C >"$C/SMSBoot/x64/pxeboot.com"
echo wdsmgfw-C >"$C/SMSBoot/x64/wdsmgfw.efi"
echo bcd-R >"$R/Boot/BCD"
echo sdi-R >"$R/Boot/boot.sdi"
echo wim-R >"$R/smsimages/smspkg/boot.R0000001.wim"
echo wim-C >"$C/SMSImages/SMSPKG/boot.C0000001.wim"
echo extra-E >"$E/SMSBoot/x64/extra.efi"
printf 'secret-R\n' >"$R/SMSTemp/r.boot.var" && chmod 600 "$R/SMSTemp/r.boot.var"
printf 'shared-R\n' >"$R/SMSTemp/g.boot.var" && chmod 640 "$R/SMSTemp/g.boot.var" &&
	chown 4242:4243 "$R/SMSTemp/g.boot.var"
printf 'secret-C\n' >"$C/SMSTemp/c.boot.var" && chmod 600 "$C/SMSTemp/c.boot.var" &&
	chown 4242:4243 "$C/SMSTemp/c.boot.var"
chmod 0711 "$R/SMSTemp" "$C/SMSTemp"
ln -s ../../../ "$C/SMSBoot/up" && ln -s /etc "$C/SMSBoot/etc"
drive_sections DRIVES R:"$T/r":30:ro C:"$T/c":20 E:"$T/e":10

# as_user UID CMD... -- CMD as uid UID (its own group), no supplementary groups
as_user() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
names() { (cd "$1" && ls -A | tr '\n' ' '); }
mode_of() { stat -c '%a %u:%g' "$1"; }

# ---- without the option: the images folder only ---------------------------------------------
view_start "$BIN" "$DRIVES"
[ "$(names "$VR")" = "SMSImages " ] || fail "default view: RemoteInstall holds '$(names "$VR")'"
[ ! -e "$VR/SMSBoot" ] || fail "default view: SMSBoot is in the view"
stop_checked
ok "without 'boot tree' the view's RemoteInstall holds SMSImages only"

# ---- with it ---------------------------------------------------------------------------------
view_start "$BIN" "$DRIVES" "    boot tree = yes"
[ "$(names "$T/view")" = "RemoteInstall " ] || fail "mount root holds '$(names "$T/view")'"
# each name as the highest-ranked drive spells it: R's smsimages
[ "$(names "$VR")" = "Boot SMSBoot SMSTemp smsimages " ] ||
	fail "RemoteInstall holds '$(names "$VR")'"
[ "$(names "$VR/SMSBoot/x64")" = "pxeboot.com wdsmgfw.efi wdsnbp.com " ] ||
	fail "SMSBoot/x64 holds '$(names "$VR/SMSBoot/x64")' (E is no drive of the view)"
[ "$(names "$VR/SMSImages/SMSPKG")" = "boot.C0000001.wim boot.R0000001.wim " ] ||
	fail "the images folder holds '$(names "$VR/SMSImages/SMSPKG")'"
grep -q "boot tree: $T/view/RemoteInstall merges" "$T/log" || fail "the log does not say so"
"$BIN" config check -c "$T/pxe.conf" | grep -q "^boot tree = yes: $T/view/RemoteInstall merges" ||
	fail "config check does not say what boot tree does"
ok "RemoteInstall merges R's and C's boot trees; E (no images) is not merged"

check_read() { # check_read PATH WANT
	[ "$(cat "$T/view/$1" 2>/dev/null)" = "$2" ] || fail "$1 reads '$(cat "$T/view/$1" 2>&1)'"
}
for p in RemoteInstall/SMSBoot/x64/wdsnbp.com REMOTEINSTALL/SMSBOOT/X64/WDSNBP.COM \
	remoteinstall/smsboot/x64/wdsnbp.com RemoteInstall/smsBOOT/x64/WdsNbp.Com; do
	check_read "$p" wdsnbp-R
done
check_read remoteinstall/smsboot/x64/PXEBOOT.COM pxeboot-C
check_read REMOTEINSTALL/boot/bcd bcd-R
check_read RemoteInstall/BOOT/Boot.SDI sdi-R
check_read remoteinstall/smsimages/smspkg/BOOT.R0000001.WIM wim-R
ok "every boot file reads right in exact, upper-case, lower-case and mixed spellings"

# ---- writes: today's rules --------------------------------------------------------------------
echo new >"$VR/SMSBoot/x64/new.efi" || fail "create in SMSBoot"
[ "$(cat "$C/SMSBoot/x64/new.efi")" = new ] || fail "the create is not on the primary C"
echo sdi >"$VR/boot/new.sdi" || fail "create in Boot (only the read-only R has it)"
[ -f "$C/Boot/new.sdi" ] && [ ! -e "$R/Boot/new.sdi" ] || fail "Boot/new.sdi is not on C only"
echo bcd-new >"$VR/Boot/BCD" || fail "write to R's BCD"
[ "$(cat "$R/Boot/BCD")" = bcd-R ] && [ "$(cat "$C/Boot/BCD")" = bcd-new ] ||
	fail "the write to R's BCD was not copied up to C"
sync && echo 3 >/proc/sys/vm/drop_caches
check_read RemoteInstall/BOOT/bcd bcd-new
ok "creates go to the primary (Boot cloned there); a write to the read-only drive's file is copied up"

# ---- SMSTemp: per-client secrets keep their modes ---------------------------------------------
[ "$(mode_of "$VR/SMSTemp/r.boot.var")" = "600 0:0" ] || fail "r.boot.var: $(mode_of "$VR/SMSTemp/r.boot.var")"
[ "$(mode_of "$VR/SMSTemp/g.boot.var")" = "640 4242:4243" ] || fail "g.boot.var: $(mode_of "$VR/SMSTemp/g.boot.var")"
[ "$(mode_of "$VR/smstemp/C.BOOT.VAR")" = "600 4242:4243" ] || fail "c.boot.var: $(mode_of "$VR/SMSTemp/c.boot.var")"
[ "$(mode_of "$VR/SMSTemp")" = "711 0:0" ] || fail "SMSTemp: $(mode_of "$VR/SMSTemp")"
[ "$(as_user 65534 cat "$VR/SMSBoot/x64/wdsnbp.com")" = wdsnbp-R ] || fail "nobody cannot read wdsnbp.com"
as_user 65534 cat "$VR/SMSTemp/r.boot.var" >/dev/null 2>&1 && fail "nobody reads r.boot.var (0600 root)"
as_user 65534 cat "$VR/SMSTemp/c.boot.var" >/dev/null 2>&1 && fail "nobody reads c.boot.var (0600 4242)"
as_user 65534 ls "$VR/SMSTemp" >/dev/null 2>&1 && fail "nobody lists SMSTemp (0711)"
[ "$(as_user 4242 cat "$VR/SMSTemp/c.boot.var")" = secret-C ] || fail "4242 cannot read its own c.boot.var"
[ "$(as_user 4242 cat "$VR/SMSTemp/g.boot.var")" = shared-R ] || fail "4242 cannot read g.boot.var"
(umask 077 && printf 'new\n' >"$VR/SMSTemp/new.boot.var") || fail "create new.boot.var"
[ "$(mode_of "$C/SMSTemp/new.boot.var")" = "600 0:0" ] || fail "new.boot.var on C: $(mode_of "$C/SMSTemp/new.boot.var")"
chmod 400 "$VR/SMSTemp/g.boot.var" || fail "chmod g.boot.var"
[ "$(mode_of "$C/SMSTemp/g.boot.var")" = "400 4242:4243" ] || fail "g.boot.var copied up as $(mode_of "$C/SMSTemp/g.boot.var")"
[ "$(mode_of "$R/SMSTemp/g.boot.var")" = "640 4242:4243" ] || fail "R's g.boot.var changed"
as_user 4243 cat "$VR/SMSTemp/g.boot.var" >/dev/null 2>&1 && fail "group reads g.boot.var after chmod 400"
ok "SMSTemp's modes and owners show through the view, the kernel enforces them for other users, a create and a copy-up keep them"

# ---- symlinks are shown, never followed by the daemon -----------------------------------------
[ "$(readlink "$VR/SMSBoot/up")" = ../../../ ] && [ "$(readlink "$VR/smsboot/ETC")" = /etc ] ||
	fail "symlinks are not shown as symlinks"
[ -L "$VR/SMSBoot/up" ] || fail "up is not a symlink"
ok "symlinks in the boot tree are shown as symlinks"
stop_checked

# ---- no drive holds the images: no RemoteInstall, until a mkdir makes it on the primary ------
drive_sections ONLY_E E:"$T/e":10
view_start "$BIN" "$ONLY_E" "    boot tree = yes"
[ "$(names "$T/view")" = "" ] || fail "with no images, the mount root holds '$(names "$T/view")'"
mkdir "$T/view/RemoteInstall" || fail "mkdir RemoteInstall"
[ "$(cat "$T/view/RemoteInstall/SMSBoot/x64/extra.efi")" = extra-E ] ||
	fail "E's own REMOTEINSTALL is not the one the view took"
mkdir -p "$T/view/RemoteInstall/SMSImages/SMSPKG" || fail "mkdir SMSImages/SMSPKG"
[ -d "$E/SMSImages/SMSPKG" ] || fail "SMSImages/SMSPKG not made in E's REMOTEINSTALL"
stop_checked
ok "with no images anywhere there is no RemoteInstall; mkdir takes the primary's own folder"
echo "PASS"
