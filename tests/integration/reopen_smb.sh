#!/bin/bash
# reopen_smb.sh -- a new file written over SMB (issue 13): smbd 4.15+ reopens every file through
# /proc/self/fd, which failed with NT_STATUS_ACCESS_DENIED on a passthrough view while the
# creating handle was open. The private smbd (samba = private) on 127.0.0.1:44491; a user in
# `write list` reads and opens a file created through the view and still open through its
# creating handle, puts a new file, reads it back, overwrites, renames and deletes it, with
# kernel passthrough and with PXEIMAGESFS_PASSTHROUGH=no. Needs root, /dev/fuse, smbd, smbclient and
# useradd; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: reopen_smb.sh PXEIMAGESFS_BINARY}
PORT=44491
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools smbd:samba smbclient:smbclient useradd:passwd userdel:passwd timeout:coreutils
BIN=$(readlink -f "$BIN")

T=$(mktemp -d /tmp/pxeimagesfs-rsmb.XXXXXX) || fail "mktemp"
chmod 755 "$T" # smbd reaches the view as the connected user
WRITER=pxerw$$
CONF=$T/pxe.conf
DAEMON=
cleanup() {
	local i m
	stop_daemon
	umount "$T/view" 2>/dev/null
	for m in "$T/c" "$T/d"; do grep -q " $m " /proc/self/mountinfo && umount "$m"; done
	userdel "$WRITER" 2>/dev/null
	rm -rf --one-file-system "$T"
}
stop_daemon() {
	local i
	[ -n "$DAEMON" ] || return 0
	kill "$DAEMON" 2>/dev/null
	for ((i = 0; i < 200; i++)); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$DAEMON" 2>/dev/null
	private_smbd_kill
	DAEMON=
}
trap cleanup EXIT

for d in c d; do
	mkdir -p "$T/$d"
	mount -t tmpfs -o size=64m "pxe-rsmb-$d" "$T/$d" || need "cannot mount tmpfs"
done
DIMG=$T/d/RemoteInstall/SMSImages/SMSPKG
mkdir -p "$T/c/RemoteInstall/SMSImages/SMSPKG" "$DIMG"
chmod 1777 "$DIMG"
useradd -M -N -s /usr/sbin/nologin "$WRITER" || fail "useradd $WRITER"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
view_conf "$DRIVES" "    mount timeout = 0" "    samba = private
    port = $PORT
    interfaces = 127.0.0.1
    read only = yes
    write list = $WRITER"
echo "s3cret-$$" | "$BIN" passwd -c "$CONF" "$WRITER" >/dev/null || fail "passwd $WRITER"
writer() { timeout 60 smbclient -U "$WRITER%s3cret-$$" -p "$PORT" "//127.0.0.1/SMSPXEIMAGES\$" -c "$1" 2>&1; }

head -c 1M /dev/urandom >"$T/one.bin"
head -c 300K /dev/urandom >"$T/two.bin"
modes=served
"$BIN" --version | grep -q 'kernel passthrough: built in' && modes="passthrough served"
for mode in $modes; do
	env=()
	[ "$mode" = served ] && env=(PXEIMAGESFS_PASSTHROUGH=no)
	env -u PXEIMAGESFS_PASSTHROUGH "${env[@]}" "$BIN" mount -f -c "$CONF" 2>"$T/daemon.log" &
	DAEMON=$!
	for ((i = 0; i < 200; i++)); do
		listening "$PORT" && break
		kill -0 "$DAEMON" 2>/dev/null || { cat "$T/daemon.log"; fail "$mode: the daemon exited"; }
		sleep 0.05
	done
	listening "$PORT" || fail "$mode: no smbd on $PORT"
	active=$("$BIN" status -c "$CONF" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["passthrough"]["active"])')
	if [ "$mode" = passthrough ] && [ "$active" != True ]; then
		"$BIN" status -c "$CONF" | grep -qi kernel && need "passthrough not offered here"
		fail "passthrough not active"
	fi

	# a file created through the view and still open through its creating handle, read
	# and opened over SMB: smbd reopens it through /proc/self/fd
	exec 3>"$T/view/RemoteInstall/SMSImages/SMSPKG/held-$mode.bin" || fail "$mode: create"
	cat "$T/two.bin" >&3
	out=$(writer "get held-$mode.bin $T/got.bin; open held-$mode.bin")
	exec 3>&-
	echo "$out" | grep -q NT_STATUS && fail "$mode: a file open through its creating handle, over SMB: $out"
	echo "$out" | grep -q "open file .*held-$mode.bin" || fail "$mode: smbclient open: $out"
	cmp -s "$T/two.bin" "$T/got.bin" || fail "$mode: the held file read over SMB differs"
	out=$(writer "put $T/one.bin new-$mode.bin; get new-$mode.bin $T/got.bin")
	echo "$out" | grep -q NT_STATUS && fail "$mode: put + get of a new file: $out"
	cmp -s "$T/one.bin" "$DIMG/new-$mode.bin" || fail "$mode: the new file differs on the drive"
	cmp -s "$T/one.bin" "$T/got.bin" || fail "$mode: the new file read back over SMB differs"
	out=$(writer "put $T/two.bin new-$mode.bin; get new-$mode.bin $T/got.bin; ren new-$mode.bin ren-$mode.bin; del ren-$mode.bin")
	echo "$out" | grep -q NT_STATUS && fail "$mode: overwrite, rename and delete: $out"
	cmp -s "$T/two.bin" "$T/got.bin" || fail "$mode: the overwritten file read back differs"
	[ ! -e "$DIMG/ren-$mode.bin" ] || fail "$mode: delete over SMB"
	ok "$mode (passthrough active: $active): a file held open by its creator read and opened over SMB; a new file put, read back, overwritten, renamed, deleted"
	stop_daemon
done
echo "reopen_smb: all checks passed"
