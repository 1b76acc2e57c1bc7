#!/bin/bash
# migrate_smb.sh -- `pxeimagesfs migrate --from smb://...` against a real smbd on loopback as the
# "old server" (127.0.0.1:44495), its share holding a sample package tree: a large file
# (MIGRATE_SMB_BIG_MIB, default 128), nested folders, odd but legal Windows names, and a file the
# test user may not read. Checked: the plan (--dry-run, --json) changes nothing; a pull
# interrupted by stopping that smbd (by its pid file) while the large file streams fails that
# file with a clear error after bounded retries and leaves no partial file under a final name (it
# keeps it under its temporary name, with a record of how far it got);
# with the server back the rerun continues the image's partial copy (its bytes verified, the count
# in --json) and finishes, byte-exact, times kept; the denied file is reported
# and the rest copied; a newer file on the target is kept (a conflict); `check` against the
# share and the view shows the differences before and none after. Needs root, /dev/fuse, smbd,
# smbpasswd and python3; exit 77 = skipped (a failure under CI=true). Run it under
# flock /tmp/pxe-it.lock. Stops only the processes it started, by PID.
set -u
BIN=${1:?usage: migrate_smb.sh PXEIMAGESFS_BINARY}
PORT=44495 # the old server
BIG_MIB=${MIGRATE_SMB_BIG_MIB:-128}
export LC_ALL=C.UTF-8

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, smb_private_conf, smbd_start

need_root_fuse
need_tools smbd:samba smbpasswd:samba-common-bin python3:python3 useradd:passwd getfattr:attr \
	userdel:passwd setsid:util-linux timeout:coreutils cmp:diffutils
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")
if listening $PORT; then fail "port $PORT on 127.0.0.1 is already in use"; fi

T=$(mktemp -d /tmp/pxeimagesfs-msmb.XXXXXX) || fail "mktemp"
chmod 755 "$T" # smbd reaches the share as the test user
IMG=RemoteInstall/SMSImages/SMSPKG
OLD=$T/old/$IMG # the old server's images folder
NEW=$T/new/$IMG # the target drive's
V=$T/view/$IMG
SMBCONF=$T/smb.conf
PIDFILE=$T/samba/pid/smbd.pid
TUSER=pxemig$$
PW=$T/password
SRC=smb://127.0.0.1:$PORT/REMINST/SMSImages/SMSPKG
SMBD_PID= VIEW_PID= USER_MADE= MIG_PID=
MOUNTED=()

cleanup() {
	local rc=$? i pid
	[ -n "$MIG_PID" ] && kill -CONT "$MIG_PID" 2>/dev/null && stop_pid "$MIG_PID"
	[ -n "$VIEW_PID" ] && stop_pid "$VIEW_PID"
	[ -n "$SMBD_PID" ] && stop_pid "$SMBD_PID"
	for pid in $(our_samba); do stop_pid "$pid"; done
	if mountpoint -q "$T/view"; then umount "$T/view" 2>/dev/null || umount -l "$T/view"; fi
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" 2>/dev/null; done
	[ -n "$USER_MADE" ] && userdel "$TUSER" 2>/dev/null
	if [ "$rc" != 0 ] && [ -f "$T/log" ]; then tail -n 20 "$T/log" >&2; fi
	rm -rf --one-file-system "$T"
	exit "$rc"
}
trap cleanup EXIT

# --- the old server's tree, the target drive, the view ----------------------------------------
for d in old new; do
	mkdir "$T/$d" && mount -t tmpfs -o size=$((BIG_MIB * 3 + 64))m,mode=755 "pxe-$d" "$T/$d" ||
		need "cannot mount tmpfs"
	MOUNTED+=("$T/$d")
done
mkdir -p "$OLD/SMS00001" "$OLD/SMS00002/Sub Folder/deeper/x" "$OLD/SMS00003" \
	"$OLD/Ünïcödé 日本" "$NEW" || fail "mkdir"
