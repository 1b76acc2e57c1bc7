#!/bin/bash
# boot_servers.sh -- real PXE servers and clients over the view (boot tree = yes), configured
# with the snippets shipped in packaging/serve: tftpd-hpa (tftpd-hpa.default, tftpd-hpa.map),
# dnsmasq's TFTP server (dnsmasq-tftp.conf) and nginx (nginx-pxe.conf), clients tftp-hpa and curl.
#
# A BIOS boot file set (SMSBoot/x64/wdsnbp.com, pxeboot.com, bootmgr.exe, Boot/BCD, boot.sdi)
# and a UEFI one (SMSBoot/x64/wdsmgfw.efi, bootmgfw.efi, Boot/x64/BCD, Fonts), spread over two
# drives spelt differently, are fetched byte-exact by their exact, upper-case, lower-case and
# backslash paths through each server; `..` and symlinks (absolute and relative, to a
# world-readable file outside the view) and SMSTemp's 0600 secrets are refused; HTTP Range
# requests are byte-exact; a drive that comes online during an HTTP transfer of a WIM leaves
# that transfer on the old bytes while a new request gets the new file.
# Each server is a process of this test with a private configuration, on loopback, running as
# its own unprivileged user (tftp, dnsmasq, www-data; the view is allow_other): in.tftpd and
# nginx on high ports of 127.0.0.1; dnsmasq (whose TFTP port is always 69) in a network
# namespace of its own (unshare -n). Every process is stopped by its PID.
# Usage: boot_servers.sh PXEIMAGESFS_BINARY SOURCE_DIR. Root, /dev/fuse; exit 77 = skipped.
set -u
export LC_ALL=C
BIN=${1:?usage: boot_servers.sh PXEIMAGESFS_BINARY SOURCE_DIR}
SRC=${2:?usage: boot_servers.sh PXEIMAGESFS_BINARY SOURCE_DIR}
SERVE=$SRC/packaging/serve
. "$(dirname "$0")/lib.sh"
need_root_fuse
need_tools fusermount3:fuse3 in.tftpd:tftpd-hpa tftp:tftp-hpa dnsmasq:dnsmasq-base \
	nginx:nginx-light curl:curl unshare:util-linux nsenter:util-linux ip:iproute2
for u in tftp dnsmasq www-data; do
	getent passwd "$u" >/dev/null || need "no user $u (made by the tftpd-hpa, dnsmasq-base, nginx packages)"
done

view_sandbox boot-servers
chmod 0711 "$T" # the servers' users reach the view (mktemp made it 0700)
PIDS=()
NS_PID=
cleanup_all() {
	local p
	for p in "${PIDS[@]}" $NS_PID; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}" $NS_PID; do timeout 5 tail --pid="$p" -f /dev/null; done
	[ -n "$VIEW_PID" ] && kill -9 "$VIEW_PID" 2>/dev/null && wait "$VIEW_PID" 2>/dev/null
	VIEW_PID=
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -uz "$T/view" 2>/dev/null
	grep -q " $T/h " /proc/self/mountinfo && umount "$T/h"
	grep -q " $T/hsrc " /proc/self/mountinfo && umount "$T/hsrc"
	view_cleanup
}
trap cleanup_all EXIT

# ---- the drives: BIOS files on C, UEFI on D (spelt in lower case), Boot merged from both -----
C=$T/c/RemoteInstall D=$T/d/remoteinstall
mkdir -p "$C/SMSBoot/x64" "$C/Boot" "$C/SMSTemp" "$D/smsboot/X64" "$D/smsboot/Fonts" \
	"$D/boot/x64" "$D/smsimages/smspkg" "$T/outside" "$T/h" "$T/hsrc" || fail "mkdir"
