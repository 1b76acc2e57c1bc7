#!/bin/bash
# export_system.sh -- `pxeimagesfs export` (samba = system) against a throw-away smb.conf
# and a private smbd playing the system one (127.0.0.1:44461, state under a temp dir):
# include added last, idempotent, validation failure changes nothing, KB 947683 conflict
# reported/repaired with a backup, --remove restores smb.conf; every rewrite of smb.conf keeps
# a backup; an smb.conf that is not text (NUL, UTF-16) or includes /dev/zero or a FIFO is
# refused unchanged; `config check` runs testparm on [share] and refuses a line continuation;
# `passwd` runs smbpasswd without a shell. Never touches /etc/samba.
# Needs root (smbd) and Samba's tools; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: export_system.sh PXEIMAGESFS_BINARY}
PORT=${PXE_TEST_SMB_PORT:-44461}
SHARE='SMSPXEIMAGES$'

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok
[ "$(id -u)" = 0 ] || need "needs root to run smbd"
for tool in testparm smbcontrol smbd net sha256sum smbpasswd pdbedit iconv timeout; do
	command -v "$tool" >/dev/null || need "$tool not installed (Debian: samba, samba-common-bin)"
done

T=$(mktemp -d /tmp/pxeimagesfs-export.XXXXXX)
SMBD_PID=
cleanup() {
	if [ -n "$SMBD_PID" ]; then kill "$SMBD_PID" 2>/dev/null; wait "$SMBD_PID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ETC_SUM=$(cat /etc/samba/smb.conf /etc/samba/pxeimagesfs.conf 2>/dev/null | sha256sum)
sums() { sha256sum "$T/smb.conf" "$T/pxeimagesfs.conf" 2>/dev/null; ls -A "$T"; }
# run ARGS...: the export, with its stdout in $out, stderr in $err and status in $rc
run() {
	timeout 120 "$BIN" export -c "$T/pxe.conf" "$@" >"$T/.out" 2>"$T/.err"; rc=$?
	out=$(cat "$T/.out"); err=$(cat "$T/.err"); rm -f "$T/.out" "$T/.err"
	echo "--- export $* -> exit $rc"; echo "$out"; [ -z "$err" ] || echo "$err" >&2
}
want_rc() { [ "$rc" = "$1" ] || fail "$2: exit $rc, want $1"; }

mkdir -p "$T/scratch" || fail "mkdir $T/scratch"
smb_private_conf "$T/smb.conf" "$T" "	workgroup = WORKGROUP
	smb ports = $PORT
	interfaces = 127.0.0.1
	bind interfaces only = yes
	disable netbios = yes"
cat >>"$T/smb.conf" <<CONF || fail "writing $T/smb.conf"

[scratch]
	path = $T/scratch
	read only = yes
CONF
cp "$T/smb.conf" "$T/orig.conf"
cat >"$T/pxe.conf" <<CONF
[global]
    mountpoint = $T/view
[share]
    samba = system
    smb.conf = $T/smb.conf
    include file = $T/pxeimagesfs.conf
    write list = @pxe-writers
CONF
VIEW_PATH="$T/view/RemoteInstall/SMSImages/SMSPKG"

# the private smbd playing the system one
smbd_start "$T/smb.conf" "$PORT" "$T/smbd.out"
for _ in $(seq 100); do
	smbcontrol --configfile="$T/smb.conf" smbd ping >/dev/null 2>&1 && break
	kill -0 "$SMBD_PID" 2>/dev/null || fail "smbd did not start: $(cat "$T/smbd.out" "$T/log.smbd" 2>/dev/null | tail -5)"
	sleep 0.1
done
smbcontrol --configfile="$T/smb.conf" smbd ping >/dev/null 2>&1 || fail "smbd does not answer smbcontrol"

# --dry-run changes nothing
before=$(sums)
run --dry-run
want_rc 0 "export --dry-run"
[ "$(sums)" = "$before" ] || fail "--dry-run changed files"
echo "$out" | grep -q "^would write $T/pxeimagesfs.conf" || fail "--dry-run: no 'would write'"
echo "$out" | grep -q "^would reload smbd" || fail "--dry-run: no 'would reload'"

# export: our include file, the marked include as the last line, smbd reloaded
run
want_rc 0 "export"
[ "$(tail -n 1 "$T/smb.conf")" = "include = $T/pxeimagesfs.conf" ] || fail "include is not the last line"
tail -n 2 "$T/smb.conf" | head -n 1 | grep -q "^# pxeimagesfs: include of the generated share" || fail "no marker before the include"
[ "$(head -n -2 "$T/smb.conf")" = "$(cat "$T/orig.conf")" ] || fail "export changed more than the two last lines"
grep -q "^	path = $VIEW_PATH\$" "$T/pxeimagesfs.conf" || fail "share path in the include file"
grep -q "^	kernel oplocks = no\$" "$T/pxeimagesfs.conf" || fail "kernel oplocks in the include file"
echo "$out" | grep -q "^reloaded smbd" || fail "smbd was not reloaded"
[ "$(testparm -s --section-name="$SHARE" --parameter-name=path "$T/smb.conf" 2>/dev/null)" = "$VIEW_PATH" ] || fail "testparm path"
# every rewrite of the administrator's smb.conf keeps a dated backup, not only --repair
bak=$(ls "$T"/smb.conf.pxeimagesfs-bak.* 2>/dev/null)
[ "$(echo "$bak" | grep -c .)" = 1 ] || fail "export: want one backup of smb.conf, have: $bak"
cmp -s "$bak" "$T/orig.conf" || fail "export: the backup differs from the old smb.conf"
echo "$out" | grep -q -F "kept a backup of the old $T/smb.conf: $bak" || fail "export: backup not named"

# a second export changes nothing
before=$(sums)
run
want_rc 0 "second export"
[ "$(sums)" = "$before" ] || fail "second export changed files"
echo "$out" | grep -q "already includes $T/pxeimagesfs.conf as its last line" || fail "second export: report"

# a parameter testparm does not know: exit 2 naming it, every file untouched
cp "$T/pxe.conf" "$T/good.conf"
echo '    samba:bogus parameter = 1' >>"$T/pxe.conf"
before=$(sums)
run
want_rc 2 "export with samba:bogus parameter"
[ "$(sums)" = "$before" ] || fail "failed export changed files"
bogus_line=$(grep -n 'samba:bogus parameter' "$T/pxe.conf" | cut -d: -f1)
echo "$err" | grep -q "^error: .*'bogus parameter'.*samba:bogus parameter at $T/pxe.conf:$bogus_line" || fail "error does not name the parameter"
cp "$T/good.conf" "$T/pxe.conf"

# KB 947683: an old definition of the share on another drive, in smb.conf itself
sed -i "s|^\\[scratch\\]|[$SHARE]\\n\tcomment = images on the old drive\\n\tpath = /old/D/RemoteInstall/SMSImages/SMSPKG\\n\\n[scratch]|" "$T/smb.conf"
sed -i "s|^\\[scratch\\]|[$SHARE]\\n\tcomment = images on the old drive\\n\tpath = /old/D/RemoteInstall/SMSImages/SMSPKG\\n\\n[scratch]|" "$T/orig.conf"
line=$(grep -n -F "[$SHARE]" "$T/smb.conf" | cut -d: -f1)
[ -n "$line" ] || fail "test setup: conflicting section not written"
run
want_rc 1 "export with a conflicting definition"
echo "$out" | grep -q -F "$T/smb.conf:$line: share $SHARE also defined here with path /old/D/RemoteInstall/SMSImages/SMSPKG (the share would not serve the view)" || fail "conflict not reported as file:line"
echo "$out" | grep -q "^warning: 1 other definition of share $SHARE left in place: run 'pxeimagesfs export --repair'" || fail "no warning line"
[ "$(tail -n 1 "$T/smb.conf")" = "include = $T/pxeimagesfs.conf" ] || fail "include not last with a conflict"

# --repair: commented out after a backup equal to the old file
cp "$T/smb.conf" "$T/before-repair.conf"
old_baks=$(ls "$T"/smb.conf.pxeimagesfs-bak.* 2>/dev/null)
run --repair
want_rc 0 "export --repair"
bak=$(ls "$T"/smb.conf.pxeimagesfs-bak.* 2>/dev/null | grep -vxF "$old_baks")
[ "$(echo "$bak" | grep -c .)" = 1 ] || fail "want one backup, have: $bak"
cmp -s "$bak" "$T/before-repair.conf" || fail "backup differs from the old smb.conf"
echo "$out" | grep -q -F "$T/smb.conf:$line: commented out [$SHARE]" || fail "repair not reported"
echo "$out" | grep -q -F "backup of the old file: $bak" || fail "backup not named"
[ "$(sed -n "${line}p" "$T/smb.conf")" = "# pxeimagesfs-repair: [$SHARE]" ] || fail "section header not commented out"
sed -n "$((line + 2))p" "$T/smb.conf" | grep -q "^# pxeimagesfs-repair: 	path = /old/D/" || fail "path not commented out"
[ "$(testparm -s --section-name="$SHARE" --parameter-name=path "$T/smb.conf" 2>/dev/null)" = "$VIEW_PATH" ] || fail "testparm path after repair"
run
want_rc 0 "export after --repair"
echo "$out" | grep -q "also defined" && fail "conflict still reported after --repair"

# --remove: our line and file gone; smb.conf is the original but for the repaired lines
run --remove
want_rc 0 "export --remove"
[ -e "$T/pxeimagesfs.conf" ] && fail "--remove left the include file"
grep -q "pxeimagesfs.conf\|# pxeimagesfs:" "$T/smb.conf" && fail "--remove left our lines in smb.conf"
[ "$(sed 's/^# pxeimagesfs-repair: //' "$T/smb.conf")" = "$(cat "$T/orig.conf")" ] || fail "smb.conf after --remove differs from the original"
echo "$out" | grep -q "^reloaded smbd" || fail "--remove did not reload smbd"
rm_bak=$(echo "$out" | sed -n "s|^kept a backup of the old $T/smb.conf: ||p")
[ -n "$rm_bak" ] && [ "$(tail -n 1 "$rm_bak")" = "include = $T/pxeimagesfs.conf" ] ||
	fail "--remove kept no backup of the smb.conf it rewrote"
before=$(sums)
run --remove
want_rc 0 "second --remove"
[ "$(sums)" = "$before" ] || fail "second --remove changed files"

# smbd not running (at boot, pxeimagesfs starts before smbd): done, a note, no warning (exit 0)
kill "$SMBD_PID"; wait "$SMBD_PID" 2>/dev/null; SMBD_PID=
run
want_rc 0 "export without smbd"
echo "$out" | grep -q "^note: smbd is not running; it reads the new configuration when it starts" ||
	fail "no note that smbd is not running: $out"
echo "$out" | grep -q "^warning:" && fail "a warning although smbd simply is not running: $out"
[ "$(tail -n 1 "$T/smb.conf")" = "include = $T/pxeimagesfs.conf" ] || fail "include not written without smbd"

# samba = private: nothing to export; says what to do
sed -i 's/samba = system/samba = private/' "$T/pxe.conf"
before=$(sums)
run
want_rc 2 "export with samba = private"
echo "$err" | grep -q "samba = private.*set 'samba = system'" || fail "samba = private: message"
[ "$(sums)" = "$before" ] || fail "samba = private changed files"

sed -i 's/samba = private/samba = system/' "$T/pxe.conf"

# ---- smb.conf is the administrator's file: what we cannot read whole is refused unchanged ----
cp "$T/smb.conf" "$T/good-smb.conf"
# a NUL byte: read as a C string, everything after it was deleted (exit 0, no backup)
{ head -n 5 "$T/good-smb.conf"; printf '\0'; tail -n +6 "$T/good-smb.conf"; } >"$T/smb.conf"
before=$(sums)
run
want_rc 2 "export of an smb.conf with a NUL byte"
[ "$(sums)" = "$before" ] || fail "export changed an smb.conf with a NUL byte"
echo "$err" | grep -q "^error: cannot read $T/smb.conf: it is not a text file" || fail "NUL: message"
# UTF-16 text
iconv -f UTF-8 -t UTF-16 "$T/good-smb.conf" >"$T/smb.conf"
before=$(sums)
run
want_rc 2 "export of a UTF-16 smb.conf"
[ "$(sums)" = "$before" ] || fail "export changed a UTF-16 smb.conf"
echo "$err" | grep -q "UTF-16" || fail "UTF-16: message"
run --remove
want_rc 2 "export --remove of a UTF-16 smb.conf"
[ "$(sums)" = "$before" ] || fail "export --remove changed a UTF-16 smb.conf"
# include = /dev/zero read forever; an include of a FIFO blocked
for inc in /dev/zero "$T/fifo.conf"; do
	[ "$inc" = /dev/zero ] || mkfifo "$inc"
	{ cat "$T/good-smb.conf"; printf '\tinclude = %s\n' "$inc"; } >"$T/smb.conf"
	inc_line=$(grep -n "include = $inc" "$T/smb.conf" | cut -d: -f1)
	before=$(sums)
	start=$SECONDS
	run
	want_rc 2 "export with include = $inc"
	[ $((SECONDS - start)) -lt 30 ] || fail "export with include = $inc took $((SECONDS - start)) s"
	[ "$(sums)" = "$before" ] || fail "export with include = $inc changed files"
	echo "$err" | grep -q -F "error: $T/smb.conf:$inc_line: include = $inc: it is not a regular file" ||
		fail "include = $inc: message"
done
rm -f "$T/fifo.conf"
cp "$T/good-smb.conf" "$T/smb.conf"

# ---- config check: testparm on [share], and no line continuation into the generated text ----
cp "$T/pxe.conf" "$T/good.conf"
echo '    samba:browseable = maybe' >>"$T/pxe.conf"
out=$("$BIN" config check -c "$T/pxe.conf" 2>&1); rc=$?
want_rc 2 "config check with samba:browseable = maybe"
echo "$out" | grep -q -F "$T/pxe.conf:$(grep -c '' "$T/pxe.conf"): testparm rejects 'samba:browseable = maybe'" ||
	fail "config check: browseable = maybe not reported at its line: $out"
cp "$T/good.conf" "$T/pxe.conf"
echo '    samba:bogus parameter = 1' >>"$T/pxe.conf"
out=$("$BIN" config check -c "$T/pxe.conf" 2>&1); rc=$?
want_rc 2 "config check with samba:bogus parameter"
echo "$out" | grep -q "does not know the smb.conf parameter 'bogus parameter'" || fail "config check: unknown: $out"
for kv in 'interfaces = 127.0.0.1 \' 'valid users = alice \' 'write list = @w\' 'samba:comment = x \'; do
	grep -v "^    ${kv%% =*} = " "$T/good.conf" >"$T/pxe.conf"
	echo "    $kv" >>"$T/pxe.conf"
	out=$("$BIN" config check -c "$T/pxe.conf" 2>&1); rc=$?
	want_rc 2 "config check with '$kv'"
	echo "$out" | grep -q "line continuation" || fail "config check '$kv': $out"
done
cp "$T/good.conf" "$T/pxe.conf"
out=$("$BIN" config check -c "$T/pxe.conf" 2>&1); rc=$?
want_rc 0 "config check of the good configuration"

# ---- passwd: smbpasswd without a shell; a quote in the state directory ran a command ----------
S="$T/x';touch INJECTED;'"
cat >"$T/priv.conf" <<CONF
[global]
    mountpoint = $T/view
    state directory = $S
    run directory = $T/run
[share]
    samba = private
CONF
out=$(cd "$T" && echo 'Pxe-secret-1' | timeout 60 "$BIN" passwd -c "$T/priv.conf" root 2>&1); rc=$?
echo "--- passwd -> exit $rc"; echo "$out"
[ -e "$T/INJECTED" ] && fail "passwd ran a command from the state directory's name"
want_rc 0 "passwd root with a quote in the state directory"
pdbedit -s "$S/samba/smb.conf" -L 2>/dev/null | grep -q '^root:' || fail "passwd: root is not in the passdb"
# smbpasswd's own words when it fails: a passdb it cannot open
rm -f "$S/samba/private/passdb.tdb"; mkdir "$S/samba/private/passdb.tdb"
out=$(echo 'Pxe-secret-1' | timeout 60 "$BIN" passwd -c "$T/priv.conf" root 2>&1); rc=$?
echo "--- passwd (broken passdb) -> exit $rc"; echo "$out"
want_rc 2 "passwd with a broken passdb"
echo "$out" | grep -q "smbpasswd failed adding root to $S/samba/smb.conf (.\+)" || fail "passwd: no smbpasswd text: $out"
echo "$out" | grep -q "(exit status" && fail "passwd: only an exit status: $out"

[ "$(cat /etc/samba/smb.conf /etc/samba/pxeimagesfs.conf 2>/dev/null | sha256sum)" = "$ETC_SUM" ] || fail "/etc/samba was touched"
echo "export_system: all checks passed"
