#!/bin/bash
# cli_resolve.sh -- `pxeimagesfs resolve` and `config check` as a user runs them:
# two tmpfs drives (C holds the images, D not yet), a bare directory E, and a
# config with three mistakes. Needs root; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: cli_resolve.sh PXEIMAGESFS_BINARY}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok
[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs"

T=$(mktemp -d /tmp/pxeimagesfs-cli.XXXXXX)
MOUNTED=()
cleanup() {
	for ((i=${#MOUNTED[@]}-1; i>=0; i--)); do umount "${MOUNTED[i]}" 2>/dev/null; done
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT
for d in c d; do
	mkdir -p "$T/$d"
	mount -t tmpfs -o size=8m tmpfs "$T/$d" || need "cannot mount tmpfs"
	MOUNTED+=("$T/$d")
done
mkdir -p "$T/e" "$T/c/RemoteInstall/SMSImages/SMSPKG/ABC00001" "$T/c/RemoteInstall/SMSImages/SMSPKG/ABC00002"

drive_sections DRIVES "C:$T/c:10" "D:$T/d:20" "E:$T/e"
cat > "$T/pxe.conf" <<CONF
[global]
    mountpoint = $T/view
    images path = RemoteInstall\\SMSImages\\SMSPKG
$DRIVES
CONF

out=$("$BIN" resolve -c "$T/pxe.conf"); rc=$?
echo "$out"
[ $rc = 0 ] || fail "resolve exit $rc, want 0"
echo "$out" | grep -Eq "^1 +D +$T/d +online +rw +- +images path missing: no 'RemoteInstall' in the drive root" || fail "row for D"
echo "$out" | grep -Eq "^2 +C +$T/c +online +rw +2 pkgs +in view: holds the images \(2 packages\), primary" || fail "row for C"
echo "$out" | grep -Eq "^3 +E +$T/e +offline .*not a mount point \(an empty directory on " || fail "row for E"
echo "$out" | grep -Eq "^  mode +union" || fail "view mode"
echo "$out" | grep -Eq "^  primary +C \(the highest-ranked writable drive that holds the images\)" || fail "view primary"
echo "$out" | grep -Eq "^  roots +1\. C  $T/c/RemoteInstall/SMSImages/SMSPKG  \(read-write\)" || fail "view roots"

json=$("$BIN" resolve --json -c "$T/pxe.conf") || fail "resolve --json exit $?"
echo "$json" | grep -q '"schema": 1' || fail "json schema"
echo "$json" | grep -q '"primary": "C"' || fail "json primary"
[ "$(echo "$json" | grep -c '"state": "online"')" = 2 ] || fail "json online count"

# PXEIMAGESFS_CONFIG is the default when -c is not given
PXEIMAGESFS_CONFIG="$T/pxe.conf" "$BIN" resolve >/dev/null || fail "resolve via \$PXEIMAGESFS_CONFIG"

# D gets an (empty) images folder: it outranks C, so it is primary and first
mkdir -p "$T/d/remoteinstall/smsimages/smspkg"
out=$("$BIN" resolve -c "$T/pxe.conf") || fail "resolve with two roots"
echo "$out" | grep -Eq "^1 +D +$T/d +online +rw +0 pkgs +in view: holds the images \(0 packages\), primary" || fail "row for D with images"
echo "$out" | grep -Eq "^            2\. C  $T/c/RemoteInstall/SMSImages/SMSPKG" || fail "second root"
rm -rf "$T/d/remoteinstall"

# no drive holds the images: exit 1, images absent
rm -rf "$T/c/RemoteInstall"
out=$("$BIN" resolve -c "$T/pxe.conf"); rc=$?
[ $rc = 1 ] || fail "resolve without images: exit $rc, want 1"
echo "$out" | grep -q "roots     none: no online drive holds the images" || fail "no-images view"

# three different mistakes, all reported with their lines, exit 2
cat > "$T/bad.conf" <<'CONF'
[global]
mode = mirror
[drive:C]
path = /mnt/c
read only = maybe
[share]
nmae = SMSPXEIMAGES$
CONF
out=$("$BIN" config check -c "$T/bad.conf" 2>&1); rc=$?
echo "$out"
[ $rc = 2 ] || fail "config check exit $rc, want 2"
for l in 2 5 7; do echo "$out" | grep -q "^$T/bad.conf:$l: " || fail "error at line $l"; done
out=$("$BIN" resolve -c "$T/bad.conf" 2>&1); rc=$?
[ $rc = 2 ] || fail "resolve on bad config: exit $rc, want 2"

"$BIN" config check -c "$T/pxe.conf" | grep -qx "configuration OK" || fail "config check OK"
"$BIN" config check -c "$T/missing.conf" 2>/dev/null; [ $? = 2 ] || fail "missing config exit"
"$BIN" --version | grep -Eq '^pxeimagesfs [0-9]+\.[0-9]+\.[0-9]+' || fail "--version"
for c in resolve "config check"; do
	$BIN $c --help | grep -q "^usage: pxeimagesfs $c" || fail "$c --help"
done
"$BIN" --help | grep -q "^usage: pxeimagesfs" || fail "--help"
"$BIN" nosuch 2>/dev/null; [ $? = 2 ] || fail "unknown command exit"
echo "cli_resolve: all checks passed"