rmdir "$T/d/RemoteInstall/SMSImages/SMSPKG" "$T/d/RemoteInstall/SMSImages" "$T/d/RemoteInstall"
declare -A NATIVE # lower-case path below RemoteInstall -> the drive file
mkfile() {
	head -c "$2" /dev/urandom >"$1" || fail "cannot write $1"
	chmod 0644 "$1"
	local rel=${1#"$T"/?/}
	NATIVE[${rel#*/}]=$1
	NATIVE[${rel,,}]=$1
	rel=${rel,,}
	NATIVE[${rel#remoteinstall/}]=$1
}
mkfile "$C/SMSBoot/x64/wdsnbp.com" 30832
mkfile "$C/SMSBoot/x64/pxeboot.com" 25088
mkfile "$C/SMSBoot/x64/bootmgr.exe" 95268
mkfile "$C/Boot/BCD" 16384
mkfile "$D/boot/boot.sdi" 131072
mkfile "$D/smsboot/X64/wdsmgfw.efi" 112214
mkfile "$D/smsboot/X64/bootmgfw.efi" 149385
mkfile "$D/boot/x64/BCD" 20480
mkfile "$D/smsboot/Fonts/wgl4_boot.ttf" 47452
mkfile "$T/c/$IMG/boot.SW000001.wim" $((24 << 20))
printf 'secret\n' >"$C/SMSTemp/ab-cd.boot.var" && chmod 0600 "$C/SMSTemp/ab-cd.boot.var"
printf 'outside the view\n' >"$T/outside/secret" && chmod 0644 "$T/outside/secret"
chmod 0755 "$T/outside"
ln -s "$T/outside/secret" "$C/SMSBoot/x64/abs.lnk"
ln -s ../../../../outside/secret "$C/SMSBoot/x64/rel.lnk"
BIOS=(SMSBoot/x64/wdsnbp.com SMSBoot/x64/pxeboot.com SMSBoot/x64/bootmgr.exe Boot/BCD Boot/boot.sdi)
UEFI=(SMSBoot/x64/wdsmgfw.efi SMSBoot/x64/bootmgfw.efi Boot/x64/BCD SMSBoot/Fonts/wgl4_boot.ttf)
# native FILE -- the drive file that the view path FILE (below RemoteInstall) is
native() { echo "${NATIVE[${1,,}]}"; }
# spellings FILE -- FILE exact, upper case, lower case, with backslashes, lower case with backslashes
spellings() {
	local b=${1//\//\\}
	printf '%s\n' "$1" "${1^^}" "${1,,}" "\\$b" "\\${b,,}"
}

drive_sections DRIVES H:"$T/h":40 C:"$T/c":20 D:"$T/d":10
view_start "$BIN" "$DRIVES" "    boot tree = yes
    mount timeout = 0"
VR=$T/view/RemoteInstall
[ -f "$VR/SMSBoot/x64/wdsmgfw.efi" ] && [ -f "$VR/boot/BCD" ] || fail "the view lacks the boot files"

# The shipped snippets, pointed at this test's view and ports.
# Below the ephemeral range (32768+), and free: a server already there would answer for ours.
for ((i = 0; i < 50; i++)); do
	PORT_T=$((20000 + RANDOM % 12000)) PORT_H=$((PORT_T + 1))
	listening "$PORT_T" || listening "$PORT_H" || ss -Hlun "sport = :$PORT_T" | grep -q . || break
done
snippet() { sed "s|/srv/pxeimages|$T/view|g" "$SERVE/$1"; }

# ---- tftpd-hpa ---------------------------------------------------------------------------------
(
	snippet tftpd-hpa.default | sed "s|/usr/share/pxeimagesfs/serve/tftpd-hpa.map|$SERVE/tftpd-hpa.map|"
) >"$T/tftpd-hpa.default"
# shellcheck disable=SC1091
. "$T/tftpd-hpa.default"
[ "$TFTP_DIRECTORY" = "$VR" ] || fail "tftpd-hpa.default: TFTP_DIRECTORY is $TFTP_DIRECTORY"
# shellcheck disable=SC2086
in.tftpd -L -a "127.0.0.1:$PORT_T" -u "$TFTP_USERNAME" $TFTP_OPTIONS "$TFTP_DIRECTORY" \
	>"$T/tftpd.log" 2>&1 &
PIDS+=($!)
TFTPD_PID=$!

# tftp_get [NSENTER...] -- PORT REMOTE LOCAL: fetch REMOTE with tftp-hpa in binary mode
tftp_get() {
	local port=$1 remote=$2 local=$3
	rm -f "$local"
	"${NS[@]}" tftp -m binary 127.0.0.1 "$port" -c get "$remote" "$local" >"$T/tftp.out" 2>&1
	[ -s "$local" ] && ! grep -qi error "$T/tftp.out"
}
# check_tftp NAME PORT -- every boot file in every spelling, byte-exact; escapes refused
check_tftp() {
	local name=$1 port=$2 f s n=0 i
	for ((i = 0; i < 50; i++)); do
		tftp_get "$port" SMSBoot/x64/wdsnbp.com "$T/got" && break
		sleep 0.1
	done
	for f in "${BIOS[@]}" "${UEFI[@]}"; do
		while IFS= read -r s; do
			tftp_get "$port" "$s" "$T/got" || fail "$name: get '$s': $(cat "$T/tftp.out")"
			cmp -s "$T/got" "$(native "$f")" || fail "$name: '$s' is not byte-exact"
			n=$((n + 1))
		done < <(spellings "$f")
	done
	for s in ../../outside/secret ../outside/secret SMSBoot/../../outside/secret \
		'..\..\outside\secret' SMSTemp/ab-cd.boot.var '\smstemp\AB-CD.boot.var' "$T/outside/secret"; do
		tftp_get "$port" "$s" "$T/got" && fail "$name: '$s' was served: $(head -c 64 "$T/got")"
	done
	for s in SMSBoot/x64/abs.lnk SMSBoot/x64/rel.lnk '\SMSBoot\x64\abs.lnk'; do
		if [ "$name" = dnsmasq ]; then
			# no chroot: it follows a symlink a drive holds (README, dnsmasq-tftp.conf say so)
			tftp_get "$port" "$s" "$T/got" ||
				fail "dnsmasq no longer follows symlinks ('$s'): update README and dnsmasq-tftp.conf"
		else
			tftp_get "$port" "$s" "$T/got" && fail "$name: '$s' was served: $(head -c 64 "$T/got")"
		fi
	done
	ok "$name: $n fetches of the BIOS and UEFI boot files byte-exact in every spelling; .., SMSTemp secrets$([ "$name" = dnsmasq ] || echo ", symlinks") refused"
}
NS=()
check_tftp tftpd-hpa "$PORT_T"
# (in.tftpd's listener stays root; each transfer's child chroots and becomes TFTP_USERNAME)
[ "$TFTP_USERNAME" = tftp ] || fail "tftpd-hpa.default: TFTP_USERNAME is $TFTP_USERNAME"
kill "$TFTPD_PID"

# ---- dnsmasq (TFTP port 69: in a network namespace of its own) ------------------------------
unshare -n sleep 600 &
NS_PID=$!
for ((i = 0; i < 50; i++)); do [ "$(readlink /proc/$NS_PID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.02; done
NS=(nsenter -t "$NS_PID" -n)
"${NS[@]}" ip link set lo up || fail "cannot bring up lo in the namespace"
snippet dnsmasq-tftp.conf >"$T/dnsmasq.conf"
"${NS[@]}" dnsmasq -k -C "$T/dnsmasq.conf" --port=0 --listen-address=127.0.0.1 --bind-interfaces \
	--user=dnsmasq --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" >"$T/dnsmasq.out" 2>&1 &
PIDS+=($!)
DNSMASQ_PID=$!
check_tftp dnsmasq 69
[ "$(ps -o user= -p "$DNSMASQ_PID")" = dnsmasq ] || fail "dnsmasq runs as $(ps -o user= -p "$DNSMASQ_PID")"
kill "$DNSMASQ_PID"
NS=()

# ---- nginx -------------------------------------------------------------------------------------
mkdir -p "$T/nginx/tmp" || fail "mkdir"
snippet nginx-pxe.conf | sed "s|listen 8080;|listen 127.0.0.1:$PORT_H;|" >"$T/nginx/site.conf"
grep -q "listen 127.0.0.1:$PORT_H;" "$T/nginx/site.conf" || fail "nginx-pxe.conf has no 'listen 8080;'"
nginx_start "$T/nginx" "$T/nginx/site.conf" "$PORT_H" 2
URL=http://127.0.0.1:$PORT_H
http_code() { curl -s --path-as-is -o "$T/got" -w '%{http_code}' "$@"; }
n=0
for f in "${BIOS[@]}" "${UEFI[@]}"; do
	for s in "$f" "${f^^}" "${f,,}"; do
		[ "$(http_code "$URL/$s")" = 200 ] || fail "nginx: GET /$s: $(http_code "$URL/$s")"
		cmp -s "$T/got" "$(native "$f")" || fail "nginx: /$s is not byte-exact"
		n=$((n + 1))
	done
done
WIM=$T/c/$IMG/boot.SW000001.wim
# range_ok FILE RANGE GOT -- GOT holds exactly the bytes RANGE (a-b, a- or -n) of FILE
range_ok() {
	local size a=${2%-*} b=${2#*-} len
	size=$(stat -c %s "$1")
	if [ -z "$a" ]; then a=$((size - b)) len=$b
	elif [ -z "$b" ] || ((b >= size)); then len=$((size - a))
	else len=$((b - a + 1)); fi
	tail -c +$((a + 1)) "$1" | head -c "$len" | cmp -s - "$3"
}
for r in 0-0 1000-1999 12345-1048576 $(((24 << 20) - 100))- -4096 $(((24 << 20) - 10))-$((30 << 20)); do
	[ "$(http_code -r "$r" "$URL/smsimages/SMSPKG/BOOT.sw000001.WIM")" = 206 ] || fail "nginx: Range $r is not 206"
	range_ok "$WIM" "$r" "$T/got" || fail "nginx: Range $r is not byte-exact"
done
for s in ../outside/secret SMSBoot/../../outside/secret %2e%2e/%2e%2e/outside/secret \
	SMSBoot/x64/abs.lnk SMSBoot/x64/rel.lnk smsboot/X64/ABS.LNK SMSTemp/ab-cd.boot.var smstemp/AB-CD.BOOT.VAR; do
	code=$(http_code "$URL/$s")
	case $code in 200 | 206) fail "nginx: /$s was served ($code): $(head -c 64 "$T/got")" ;; esac
done
ps -o user= --ppid "$NGINX_PID" | grep -qx www-data || fail "nginx's workers do not run as www-data"
ok "nginx: $n fetches byte-exact in every spelling; Range requests byte-exact; .., symlinks, SMSTemp refused; workers as www-data"

# ---- a drive comes online during a transfer ---------------------------------------------------
mount -t tmpfs -o size=64m pxe-h "$T/hsrc" || fail "cannot mount tmpfs"
mkdir -p "$T/hsrc/$IMG" && mkfile "$T/hsrc/$IMG/boot.SW000001.wim" $((24 << 20))
cmp -s "$WIM" "$T/hsrc/$IMG/boot.SW000001.wim" && fail "the new WIM is the old one"
curl -s --limit-rate 4M -o "$T/slow" "$URL/SMSImages/SMSPKG/boot.SW000001.wim" &
CURL_PID=$!
sleep 0.5
mount --bind "$T/hsrc" "$T/h" || fail "cannot bind H"
NEW=$T/hsrc/$IMG/boot.SW000001.wim
switched=
for ((i = 0; i < 400; i++)); do # the view itself first: the switch must land mid-transfer
	head -c 65536 "$T/view/$IMG/boot.SW000001.wim" | cmp -s - <(head -c 65536 "$NEW") && { switched=1; break; }
	sleep 0.05
done
[ -n "$switched" ] || fail "the view does not show H's WIM 20 s after H came online"
kill -0 "$CURL_PID" 2>/dev/null || fail "the slow transfer ended before the view switched (no overlap)"
curl -s -o "$T/new" "$URL/SMSImages/SMSPKG/boot.SW000001.wim"
cmp -s "$T/new" "$NEW" || fail "a new request does not get H's WIM after H came online"
wait "$CURL_PID" || fail "the transfer under way failed when H came online"
cmp -s "$T/slow" "$WIM" || fail "the transfer under way did not finish with the old drive's bytes"
ok "a drive coming online mid-transfer: the transfer finishes with the old bytes, a new request gets the new file"
kill "$NGINX_PID"
stop_checked
echo PASS
