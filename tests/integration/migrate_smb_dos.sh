#!/bin/bash
# migrate_smb_dos.sh -- `pxeimagesfs migrate --from smb://...` keeps what the share shows of each
# entry beyond its bytes: DOS attributes (read-only, hidden, system, archive) set on the old server
# through smbclient `setmode`, creation and modification times. Checked through SMB end to end: the
# product's own private smbd re-exporting the view of the target shows, in `smbclient allinfo`, the
# same attributes and times as the old server (so the view passes user.DOSATTRIB through); the
# target's files hold Samba's own user.DOSATTRIB; mtimes are kept to the 100 ns SMB gives; --json
# names the attributes per entry and the count kept. A partial copy left by an interrupted run is
# continued only when its record fits the source and its bytes still hash to it. A target that
# refuses user xattrs (ramfs)
# still gets every file, byte-exact, and one note that the attributes could not be kept.
# The old server on 127.0.0.1:44497, the view's smbd on 44498. Needs root, /dev/fuse, smbd,
# smbclient, smbpasswd, getfattr and python3; exit 77 = skipped (a failure under CI=true). Run it
# under flock /tmp/pxe-it.lock. Stops only the processes it started, by PID.
set -u
BIN=${1:?usage: migrate_smb_dos.sh PXEIMAGESFS_BINARY}
PORT=44497      # the old server
VIEW_PORT=44498 # the product's smbd over the view
export LC_ALL=C.UTF-8

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, smb_private_conf, smbd_start

need_root_fuse
need_tools smbd:samba smbclient:smbclient smbpasswd:samba-common-bin python3:python3 \
	useradd:passwd userdel:passwd setsid:util-linux timeout:coreutils cmp:diffutils getfattr:attr
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")
for p in $PORT $VIEW_PORT; do
	if listening $p; then fail "port $p on 127.0.0.1 is already in use"; fi
done

T=$(mktemp -d /tmp/pxeimagesfs-mdos.XXXXXX) || fail "mktemp"
chmod 755 "$T"
IMG=RemoteInstall/SMSImages/SMSPKG
OLD=$T/old/$IMG
NEW=$T/new/$IMG
RAM=$T/ram/$IMG
V=$T/view/$IMG
SMBCONF=$T/smb.conf
TUSER=pxedos$$
PW=$T/password
SRC=smb://127.0.0.1:$PORT/OLD/SMSImages/SMSPKG
SMBD_PID= VIEW_PID= USER_MADE=
MOUNTED=()

cleanup() {
	local rc=$? i pid
	[ -n "$VIEW_PID" ] && stop_pid "$VIEW_PID"
	private_smbd_kill
	[ -n "$SMBD_PID" ] && stop_pid "$SMBD_PID"
	for pid in $(our_samba); do stop_pid "$pid"; done
	if mountpoint -q "$T/view"; then umount "$T/view" 2>/dev/null || umount -l "$T/view"; fi
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" 2>/dev/null; done
	[ -n "$USER_MADE" ] && userdel "$TUSER" 2>/dev/null
	if [ "$rc" != 0 ] && [ -f "$T/log" ]; then tail -n 20 "$T/log" >&2; fi
	if [ "$rc" != 0 ] && [ -f "$T/state/samba/log.smbd" ]; then
		echo "--- the view's smbd log (last lines)" >&2
		tail -n 30 "$T/state/samba/log.smbd" >&2
	fi
	rm -rf --one-file-system "$T"
	exit "$rc"
}
trap cleanup EXIT

# --- the old server: a writable share, attributes set over SMB ---------------------------------
for d in old new; do
	mkdir "$T/$d" && mount -t tmpfs -o size=64m,mode=755 "pxe-$d" "$T/$d" || need "cannot mount tmpfs"
	MOUNTED+=("$T/$d")
done
mkdir "$T/ram" && mount -t ramfs -o mode=755 pxe-ram "$T/ram" || need "cannot mount ramfs"
MOUNTED+=("$T/ram")
setfattr -n user.probe -v 1 "$T/ram" 2>/dev/null && need "ramfs takes user xattrs here"
mkdir -p "$OLD" "$NEW" "$RAM" || fail "mkdir"
chmod 777 "$OLD"
useradd -M -N -s /usr/sbin/nologin "$TUSER" || fail "useradd $TUSER"
USER_MADE=1
printf 'pw-%s-ok\n' $$ >"$PW"
chmod 600 "$PW"
smb_private_conf "$SMBCONF" "$T/samba" "	smb ports = $PORT
	interfaces = 127.0.0.1
	bind interfaces only = yes
	map to guest = never"
cat >>"$SMBCONF" <<CONF
[OLD]
	path = $T/old/RemoteInstall
	read only = no
	force user = root
CONF
printf '%s\n%s\n' "$(cat "$PW")" "$(cat "$PW")" |
	smbpasswd -c "$SMBCONF" -s -a "$TUSER" >/dev/null || fail "smbpasswd -a $TUSER"
