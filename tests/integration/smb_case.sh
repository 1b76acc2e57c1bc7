#!/bin/bash
# smb_case.sh -- Windows-style clients on the share of a case-insensitive view: smbclient finds
# files and folders in any spelling (nested folders, UTF-8 letters, both drives of a union),
# lists the drives' own spellings, and still gets "not found" for a name that is not there; a
# create, put or mkdir of another spelling hits the existing file or folder (no second one on
# any drive); a rename that only changes case renames (files and folders); libsmbclient
# (pxeimagesfs check --deep) reads the share. The share is the product's own (samba = private
# on 127.0.0.1:44483). SMB_CASE_EXTRA: more [share] lines (e.g. samba:case sensitive = no), to
# try a setting. Needs root, /dev/fuse, smbd, smbclient; exit 77 = skipped (CI=true: a failure).
set -u
export LC_ALL=C.UTF-8 # find -iname folds the UTF-8 names as the view does
BIN=${1:?usage: smb_case.sh PXEIMAGESFS_BINARY}
PORT=44483

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox, view_conf, view_mount

need_root_fuse
need_tools smbd:samba smbclient:smbclient useradd:passwd userdel:passwd
BIN=$(readlink -f "$BIN")
listening "$PORT" && fail "port $PORT is in use"

WRITER=pxesmbc$$
view_sandbox smb-case # T, V, C and D (the drives' images folders), cleanup at exit
chmod 755 "$T"        # smbd reaches the view as the connected user
trap 'private_smbd_kill; userdel "$WRITER" 2>/dev/null; view_cleanup' EXIT
useradd -M -N -s /usr/sbin/nologin "$WRITER" || fail "useradd $WRITER"

# drive C: a package with nested folders and UTF-8 names; drive D (the primary): another
mkdir -p "$C/SMS00001/Boot/x64" "$C/SMS00001/Fichiers été" "$D/SMS00002/Sub"
head -c 70000 /dev/urandom >"$C/SMS00001/Boot/x64/boot.sdi"
echo "ünïcode content" >"$C/SMS00001/Fichiers été/Ünïcode Öl.wim"
echo "readme on D" >"$D/SMS00002/ReadMe.txt"
chown -R "$WRITER" "$C/SMS00001" "$D/SMS00002"
chmod 1777 "$D"

drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
view_conf "$DRIVES" "    mode = union
    mount timeout = 0" "    samba = private
    port = $PORT
    interfaces = 127.0.0.1
    guest ok = yes
    read only = yes
    write list = $WRITER
${SMB_CASE_EXTRA:-}"
echo "s3cret-$$" | "$BIN" passwd -c "$T/pxe.conf" "$WRITER" >/dev/null || fail "passwd $WRITER"
view_mount "$BIN"
for ((i = 0; i < 200; i++)); do
	listening "$PORT" && break
	kill -0 "$VIEW_PID" 2>/dev/null || { cat "$T/log"; fail "the daemon exited"; }
	sleep 0.05
done
listening "$PORT" || { cat "$T/log"; fail "no smbd on $PORT"; }
grep -iE '^\s*case sensitive|preserve case' "$T/state/samba/smb.conf" | sed 's/^\s*/# share: /'

SHARE="//127.0.0.1/SMSPXEIMAGES\$"
guest() { smbclient -N -p "$PORT" "$SHARE" -c "$1" 2>&1; }
writer() { smbclient -U "$WRITER%s3cret-$$" -p "$PORT" "$SHARE" -c "$1" 2>&1; }
# spellings NAME DIR... -- the paths below the drives' DIRs whose last component is NAME in
# any case (what is really on the drives)
spellings() {
	local name=$1
	shift
	find "$@" -iname "$name" -printf '%P\n' | sort
}

# ---- reads in any spelling
for p in "sms00001/BOOT/X64/BOOT.SDI" "Sms00001\\boot\\X64\\Boot.Sdi" "SMS00001/Boot/x64/boot.sdi"; do
	rm -f "$T/got"
	out=$(guest "get \"$p\" $T/got")
	cmp -s "$T/got" "$C/SMS00001/Boot/x64/boot.sdi" || fail "get $p: $out"
done
out=$(guest "get \"sms00001/FICHIERS ÉTÉ/üNÏCODE öL.WIM\" $T/got")
cmp -s "$T/got" "$C/SMS00001/Fichiers été/Ünïcode Öl.wim" || fail "get of a UTF-8 name in another case: $out"
out=$(guest "get SMS00002/README.TXT $T/got")
cmp -s "$T/got" "$D/SMS00002/ReadMe.txt" || fail "get from drive D in another case: $out"
out=$(guest "cd sms00001/boot; cd X64; get BOOT.SDI $T/got")
cmp -s "$T/got" "$C/SMS00001/Boot/x64/boot.sdi" || fail "cd into folders in another case, then get: $out"
ok "smbclient reads nested files, UTF-8 names and both drives in any spelling"

out=$(guest "ls SMS00001/BOOT/X64/*")
echo "$out" | grep -q ' boot\.sdi  *[A-Z]* *70000 ' || fail "listing shows the drive's spelling: $out"
out=$(guest "ls sms00001/*")
echo "$out" | grep -q ' Boot  *D ' && echo "$out" | grep -q ' Fichiers été  *D ' ||
	fail "listing of a folder named in another case: $out"
out=$(guest "ls sms00001/boot/x64/BOOT.*; ls \"SMS00001/FICHIERS ÉTÉ/ü*\"")
echo "$out" | grep -q ' boot\.sdi ' && echo "$out" | grep -q ' Ünïcode Öl.wim ' ||
	fail "a wildcard search in another case (dir BOOT.* on Windows): $out"