head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$OLD/SMS00001/boot.SMS00001.wim"
head -c 4096 /dev/urandom >"$OLD/SMS00001/wdsnbp.com"
head -c 70000 /dev/urandom >"$OLD/SMS00002/Sub Folder/deeper/x/pxeboot.n12"
echo "odd names" >"$OLD/SMS00002/100% #1 & co; (x) [y] {z} +=,~'.txt"
echo "unicode" >"$OLD/Ünïcödé 日本/café ñ.ini"
echo "dot first" >"$OLD/SMS00002/.hidden but legal"
: >"$OLD/SMS00002/empty.file"
echo "not for the test user" >"$OLD/SMS00003/secret.wim"
chmod 600 "$OLD/SMS00003/secret.wim"
touch -d "2020-02-02 02:02:02" "$OLD/SMS00002/Sub Folder/deeper/x/pxeboot.n12" \
	"$OLD/SMS00002/Sub Folder"
useradd -M -N -s /usr/sbin/nologin "$TUSER" || fail "useradd $TUSER"
USER_MADE=1
printf 'pw-%s-ok\n' $$ >"$PW"
chmod 600 "$PW"

smb_private_conf "$SMBCONF" "$T/samba" "	smb ports = $PORT
	interfaces = 127.0.0.1
	bind interfaces only = yes
	map to guest = never"
cat >>"$SMBCONF" <<CONF
[REMINST]
	path = $T/old/RemoteInstall
	read only = yes
[SMSPKG\$]
	path = $OLD
	read only = yes
CONF
printf '%s\n%s\n' "$(cat "$PW")" "$(cat "$PW")" |
	smbpasswd -c "$SMBCONF" -s -a "$TUSER" >/dev/null || fail "smbpasswd -a $TUSER"
smbd_start "$SMBCONF" $PORT "$T/smbd.out"
ok "the old server: smbd on 127.0.0.1:$PORT, a ${BIG_MIB} MiB image, odd names, a denied file"

drive_sections DRIVES "NEW:$T/new:10"
view_start "$BIN" "$DRIVES"
CRED=(--user "$TUSER" --password-file "$PW")
ok "the view of drive NEW (empty images folder) at $T/view"

# mig OUT_PREFIX ARGS... -- migrate from the share to NEW; RC, $T/OUT_PREFIX.out and .err
mig() {
	local out=$1
	shift
	timeout 300 "$BIN" migrate -c "$T/pxe.conf" --to NEW --from "$SRC" "${CRED[@]}" "$@" \
		>"$T/$out.out" 2>"$T/$out.err"
	RC=$?
}
# chk DEEP... -- `check` of the share SMSPKG$ against the view: RC and OUT
chk() {
	OUT=$(timeout 120 "$BIN" check -c "$T/pxe.conf" "${CRED[@]}" "$@" \
		"smb://127.0.0.1:$PORT/SMSPKG\$" 2>&1)
	RC=$?
}
# final_names_match -- every file under a final name on the target equals the source's
final_names_match() {
	local f
	while IFS= read -r -d '' f; do
		cmp -s "$NEW/$f" "$OLD/$f" || fail "$1: $f on the target differs from the source's"
	done < <(cd "$NEW" && find . -type f ! -name '.pxeimagesfs-tmp*' -print0)
}
no_temporaries() {
	local left
	left=$(find "$NEW" -type f -name '.pxeimagesfs-tmp.migrate.*')
	[ -z "$left" ] || fail "$1: temporaries left: $left"
}

# --- check before: the share has what the view lacks ------------------------------------------
chk
[ "$RC" != 0 ] || fail "check before the pull: exit 0: $OUT"
grep -q "SMS00001/boot.SMS00001.wim: on the share, not in the view" <<<"$OUT" ||
	fail "check before the pull: the large image not named: $OUT"
ok "check before: exit $RC, the share's packages named as missing in the view"

# --- the plan --------------------------------------------------------------------------------
mig plan --dry-run --json
[ "$RC" = 0 ] || fail "--dry-run --json: exit $RC: $(cat "$T/plan.err")"
python3 - "$T/plan.out" <<'PY' || fail "--dry-run --json: $(cat "$T/plan.out")"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["dry_run"] and p["sources"][0]["drive"].startswith("smb://127.0.0.1:"), p["sources"]
acts = {i["path"]: i["action"] for i in p["items"]}
assert acts["SMS00001/boot.SMS00001.wim"] == "copy", acts
assert acts["SMS00002/Sub Folder/deeper/x"] == "mkdir", acts
assert acts["Ünïcödé 日本/café ñ.ini"] == "copy", acts
assert p["totals"]["copy"] == 8, p["totals"]
PY
[ -z "$(ls -A "$NEW")" ] || fail "--dry-run wrote to the target: $(ls -A "$NEW")"
ok "--dry-run --json: the plan (8 files, the folders), nothing written"

