#!/bin/bash
# smb_check.sh -- `pxeimagesfs check` against real smbd servers (SPEC sections 6 and 9): the
# view served by the private smbd of `mount` (127.0.0.1:44471) is OK (names, sizes, --deep
# SHA-256 of an 8 MiB image; a FIFO in the images folder listed, never read); then each failure is produced for real and must be named, with
# its exit status: share not defined, wrong password (never OK as a guest, though the share
# has `guest ok = yes`), server not reachable, and, on a throwaway smbd (44472), a stale share
# path, access denied and an empty share; a share whose copy of the images spells names in
# another case (é.wim for the view's É.wim, Greek, Cyrillic, case twins a.txt and A.txt) is OK,
# paired by the view's case rule; last, the images folder gone from every drive
# (path missing) and back; then no drive configured at all (the hint). Needs root, /dev/fuse,
# smbd and testparm; exit 77 = skipped (a failure under CI=true). Stops only the processes it
# started, by PID; takes about 6 s.
set -u
BIN=${1:?usage: smb_check.sh PXEIMAGESFS_BINARY}
PORT=44471  # the private smbd of `pxeimagesfs mount`
PORT2=44472 # a throwaway smbd started here
DEAD=44479  # nothing listens there
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

[ "$(id -u)" = 0 ] || need "needs root (mounts, smbd, a test user)"
[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
for tool in smbd:samba testparm:samba-common-bin useradd:passwd userdel:passwd \
	timeout:coreutils setsid:util-linux; do
	command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
done
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")

for p in $PORT $PORT2 $DEAD; do
	if listening "$p"; then fail "port $p on 127.0.0.1 is already in use"; fi
done

T=$(mktemp -d /tmp/pxeimagesfs-check.XXXXXX) || fail "mktemp"
chmod 755 "$T" # smbd reaches the view as the connected user (or nobody)
CONF=$T/pxe.conf
CONF2=$T/pxe2.conf
S2=$T/state2/samba # the throwaway smbd's tree
V=$T/view/RemoteInstall/SMSImages/SMSPKG
TUSER=pxechk$$
PW=$T/password
DAEMON=  # `pxeimagesfs mount -f`
SMBD_PID= # the throwaway smbd (smbd_start)
MOUNTED=()
USER_MADE=

cleanup() {
	local rc=$? i pid
	if [ -n "$DAEMON" ]; then stop_pid "$DAEMON"; fi
	if [ -n "$SMBD_PID" ]; then stop_pid "$SMBD_PID"; fi
	# Samba processes of ours left behind: smbd's helpers, or a smbd whose parent failed
	for pid in $(our_samba); do stop_pid "$pid"; done
	if mountpoint -q "$T/view"; then umount "$T/view" 2>/dev/null || umount -l "$T/view"; fi
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" 2>/dev/null; done
	if [ -n "$USER_MADE" ]; then userdel "$TUSER" 2>/dev/null; fi
	if [ "$rc" != 0 ] && [ -s "$T/daemon.log" ]; then
		echo "--- last lines of the daemon's log" >&2
		tail -n 30 "$T/daemon.log" >&2
	fi
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# wait_for WHAT CMD...: up to 10 s for CMD to succeed
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		if [ -n "$DAEMON" ] && ! kill -0 "$DAEMON" 2>/dev/null; then
			fail "the daemon exited while waiting for $what"
		fi
		sleep 0.05
	done
	fail "$what: not within 10 s"
}

# expect WHAT RC KIND ARGS...: `check --json ARGS` exits RC, names KIND, prints one line
# (nothing on stderr: no libsmbclient noise, no sanitizer report)
OUT=
expect() {
	local what=$1 want_rc=$2 kind=$3 rc
	shift 3
	OUT=$(timeout 30 "$BIN" check --json "$@" 2>"$T/check.err")
	rc=$?
	[ "$rc" = "$want_rc" ] || fail "$what: exit $rc, want $want_rc: $OUT $(cat "$T/check.err")"
	grep -q "\"kind\": *\"$kind\"" <<<"$OUT" || fail "$what: want kind $kind: $OUT"
	[ "$(wc -l <<<"$OUT")" = 1 ] || fail "$what: more than one line on stdout: $OUT"
	[ ! -s "$T/check.err" ] || fail "$what: output on stderr: $(cat "$T/check.err")"
}
has() { grep -qF -- "$1" <<<"$OUT" || fail "$2: no '$1' in: $OUT"; }

# --- drives, a user, the view and its private smbd -----------------------------------------

for d in c d; do
	mkdir "$T/$d"
	mount -t tmpfs -o size=32m,mode=755 tmpfs "$T/$d" || need "cannot mount tmpfs"
	MOUNTED+=("$T/$d")
done
CIMG=$T/c/RemoteInstall/SMSImages/SMSPKG
DIMG=$T/d/RemoteInstall/SMSImages/SMSPKG
mkdir -p "$CIMG/SMS00001" "$DIMG/SMS00002" "$T/old/SMS00001" "$T/empty" "$T/state" "$T/run"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$CIMG/SMS00001/boot.SMS00001.wim"
head -c 4096 /dev/urandom >"$CIMG/SMS00001/wdsnbp.com"
head -c 100000 /dev/urandom >"$DIMG/SMS00002/boot.SMS00002.wim"
echo "boot sdi" >"$DIMG/boot.sdi"
echo "an old image" >"$T/old/SMS00001/boot.SMS00001.wim"
FILES=4

useradd -M -N -s /usr/sbin/nologin "$TUSER" || fail "useradd $TUSER"
USER_MADE=1
printf 'pw-%s-ok\n' $$ >"$PW"
printf 'not-the-password\n' >"$T/bad"
chmod 600 "$PW" "$T/bad"

drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
view_conf "$DRIVES" "    mount timeout = 0" "    samba = private
    port = $PORT
    interfaces = 127.0.0.1
    guest ok = yes
    read only = yes"
timeout 30 "$BIN" passwd -c "$CONF" "$TUSER" <"$PW" >/dev/null || fail "pxeimagesfs passwd $TUSER"
"$BIN" mount -f -c "$CONF" 2>"$T/daemon.log" &
DAEMON=$!
wait_for "the view at $T/view" timeout 2 test -d "$V/SMS00001"
wait_for "the private smbd on 127.0.0.1:$PORT" listening $PORT
wait_for "smbd's pid file" test -s "$T/state/samba/pid/smbd.pid"
ok "mount with samba = private: the view and its smbd on 127.0.0.1:$PORT"

# --- OK ----------------------------------------------------------------------------------

expect "as $TUSER" 0 ok -c "$CONF" --user "$TUSER" --password-file "$PW"
has "\"files_remote\":$FILES," "as $TUSER"
has "\"files_local\":$FILES," "as $TUSER"
has '"status":"OK"' "as $TUSER"
has "\"url\":\"smb://127.0.0.1:$PORT/SMSPXEIMAGES\$\"" "as $TUSER"
ok "check as a user: OK, $FILES files, the default URL from the config"

expect "--guest --deep" 0 ok -c "$CONF" --guest --deep
has "SHA-256" "--guest --deep"
ok "check --guest --deep: the 8 MiB image and the rest hash the same over SMB and in the view"

# a FIFO in the images folder (a broken or hostile drive): never opened to be read (that
# waits for a writer forever), compared by its listing only
mkfifo "$CIMG/SMS00001/pipe.fifo" || fail "mkfifo"
expect "--guest --deep with a FIFO" 0 ok -c "$CONF" --guest --deep
rm -f "$CIMG/SMS00001/pipe.fifo"
ok "check --guest --deep: a FIFO in the view is listed and not read (OK)"

out=$(timeout 30 "$BIN" check -c "$CONF")
rc=$?
if [ "$rc" != 0 ] || [[ "$out" != "SMB OK - "* ]]; then fail "human output: exit $rc: $out"; fi
[ "$(wc -l <<<"$out")" = 1 ] || fail "human output: more than one line: $out"
chmod 644 "$PW"
timeout 30 "$BIN" check -c "$CONF" --user "$TUSER" --password-file "$PW" >/dev/null \
	2>"$T/check.err" || fail "check with a readable password file: $(cat "$T/check.err")"
grep -q "readable by every user" "$T/check.err" || fail "no warning about a readable password file"
chmod 600 "$PW"
ok "human output: one line 'SMB OK - ...'; a password file others can read is warned about"

# --- the monitoring-plugin conventions ------------------------------------------------------
# plugin RC ARGS...: `check ARGS` exits RC; its first stdout line is the status line
plugin() {
	local want=$1 rc
	shift
	OUT=$(timeout 30 "$BIN" check "$@" 2>"$T/check.err")
	rc=$?
	[ "$rc" = "$want" ] || fail "check $*: exit $rc, want $want: $OUT $(cat "$T/check.err")"
}
plugin 3 --no-such-option
[[ $OUT == "SMB UNKNOWN - "* ]] || fail "a bad option: want 'SMB UNKNOWN - ...' on stdout: $OUT"
plugin 3 -c "$CONF" --user "$TUSER"
[[ $OUT == "SMB UNKNOWN - "*"--password-file"* ]] || fail "--user without a password file: $OUT"
printf '[global]\n    no such key = 1\n' >"$T/broken.conf"
plugin 3 --config "$T/broken.conf"
[[ $OUT == "SMB UNKNOWN - "*"config"* ]] || fail "a broken configuration: $OUT"
plugin 3 -c "$CONF" --guest "http://127.0.0.1/x"
[[ $OUT == "SMB UNKNOWN - "* ]] || fail "a URL that is not smb://: $OUT"
plugin 3 -c "$CONF" -w time=abc
plugin 0 --config "$CONF" --guest -w time=60,free=0% -c time=120
[[ $OUT == "SMB OK - "*"| time="*"s;60;120;0 free="*"%;0;;0;100 files_remote=$FILES"* ]] ||
	fail "perfdata with thresholds: $OUT"
plugin 1 --config "$CONF" --guest -w time=0
[[ $OUT == "SMB WARNING - "*"response time"*"above the warning limit 0 s"* ]] || fail "-w time=0: $OUT"
plugin 2 --config "$CONF" --guest -w time=0 -c free=100%
[[ $OUT == "SMB CRITICAL - "*"free space"*"under the critical limit 100%"* ]] || fail "-c free=100%: $OUT"
expect "thresholds in JSON" 1 ok --config "$CONF" --guest -w time=0
has '"time_s":' "thresholds in JSON"
has '"free_percent":' "thresholds in JSON"
ok "plugin conventions: UNKNOWN (3) with a status line for usage and configuration errors, -w/-c on time and free space, time= and free= in the perfdata"

# samba = system: the URL takes the system smbd's real port from its smb.conf (testparm)
printf '[global]\n    smb ports = %s\n' "$PORT" >"$T/sys-smb.conf"
sed -e 's/samba = private/samba = system/' -e "/port = $PORT/d" -e '/interfaces = /d' \
	-e "s|^\[share\]|[share]\n    smb.conf = $T/sys-smb.conf\n    include file = $T/sys-inc.conf|" \
	"$CONF" >"$T/sys.conf"
expect "samba = system on port $PORT" 0 ok --config "$T/sys.conf" --guest
has "\"url\":\"smb://localhost:$PORT/SMSPXEIMAGES\$\"" "samba = system on port $PORT"
ok "samba = system: check connects to the port smb.conf names ($PORT), not 445"

# --- failures on the private smbd --------------------------------------------------------

expect "another share name" 2 share_not_defined -c "$CONF" --guest \
	"smb://127.0.0.1:$PORT/NOSUCHSHARE"
has "not defined" "another share name"
ok "a share that is not defined: CRITICAL share_not_defined"

expect "a wrong password" 2 wrong_credentials -c "$CONF" --user "$TUSER" --password-file "$T/bad"
ok "a wrong password: CRITICAL wrong_credentials, not OK as a guest (the share has guest ok)"

expect "an unknown user" 2 wrong_credentials -c "$CONF" --user "nosuch$$" \
	--password-file "$T/bad"
has "guest" "an unknown user"
ok "an unknown user the server maps to guest: CRITICAL wrong_credentials"

expect "a dead port" 2 unreachable -c "$CONF" --guest "smb://127.0.0.1:$DEAD/SMSPXEIMAGES\$"
has "connection refused" "a dead port"
ok "nothing listens on $DEAD: CRITICAL unreachable"

# --- a throwaway smbd: a stale share, a denied one, an empty one -------------------------

sed -e "s|^    state directory = .*|    state directory = $T/state2|" \
	-e "s|^    port = .*|    port = $PORT2|" "$CONF" >"$CONF2"
mkdir -p "$T/state2"
timeout 30 "$BIN" passwd -c "$CONF2" "$TUSER" <"$PW" >/dev/null ||
	fail "pxeimagesfs passwd -c $CONF2"
# passwd wrote a generated smb.conf there; this server has its own
smb_private_conf "$S2/smb.conf" "$S2" "	netbios name = PXECHECKOLD
	smb ports = $PORT2
	interfaces = 127.0.0.1
	bind interfaces only = yes
	map to guest = Bad User
	guest account = nobody
	disable netbios = yes"
cat >>"$S2/smb.conf" <<SMBCONF || fail "writing $S2/smb.conf"
# the share as it was before the images moved: the old folder, not the view
[SMSPXEIMAGES\$]
	path = $T/old
	guest ok = yes
	read only = yes
[DENIED]
	path = $V
	valid users = someoneelse
[EMPTY]
	path = $T/empty
	guest ok = yes
# another server's copy of the images, names spelled in another case (see below)
[CASED]
	path = $T/cased
	guest ok = yes
	read only = yes
SMBCONF
smbd_start "$S2/smb.conf" "$PORT2" "$T/smbd2.log"

expect "the old share" 2 path_stale -c "$CONF2" --guest "smb://127.0.0.1:$PORT2/SMSPXEIMAGES\$"
has "stale: the share SMSPXEIMAGES\$ points at $T/old, not the view at $V" "the old share"
ok "a share still pointing at the old folder: CRITICAL path_stale, both paths named"

expect "valid users" 2 access_denied -c "$CONF2" --user "$TUSER" --password-file "$PW" \
	"smb://127.0.0.1:$PORT2/DENIED"
ok "a share the user may not open (valid users): CRITICAL access_denied"

expect "an empty share" 2 share_empty -c "$CONF" --guest "smb://127.0.0.1:$PORT2/EMPTY"
has "while drive D ($DIMG) holds 2 packages" "an empty share"
ok "an empty share while a drive holds the packages: CRITICAL share_empty naming the drive"

# --- names that differ only in case pair by the view's own rule ----------------------------
# Drive C gets É.wim, ΣΟΦΙΑ.wim, ЖУК.wim and case twins a.txt / A.txt (tmpfs is case-
# sensitive: both are files of their own in the view). The share CASED holds a copy of the view
# on a tmpfs of its own, with é.wim, σοφια.wim and жук.wim and the twins made in the other
# order. Before the fix, check paired names ignoring ASCII case only: é.wim against É.wim was
# "on the share, not in the view" plus "in the view, missing from the share".
mkdir "$CIMG/SMS00003" || fail "mkdir $CIMG/SMS00003"
head -c 5000 /dev/urandom >"$CIMG/SMS00003/É.wim"
head -c 6000 /dev/urandom >"$CIMG/SMS00003/ΣΟΦΙΑ.wim"
head -c 7000 /dev/urandom >"$CIMG/SMS00003/ЖУК.wim"
echo one >"$CIMG/SMS00003/a.txt"
echo twenty-two >"$CIMG/SMS00003/A.txt"
wait_for "the view to show SMS00003/A.txt" timeout 2 test -f "$V/SMS00003/A.txt"
mkdir "$T/cased" || fail "mkdir $T/cased"
mount -t tmpfs -o size=32m,mode=755 tmpfs "$T/cased" || fail "cannot mount tmpfs on $T/cased"
MOUNTED+=("$T/cased")
cp -r "$V/SMS00001" "$V/SMS00002" "$V/boot.sdi" "$T/cased/" || fail "copying the view"
mkdir "$T/cased/SMS00003" || fail "mkdir $T/cased/SMS00003"
cp "$V/SMS00003/A.txt" "$T/cased/SMS00003/A.txt" || fail "copying A.txt"
cp "$V/SMS00003/a.txt" "$T/cased/SMS00003/a.txt" || fail "copying a.txt"
cp "$V/SMS00003/É.wim" "$T/cased/SMS00003/é.wim" || fail "copying É.wim"
cp "$V/SMS00003/ΣΟΦΙΑ.wim" "$T/cased/SMS00003/σοφια.wim" || fail "copying ΣΟΦΙΑ.wim"
cp "$V/SMS00003/ЖУК.wim" "$T/cased/SMS00003/жук.wim" || fail "copying ЖУК.wim"
expect "names in another case" 0 ok -c "$CONF" --guest --deep "smb://127.0.0.1:$PORT2/CASED"
has "\"files_remote\":$((FILES + 5))," "names in another case"
has "\"files_local\":$((FILES + 5))," "names in another case"
ok "é.wim, σοφια.wim, жук.wim on a share pair with É.wim, ΣΟΦΙΑ.wim, ЖУК.wim in the view, a.txt and A.txt each with its own (--deep: OK)"

echo twenty-three >"$T/cased/SMS00003/A.txt"
expect "a case twin changed" 1 content_differs -c "$CONF" --guest --deep \
	"smb://127.0.0.1:$PORT2/CASED"
has "SMS00003/A.txt: 13 bytes over SMB, 11 in the view" "a case twin changed"
grep -qF "SMS00003/a.txt" <<<"$OUT" && fail "a case twin changed: a.txt named too: $OUT"
ok "A.txt changed on the share: that one difference, on A.txt, not on its twin a.txt"
rm -r "$CIMG/SMS00003" || fail "removing $CIMG/SMS00003"
wait_for "the view to lose SMS00003" timeout 2 test ! -e "$V/SMS00003"

# --- the images folder gone from every drive: the share's path is missing ----------------

for d in c d; do
	mv "$T/$d/RemoteInstall" "$T/$d/RemoteInstall.away" || fail "moving $d's images folder away"
done
wait_for "the view to lose its images folder" timeout 2 test ! -e "$V"
expect "no images folder" 2 path_missing -c "$CONF" --guest
has "does not exist" "no images folder"
has "no drive holds the images" "no images folder"
ok "no drive holds the images: CRITICAL path_missing, naming the cause"

for d in c d; do
	mv "$T/$d/RemoteInstall.away" "$T/$d/RemoteInstall" || fail "moving $d's images folder back"
done
wait_for "the view to show the images again" timeout 2 test -d "$V/SMS00002"
expect "images back" 0 ok -c "$CONF" --guest
ok "the images back: OK again"

# --- no drive configured at all (a reload without [drive:*]): the hint, not "no drive holds" --
sed -i '/^\[drive:/,/^\[share\]/{/^\[share\]/!d}' "$CONF"
grep -q '^\[drive:' "$CONF" && fail "test setup: drive sections left in $CONF"
kill -HUP "$DAEMON"
wait_for "the view to lose its drives after the reload" timeout 2 test ! -e "$V"
expect "no drive configured" 2 path_missing -c "$CONF" --guest
has "no drive configured: add a [drive:NAME] section" "no drive configured"
grep -qF "no drive holds the images" <<<"$OUT" && fail "no drive configured: says 'no drive holds the images': $OUT"
ok "no drive configured: CRITICAL path_missing with what to add (as status and resolve say)"

echo "smb_check: all checks passed"