out=$(guest "allinfo SMS00001/BOOT/X64/BOOT.SDI")
echo "$out" | grep -q '^write_time:' || fail "allinfo in another case: $out"
ok "listings show the drives' spellings; wildcard searches and allinfo in another case"

out=$(guest "get SMS00001/Boot/x64/missing.sdi $T/got; get SMS00009/boot.sdi $T/got")
[ "$(echo "$out" | grep -cE 'NT_STATUS_OBJECT_(NAME|PATH)_NOT_FOUND')" = 2 ] ||
	fail "names that are not there: $out"
ok "a name that is not there in any spelling: not found"

# ---- creates of another spelling hit the existing file or folder
head -c 5000 /dev/urandom >"$T/new1"
out=$(writer "put $T/new1 SMS00001/BOOT/X64/BOOT.SDI")
[ "$(spellings boot.sdi "$T/c" "$T/d")" = "RemoteInstall/SMSImages/SMSPKG/SMS00001/Boot/x64/boot.sdi" ] ||
	fail "put of another spelling made a second file: $(spellings boot.sdi "$T/c" "$T/d") ($out)"
cmp -s "$T/new1" "$C/SMS00001/Boot/x64/boot.sdi" || fail "put of another spelling did not overwrite: $out"
echo one >"$T/one"
echo two >"$T/two"
out=$(writer "put $T/one \"SMS00002/New File.txt\"; put $T/two \"sms00002/NEW FILE.TXT\"")
[ "$(spellings 'new file.txt' "$T/c" "$T/d")" = "RemoteInstall/SMSImages/SMSPKG/SMS00002/New File.txt" ] ||
	fail "a new file written again in another spelling: $(spellings 'new file.txt' "$T/c" "$T/d") ($out)"
cmp -s "$T/two" "$D/SMS00002/New File.txt" || fail "the second put did not overwrite: $out"
out=$(writer "mkdir SMS00002/SUB; mkdir sms00001/boot")
[ "$(spellings sub "$T/c" "$T/d")" = "RemoteInstall/SMSImages/SMSPKG/SMS00002/Sub" ] &&
	[ "$(spellings boot "$T/c" "$T/d")" = "RemoteInstall/SMSImages/SMSPKG/SMS00001/Boot" ] ||
	fail "mkdir of another spelling made a second folder: $out"
[ "$(echo "$out" | grep -c NT_STATUS_OBJECT_NAME_COLLISION)" = 2 ] || fail "mkdir of another spelling: $out"
ok "put and mkdir of another spelling hit the existing file or folder (no second one on any drive)"

# ---- renames that only change case
# Samba 4.17 stats the new name, which the view finds (it is the file itself), and refuses:
# NT_STATUS_OBJECT_NAME_COLLISION (ACCESS_DENIED when asked to replace), as on any
# case-insensitive filesystem. Either it renames, or it refuses and the file stays as it was;
# then a rename through another name gives the new case, as Windows users do. The two steps
# go to a third spelling, NEW2: the kernel keeps the refused NEW as an alias of the file for a
# while after the file is renamed away (a lookup of NEW finds it; left to the view's owners).
# case_rename DIR OLD NEW NEW2 -- OLD renamed to NEW (names in DIR), else to NEW2 in two steps
case_rename() {
	local dir=$1 old=$2 new=$3 new2=$4 got
	out=$(writer "rename \"$dir/$old\" \"$dir/$new\"")
	got=$(spellings "$old" "$T/c" "$T/d")
	if [ "$got" = "RemoteInstall/SMSImages/SMSPKG/$dir/$new" ]; then
		echo "# rename $old -> $new: renamed directly"
		return 0
	fi
	[ "$got" = "RemoteInstall/SMSImages/SMSPKG/$dir/$old" ] && echo "$out" | grep -q NT_STATUS_OBJECT_NAME_COLLISION ||
		fail "rename $old -> $new: $got ($out)"
	echo "# rename $old -> $new: refused (NT_STATUS_OBJECT_NAME_COLLISION), the file kept; in two steps:"
	out=$(writer "rename \"$dir/$old\" \"$dir/pxe-case-tmp\"; rename \"$dir/pxe-case-tmp\" \"$dir/$new2\"")
	got=$(spellings "$old" "$T/c" "$T/d")
	[ "$got" = "RemoteInstall/SMSImages/SMSPKG/$dir/$new2" ] || fail "rename $old -> tmp -> $new2: $got ($out)"
}
case_rename SMS00002 "New File.txt" "NEW FILE.txt" "NEW FILE.Txt"
case_rename SMS00002 Sub SUB sUB
case_rename "SMS00001/Fichiers été" "Ünïcode Öl.wim" "ÜNÏCODE ÖL.wim" "ÜNÏCODE ÖL.Wim"
[ "$(spellings '*' "$T/c" "$T/d" | grep -ci 'pxe-case-tmp')" = 0 ] || fail "a temporary name was left"
out=$(guest "ls SMS00002/*")
echo "$out" | grep -qE ' NEW FILE\.(txt|Txt) ' && echo "$out" | grep -qE ' (SUB|sUB)  *D ' ||
	fail "listing after the renames: $out"
ok "a rename that only changes case (file, folder, UTF-8 name) renames, or is refused with the file kept and renames through another name; listings show the new case"

"$BIN" check -c "$T/pxe.conf" --guest --deep --json >"$T/check.json"
rc=$?
grep -q '"kind": *"ok"' "$T/check.json" && [ $rc = 0 ] || fail "check --deep: exit $rc: $(cat "$T/check.json")"
ok "libsmbclient (pxeimagesfs check --deep) lists and hashes the share"
view_stop
echo "smb_case: all checks passed"