# stopper.py PATTERN PID BYTES TOTAL -- runs the stopped process PID in bursts of 2 ms (SIGCONT,
# SIGSTOP) until the file PATTERN (a glob: a temporary's name carries its run's tag) holds at
# least BYTES but fewer than TOTAL, and leaves it stopped there: in the middle of that file,
# however fast the copy is (60 s at most; exit 1: never)
cat >"$T/stopper.py" <<'PY'
import glob, os, signal, sys, time
path, pid, low, high = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
end = time.monotonic() + 60
while time.monotonic() < end:
    try:
        size = max([os.stat(p).st_size for p in glob.glob(path)] or [-1])
    except FileNotFoundError:
        size = -1
    if size >= high:
        sys.exit("stopper: %s already whole" % path)
    if size >= low:
        sys.exit(0)
    os.kill(pid, signal.SIGCONT)
    time.sleep(0.002)
    os.kill(pid, signal.SIGSTOP)
    time.sleep(0.001)
sys.exit("stopper: %s never reached %d bytes" % (path, low))
PY
# migrate_stopped OUT ARGS... -- migrate in the background, stopped before it starts (MIG_PID)
migrate_stopped() {
	local out=$1
	shift
	bash -c 'kill -STOP $$; exec "$@"' migrate "$BIN" migrate -c "$T/pxe.conf" --to NEW \
		--from "$SRC" "${CRED[@]}" "$@" >"$T/$out.out" 2>"$T/$out.err" &
	MIG_PID=$!
	for ((i = 0; i < 200; i++)); do
		[ "$(awk '{ print $3 }' "/proc/$MIG_PID/stat" 2>/dev/null)" = T ] && return 0
		sleep 0.01
	done
	fail "migrate did not stop itself before starting"
}
BIGTMP="$NEW/SMS00001/.pxeimagesfs-tmp.migrate.*.boot.SMS00001.wim" # a glob: the run's tag
BIGSIZE=$((BIG_MIB * 1024 * 1024))

