#!/bin/bash
# smb_share.sh -- the view served over SMB by the private smbd (samba = private), as the site
# server and an admin use it: smbclient and libsmbclient (pxeimagesfs check --deep) list and
# read (a 64 MiB file by checksum), a user in `write list` writes a new package (it lands on the
# primary drive), renames and deletes; a guest reads but cannot write; the daemon restarts a
# smbd that died and stops it at exit. smbd listens on 127.0.0.1:44481 only. Needs root,
# /dev/fuse, smbd and smbclient; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: smb_share.sh PXEIMAGESFS_BINARY}
PORT=44481
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

[ "$(id -u)" = 0 ] || need "needs root"
[ -c /dev/fuse ] || need "no /dev/fuse"
for tool in smbd smbclient sha256sum useradd userdel python3; do
	command -v "$tool" >/dev/null || need "$tool not found (packages samba, smbclient, passwd)"
done
BIN=$(readlink -f "$BIN")

T=$(mktemp -d /tmp/pxeimagesfs-smb.XXXXXX) || fail "mktemp"
chmod 755 "$T" # smbd reaches the view as the connected user
WRITER=pxesmbw$$
CONF=$T/pxe.conf
V=$T/view/RemoteInstall/SMSImages/SMSPKG
DAEMON=
MOUNTED=()
cleanup() {
	local i
	if [ -n "$DAEMON" ]; then
		kill "$DAEMON" 2>/dev/null
		for ((i = 0; i < 100; i++)); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$DAEMON" 2>/dev/null
	fi
	private_smbd_kill
	umount "$T/view" 2>/dev/null
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[i]}" 2>/dev/null; done
	userdel "$WRITER" 2>/dev/null
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

for d in c d; do
	mkdir -p "$T/$d"
	mount -t tmpfs -o size=160m tmpfs "$T/$d" || need "cannot mount tmpfs"
	MOUNTED+=("$T/$d")
done
CIMG=$T/c/RemoteInstall/SMSImages/SMSPKG
DIMG=$T/d/RemoteInstall/SMSImages/SMSPKG
mkdir -p "$CIMG/SMS00001" "$DIMG"
chmod 1777 "$DIMG" # the primary's images folder: writers may create packages
head -c 64M /dev/urandom > "$CIMG/SMS00001/boot.SMS00001.wim"
head -c 4096 /dev/urandom > "$CIMG/SMS00001/wdsnbp.com"
BIG_SUM=$(sha256sum < "$CIMG/SMS00001/boot.SMS00001.wim")
useradd -M -N -s /usr/sbin/nologin "$WRITER" || fail "useradd $WRITER"

drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
view_conf "$DRIVES" "    mount timeout = 0" "    samba = private
    port = $PORT
    interfaces = 127.0.0.1
    guest ok = yes
    read only = yes
    write list = $WRITER"
echo "s3cret-$$" | "$BIN" passwd -c "$CONF" "$WRITER" >/dev/null || fail "passwd $WRITER"
"$BIN" mount -f -c "$CONF" 2>"$T/daemon.log" &
DAEMON=$!
for ((i = 0; i < 200; i++)); do
	listening "$PORT" && break
	kill -0 "$DAEMON" 2>/dev/null || { cat "$T/daemon.log"; fail "the daemon exited"; }
	sleep 0.05
done
listening "$PORT" || { cat "$T/daemon.log"; fail "no smbd on $PORT"; }
ok "mount with samba = private: smbd listens on 127.0.0.1:$PORT"

SHARE="//127.0.0.1/SMSPXEIMAGES\$"
guest() { smbclient -N -p "$PORT" "$SHARE" -c "$1" 2>&1; }
writer() { smbclient -U "$WRITER%s3cret-$$" -p "$PORT" "$SHARE" -c "$1" 2>&1; }

out=$(guest "ls SMS00001/*")
echo "$out" | grep -q "boot.SMS00001.wim *A* *67108864" || echo "$out" | grep -q "boot.SMS00001.wim .* 67108864" ||
	fail "guest listing: $out"
guest "get SMS00001/boot.SMS00001.wim $T/got.wim" >/dev/null
[ "$(sha256sum < "$T/got.wim")" = "$BIG_SUM" ] || fail "64 MiB read through smbclient differs"
ok "smbclient lists and reads (64 MiB by SHA-256) as a guest"