smbd_start "$SMBCONF" $PORT "$T/smbd.out"
old_smb() {
	timeout 60 smbclient -U "$TUSER%$(cat "$PW")" -p $PORT //127.0.0.1/OLD -D SMSImages/SMSPKG -c "$1" 2>&1
}
head -c 300000 /dev/urandom >"$T/data"
OUT=$(old_smb "mkdir SMS00001; mkdir \"Hidden Pkg\"; mkdir \"Hidden Pkg/inner\";
put $T/data SMS00001/boot.SMS00001.wim; put $T/data SMS00001/readonly.com;
put $T/data SMS00001/system.n12; put $T/data SMS00001/rhs.sdi; put $T/data \"Hidden Pkg/hidden.ini\";
put $T/data \"Hidden Pkg/inner/plain.txt\";
setmode SMS00001/readonly.com +r; setmode SMS00001/system.n12 +s; setmode SMS00001/rhs.sdi +rhs;
setmode SMS00001/boot.SMS00001.wim -a; setmode \"Hidden Pkg/hidden.ini\" +h; setmode \"Hidden Pkg\" +h")
grep -qi "NT_STATUS\|error" <<<"$OUT" && fail "setting up the old server's share: $OUT"
# times with nanoseconds, as the old server's disk keeps them (SMB carries 100 ns)
touch -m -d "2019-05-06 07:08:09.123456789" "$OLD/SMS00001/readonly.com" "$OLD/Hidden Pkg/hidden.ini"
touch -m -d "2018-01-02 03:04:05.987654321" "$OLD/SMS00001/boot.SMS00001.wim" "$OLD/Hidden Pkg"
touch -m -d "2017-01-01 00:00:00.123456700" "$OLD/Hidden Pkg/inner/plain.txt"
ENTRIES=("SMS00001" "SMS00001/boot.SMS00001.wim" "SMS00001/readonly.com" "SMS00001/system.n12"
	"SMS00001/rhs.sdi" "Hidden Pkg" "Hidden Pkg/hidden.ini" "Hidden Pkg/inner"
	"Hidden Pkg/inner/plain.txt")
# info SMBCLIENT_FN PATH -- the attributes, creation and write time smbclient's allinfo shows
info() {
	"$1" "allinfo \"$2\"" | grep -E '^(attributes|create_time|write_time):' | tr -s ' \t' ' '
}
for e in "${ENTRIES[@]}"; do info old_smb "$e" >"$T/old.$(tr ' /' '__' <<<"$e")" || fail "allinfo $e"; done
grep -q "attributes: RHSA\|attributes: RHS " "$T/old.SMS00001_rhs.sdi" ||
	fail "setmode did not take on the old server: $(cat "$T/old.SMS00001_rhs.sdi")"
ok "the old server: smbd on 127.0.0.1:$PORT; read-only, hidden, system files, a hidden folder"

# --- the target and its view, re-exported by the product's own smbd ----------------------------
drive_sections DRIVES "NEW:$T/new:10" "RAM:$T/ram:5"
VIEW_SHARE="    samba = private
    port = $VIEW_PORT
    interfaces = 127.0.0.1
    guest ok = yes" view_start "$BIN" "$DRIVES"
for ((i = 0; i < 200; i++)); do listening $VIEW_PORT && break; sleep 0.05; done
listening $VIEW_PORT || fail "the view's smbd does not listen on $VIEW_PORT: $(tail "$T/log")"
view_smb() {
	timeout 60 smbclient -N -p $VIEW_PORT '//127.0.0.1/SMSPXEIMAGES$' -c "$1" 2>&1
}
CRED=(--user "$TUSER" --password-file "$PW")
mig() {
	local out=$1
	shift
	timeout 300 "$BIN" migrate -c "$T/pxe.conf" --from "$SRC" "${CRED[@]}" "$@" \
		>"$T/$out.out" 2>"$T/$out.err"
	RC=$?
}

# --- the plan names the attributes it keeps -----------------------------------------------------
mig plan --to NEW --dry-run --json
[ "$RC" = 0 ] || fail "--dry-run --json: exit $RC: $(cat "$T/plan.err")"
python3 - "$T/plan.out" <<'PY' || fail "--dry-run --json: $(cat "$T/plan.out")"
import json, sys
p = json.load(open(sys.argv[1]))
d = {i["path"]: i["dos_attributes"] for i in p["items"]}
assert d["SMS00001/rhs.sdi"] == "RHSA", d
assert d["SMS00001/readonly.com"] == "RA", d
assert d["SMS00001/system.n12"] == "SA", d
assert d["SMS00001/boot.SMS00001.wim"] == "-", d
assert d["Hidden Pkg"] == "H", d
assert d["Hidden Pkg/hidden.ini"] == "HA", d
PY
ok "--dry-run --json: each entry's DOS attributes named"