# smbd_children -- the smbd processes serving connections (not the parent of the pid file)
smbd_children() {
	local p parent
	parent=$(cat "$PIDFILE")
	for p in $(our_samba); do
		[ "$p" != "$parent" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '^smbd ' &&
			echo "$p"
	done
}

# --- a stall: the server stops answering mid-file; a fresh connection continues the file ------
migrate_stopped stall --timeout 2 --retries 3
python3 "$T/stopper.py" "$BIGTMP" "$MIG_PID" $((4 * 1024 * 1024)) $BIGSIZE ||
	fail "could not stop migrate in the middle of the image: $(cat "$T/stall.out" "$T/stall.err")"
STALLED=$(smbd_children)
[ -n "$STALLED" ] || fail "no smbd serving the pull"
kill -STOP $STALLED
kill -CONT "$MIG_PID"
wait "$MIG_PID"
RC=$?
MIG_PID=
kill -CONT $STALLED
[ "$RC" = 1 ] || fail "stalled pull: exit $RC, want 1 (the denied file): $(cat "$T/stall.out" "$T/stall.err")"
grep -q "retry 1 of 3" "$T/stall.err" || fail "stalled pull: no retry: $(cat "$T/stall.err")"
grep -q "copied   SMS00001/boot.SMS00001.wim .*SHA-256 verified" "$T/stall.out" ||
	fail "stalled pull: the image not copied: $(cat "$T/stall.out" "$T/stall.err")"
cmp -s "$OLD/SMS00001/boot.SMS00001.wim" "$NEW/SMS00001/boot.SMS00001.wim" ||
	fail "stalled pull: the image differs"
no_temporaries "stalled pull"
ok "a server that stalls mid-file: timed out, the image continued on a fresh connection, verified"
kill $STALLED 2>/dev/null
find "$NEW" -mindepth 1 -delete || fail "cannot empty the target"

# --- interrupted: the server stops while the large image streams -----------------------------
migrate_stopped cut --retries 2 --retry-time 20
python3 "$T/stopper.py" "$BIGTMP" "$MIG_PID" $((BIGSIZE / 2)) $BIGSIZE ||
	fail "could not stop migrate in the middle of the image: $(cat "$T/cut.out" "$T/cut.err")"
kill "$(cat "$PIDFILE")" || fail "cannot stop smbd by its pid file $PIDFILE"
for ((i = 0; i < 200; i++)); do [ -z "$(our_samba)" ] && break; sleep 0.05; done
[ -z "$(our_samba)" ] || fail "smbd did not stop: $(our_samba)"
SMBD_PID=
kill -CONT "$MIG_PID"
wait "$MIG_PID"
RC=$?
MIG_PID=
[ "$RC" = 1 ] || fail "interrupted pull: exit $RC, want 1: $(cat "$T/cut.out" "$T/cut.err")"
grep -q "FAILED .*SMS00001/boot.SMS00001.wim: copying: .*gave up after 2 retries" "$T/cut.err" ||
	fail "interrupted pull: no clear error for the large image: $(cat "$T/cut.err")"
[ ! -e "$NEW/SMS00001/boot.SMS00001.wim" ] || fail "interrupted pull: the image under its name"
# the image's partial copy is kept under its temporary name, with how far it got
LEFT=$(find "$NEW" -type f -name '.pxeimagesfs-tmp.migrate.*')
if [ -z "$LEFT" ] || [ "$(compgen -G "$BIGTMP")" != "$LEFT" ]; then
	fail "interrupted pull: want only the image's partial copy, have: $LEFT"
fi
BIGTMP=$LEFT
PARTIAL=$(stat -c %s "$BIGTMP")
[ "$PARTIAL" -gt 0 ] && [ "$PARTIAL" -lt "$BIGSIZE" ] ||
	fail "interrupted pull: the partial copy holds $PARTIAL of $BIGSIZE bytes"
getfattr --only-values -n user.pxeimagesfs.partial "$BIGTMP" 2>/dev/null | grep -q "^v1 $BIGSIZE .* $PARTIAL [0-9a-f]\{64\}\$" ||
	fail "interrupted pull: no record of $PARTIAL bytes on the partial copy: $(getfattr -d "$BIGTMP" 2>&1)"
final_names_match "interrupted pull"
ok "server stopped mid-file: the image FAILED after 2 retries, its first $PARTIAL bytes kept under the temporary name only"

smbd_start "$SMBCONF" $PORT "$T/smbd2.out"
# the dry run says what the run does with the partial copy: continues it, does not remove it
mig dryresume --dry-run
[ "$RC" = 0 ] || fail "dry run with a partial copy: exit $RC: $(cat "$T/dryresume.err")"
BIGTMP_REL=${BIGTMP#"$NEW/"}
grep -qE "^resume +[0-9.]+ MiB +$BIGTMP_REL +\(.* SMS00001/boot\.SMS00001\.wim .*: $PARTIAL of $BIGSIZE bytes done" "$T/dryresume.out" ||
	fail "dry run: no 'resume' line for $BIGTMP_REL: $(cat "$T/dryresume.out")"
! grep -E "^cleanup .*boot\.SMS00001\.wim" "$T/dryresume.out" ||
	fail "dry run: the partial copy the run continues is listed as cleanup"
mig dryresumej --dry-run --json
python3 - "$T/dryresumej.out" "$BIGTMP_REL" "$PARTIAL" "$BIGSIZE" <<'PY' || fail "dry run --json: $(cat "$T/dryresumej.out")"
import json, sys
p, tmp, partial, size = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lo = {l["path"]: l for l in p["leftovers"]}
assert set(lo) == {tmp}, lo
assert lo[tmp]["action"] == "resume", lo
assert lo[tmp]["item"] == "SMS00001/boot.SMS00001.wim", lo
assert lo[tmp]["bytes_done"] == partial and lo[tmp]["bytes_total"] == size, lo
assert p["summary"] is None
PY
[ "$(compgen -G "$NEW/SMS00001/.pxeimagesfs-tmp.migrate.*")" = "$BIGTMP" ] ||
	fail "dry run: the partial copy changed: $(ls -a "$NEW/SMS00001")"
ok "dry run: the partial copy listed as 'resume' ($PARTIAL of $BIGSIZE bytes), not 'cleanup'"
mig resume --json
[ "$RC" = 1 ] || fail "resumed pull: exit $RC, want 1 (the denied file): $(cat "$T/resume.err")"
python3 - "$T/resume.out" "$PARTIAL" "$BIGSIZE" <<'PY' || fail "resumed pull: $(cat "$T/resume.out")"
import json, sys
p, partial, size = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
it = {i["path"]: i for i in p["items"]}["SMS00001/boot.SMS00001.wim"]
assert it["result"] == "done" and it["verified"], it
assert it["resumed_bytes"] == partial, (it["resumed_bytes"], partial)
s = p["summary"]
assert s["resumed"] == 1 and s["bytes_resumed"] == partial, s
print("resume: %d of %d bytes of the image kept from the interrupted run, %d read again" %
      (partial, size, size - partial))
PY
grep -q "FAILED .*SMS00003/secret.wim: opening the source: Permission denied" "$T/resume.err" ||
	fail "the denied file not reported: $(cat "$T/resume.err")"
[ ! -e "$NEW/SMS00003/secret.wim" ] || fail "the denied file exists on the target"
no_temporaries "resumed pull"
final_names_match "resumed pull"
[ "$(cd "$OLD" && find . ! -name secret.wim | sort)" = "$(cd "$NEW" && find . ! -name '.pxeimagesfs-tmp*' | sort)" ] ||
	fail "resumed pull: the trees differ: $(diff <(cd "$OLD" && find . | sort) <(cd "$NEW" && find . | sort))"
for f in "SMS00001/boot.SMS00001.wim" "SMS00002/Sub Folder/deeper/x/pxeboot.n12" "SMS00002/Sub Folder"; do
	[ "$(stat -c %Y "$OLD/$f")" = "$(stat -c %Y "$NEW/$f")" ] || fail "mtime of $f not kept"
done
ok "resumed with the server back: byte-exact, times kept; the denied file FAILED, the rest copied"

# --- a newer file on the target is kept -------------------------------------------------------
echo "a newer copy made on the target" >"$NEW/SMS00001/wdsnbp.com"
touch -d "+1 hour" "$NEW/SMS00001/wdsnbp.com"
echo "changed on the old server" >>"$OLD/SMS00002/Sub Folder/deeper/x/pxeboot.n12"
chmod 644 "$OLD/SMS00003/secret.wim"
mig newer --json
[ "$RC" = 3 ] || fail "newer target: exit $RC, want 3 (a conflict): $(cat "$T/newer.out" "$T/newer.err")"
grep -q "^a newer copy made on the target$" "$NEW/SMS00001/wdsnbp.com" ||
	fail "the target's newer copy was replaced"
cmp -s "$OLD/SMS00002/Sub Folder/deeper/x/pxeboot.n12" "$NEW/SMS00002/Sub Folder/deeper/x/pxeboot.n12" ||
	fail "the file changed on the old server was not replaced"
cmp -s "$OLD/SMS00003/secret.wim" "$NEW/SMS00003/secret.wim" || fail "secret.wim not copied once readable"
python3 - "$T/newer.out" <<'PY' || fail "newer target: the JSON result: $(cat "$T/newer.out")"
import json, sys
p = json.load(open(sys.argv[1]))
acts = {i["path"]: i["action"] for i in p["items"]}
assert acts["SMS00001/wdsnbp.com"] == "conflict", acts
assert acts["SMS00002/Sub Folder/deeper/x/pxeboot.n12"] == "replace", acts
assert p["summary"]["conflicts"] == 1 and p["summary"]["failed"] == 0, p["summary"]
PY
ok "a newer copy on the target kept (a conflict, exit 3); an older one replaced (--json)"

# --- check after ----------------------------------------------------------------------------
chk --deep
[ "$RC" != 0 ] && grep -q "SMS00001/wdsnbp.com" <<<"$OUT" ||
	fail "check --deep with the conflict left: exit $RC: $OUT"
mig always --overwrite=always
[ "$RC" = 0 ] || fail "--overwrite=always: exit $RC: $(cat "$T/always.err")"
chk --deep
[ "$RC" = 0 ] || fail "check --deep after the move: exit $RC: $OUT"
grep -q "^SMB OK - " <<<"$OUT" || fail "check --deep after the move: $OUT"
OUT=$(timeout 120 "$BIN" check -c "$T/pxe.conf" "${CRED[@]}" --deep "$SRC/" 2>&1)
RC=$?
[ "$RC" = 0 ] || fail "check --deep of a folder below the share ($SRC/): exit $RC: $OUT"
grep -q "^SMB OK - " <<<"$OUT" || fail "check --deep after the move: $OUT"
ok "check --deep: the one difference named, then none once it is replaced"