"$BIN" check -c "$CONF" --guest --deep --json > "$T/check.json"; rc=$?
grep -q '"kind": *"ok"' "$T/check.json" && [ $rc = 0 ] || fail "check --deep: exit $rc: $(cat "$T/check.json")"
ok "libsmbclient (pxeimagesfs check --deep) lists and hashes the share: OK"

head -c 3M /dev/urandom > "$T/new.wim"
out=$(guest "mkdir SMS00002")
echo "$out" | grep -q "NT_STATUS_ACCESS_DENIED\|NT_STATUS_MEDIA_WRITE_PROTECTED" || fail "guest could write: $out"
[ ! -e "$DIMG/SMS00002" ] && [ ! -e "$CIMG/SMS00002" ] || fail "guest write reached a drive"
ok "a guest cannot write (read only = yes)"

writer "mkdir SMS00002; put $T/new.wim SMS00002/boot.SMS00002.wim" >/dev/null
[ -f "$DIMG/SMS00002/boot.SMS00002.wim" ] || fail "the new package is not on the primary D"
[ ! -e "$CIMG/SMS00002" ] || fail "the new package reached C"
cmp -s "$T/new.wim" "$DIMG/SMS00002/boot.SMS00002.wim" || fail "the new package differs on D"
[ "$(stat -c %U "$DIMG/SMS00002/boot.SMS00002.wim")" = "$WRITER" ] || fail "owner is not $WRITER"
ok "a user in write list writes a new package: it lands on the primary drive D, owned by them"

writer "rename SMS00002/boot.SMS00002.wim SMS00002/boot.renamed.wim" >/dev/null
[ -f "$DIMG/SMS00002/boot.renamed.wim" ] && [ ! -e "$DIMG/SMS00002/boot.SMS00002.wim" ] ||
	fail "rename through the share"
writer "del SMS00002/boot.renamed.wim; rmdir SMS00002" >/dev/null
[ ! -e "$DIMG/SMS00002" ] || fail "delete through the share"
ok "rename and delete through the share"

SMBD=$(cat "$T/state/samba/pid/smbd.pid" 2>/dev/null)
[ -n "$SMBD" ] && kill -9 "$SMBD" || fail "no smbd pid file"
for ((i = 0; i < 200; i++)); do
	NEW=$(cat "$T/state/samba/pid/smbd.pid" 2>/dev/null)
	[ -n "$NEW" ] && [ "$NEW" != "$SMBD" ] && listening "$PORT" && break
	sleep 0.05
done
[ -n "$NEW" ] && [ "$NEW" != "$SMBD" ] || { cat "$T/daemon.log"; fail "smbd was not restarted"; }
guest "ls" | grep -q SMS00001 || fail "the restarted smbd does not serve"
# the status and metrics files count the restart, and say the share is up
for ((i = 0; i < 100; i++)); do
	python3 -c 'import glob,json,sys
s = json.load(open(glob.glob(sys.argv[1] + "/*.json")[0]))["share"]
sys.exit(0 if (s["samba"], s["state"], s["up"], s["restarts"]) == ("private", "up", True, 1) else 1)' \
		"$T/run" 2>/dev/null && break
	sleep 0.1
done
"$BIN" status -c "$CONF" >"$T/status.out" 2>&1 || { cat "$T/status.out"; fail "status after the restart: exit $?"; }
grep -q "share: samba = private, smbd up (1 restarts)" "$T/status.out" ||
	{ cat "$T/status.out"; fail "status does not count the restart"; }
grep -q '^pxeimagesfs_share_restarts_total{.*} 1$' "$T"/run/*.prom && grep -q '^pxeimagesfs_share_up{.*} 1$' "$T"/run/*.prom ||
	{ cat "$T"/run/*.prom; fail "the metrics do not count the restart"; }
ok "a smbd that died is restarted (pid $SMBD -> $NEW); status and metrics: up, 1 restart"

kill "$DAEMON"; wait "$DAEMON"; rc=$?
DAEMON=
[ $rc = 0 ] || fail "the daemon exited $rc on SIGTERM"
kill -0 "$NEW" 2>/dev/null && fail "smbd $NEW still runs after the daemon stopped"
listening "$PORT" && fail "port $PORT still open"
ok "SIGTERM: the daemon stops its smbd by pid and unmounts"
echo "smb_share: all checks passed"