# --- the pull: attributes and times as the old server shows them --------------------------------
mig pull --to NEW --json
[ "$RC" = 0 ] || fail "pull: exit $RC: $(cat "$T/pull.out" "$T/pull.err")"
python3 - "$T/pull.out" <<'PY' || fail "pull --json: $(cat "$T/pull.out")"
import json, sys
p = json.load(open(sys.argv[1]))
s = p["summary"]
assert s["failed"] == 0 and s["dos_lost"] == 0 and s["dos_error"] is None, s
# every file and folder of the share, the images folder included
assert s["dos_kept"] == len([i for i in p["items"] if i["action"] in ("copy", "mkdir")]), s
assert all(i["dos_kept"] for i in p["items"] if i["action"] in ("copy", "mkdir")), p["items"]
PY
for e in "${ENTRIES[@]}"; do
	[ -f "$OLD/$e" ] && { cmp -s "$OLD/$e" "$NEW/$e" || fail "$e differs on the target"; }
	getfattr -n user.DOSATTRIB "$NEW/$e" >/dev/null 2>&1 || fail "$e: no user.DOSATTRIB on the target"
	got=$(info view_smb "$e")
	want=$(cat "$T/old.$(tr ' /' '__' <<<"$e")")
	[ "$got" = "$want" ] || fail "$e over the view's smbd:
$got
the old server's:
$want"
	a=$(stat -c %y "$OLD/$e")
	b=$(stat -c %y "$NEW/$e")
	# SMB carries times in 100 ns: the last two digits of the nanoseconds are lost
	[ "${a%?? *}" = "${b%?? *}" ] || fail "$e: mtime $b on the target, $a on the old server"
done
ok "pull: attributes (RHSA), creation and write times the same over the view's smbd; mtimes to 100 ns"

# --- a partial copy an interrupted run left: continued only when it still fits -----------------
# partial KIND -- the target lacks plain.txt; its temporary holds the first 100000 bytes and a
# record (user.pxeimagesfs.partial: source size, mtime, length, SHA-256 of those bytes): a
# valid one (KIND ok), one whose bytes changed since (corrupt), one of an older source (stale)
P="Hidden Pkg/inner/plain.txt"
PTMP="$NEW/Hidden Pkg/inner/.pxeimagesfs-tmp.migrate.plain.txt"
partial() {
	rm -f "$NEW/$P"
	python3 - "$OLD/$P" "$PTMP" "$1" <<'PY' || fail "cannot plant the partial copy ($1)"
import hashlib, os, sys
src, tmp, kind = sys.argv[1:]
data = open(src, "rb").read()
head = bytearray(data[:100000])
st = os.stat(src)
sec, nsec = divmod(st.st_mtime_ns, 10**9)
rec = "v1 %d %d.%09d %d %s" % (len(data), sec if kind != "stale" else sec - 1, nsec,
                               len(head), hashlib.sha256(head).hexdigest())
if kind == "corrupt":
    head[5000] ^= 0xFF  # a byte the disk lost after the record was written
with open(tmp, "wb") as f:
    f.write(head + b"garbage past the record")
os.setxattr(tmp, "user.pxeimagesfs.partial", rec.encode())
PY
}
for kind in ok corrupt stale; do
	partial $kind
	mig part-$kind --to NEW --json
	[ "$RC" = 0 ] || fail "partial ($kind): exit $RC: $(cat "$T/part-$kind.out" "$T/part-$kind.err")"
	cmp -s "$OLD/$P" "$NEW/$P" || fail "partial ($kind): $P differs from the source"
	[ ! -e "$PTMP" ] || fail "partial ($kind): the temporary is left"
	getfattr -n user.pxeimagesfs.partial "$NEW/$P" >/dev/null 2>&1 &&
		fail "partial ($kind): the record is left on the final file"
	want=0
	[ $kind = ok ] && want=100000
	python3 - "$T/part-$kind.out" "$P" $want <<'PY' || fail "partial ($kind): $(cat "$T/part-$kind.out")"
import json, sys
p, path, want = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
it = {i["path"]: i for i in p["items"]}[path]
assert it["action"] == "copy" and it["verified"] and it["dos_kept"], it
assert it["resumed_bytes"] == want and p["summary"]["bytes_resumed"] == want, (it, p["summary"])
PY
done
ok "a partial copy: continued after its 100000 bytes when it fits; started over when a byte changed or the source is another"

# --- a target that refuses user xattrs ----------------------------------------------------------
mig ram --to RAM
[ "$RC" = 0 ] || fail "pull to ramfs: exit $RC: $(cat "$T/ram.out" "$T/ram.err")"
for e in "${ENTRIES[@]}"; do
	[ -f "$OLD/$e" ] && { cmp -s "$OLD/$e" "$RAM/$e" || fail "$e differs on the ramfs target"; }
	[ -e "$RAM/$e" ] || fail "$e missing on the ramfs target"
done
n=$(grep -c "refuses the user.DOSATTRIB xattr" "$T/ram.out")
[ "$n" = 1 ] || fail "pull to ramfs: want one note on the attributes, have $n: $(cat "$T/ram.out")"
grep -q "^DOS attributes: kept on 0 entries, not kept on 9 (Operation not supported)" "$T/ram.out" ||
	fail "pull to ramfs: the summary does not say the attributes were not kept: $(cat "$T/ram.out")"
ok "a target refusing user xattrs: every file copied byte-exact, one note, the summary says so"
