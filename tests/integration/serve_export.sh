#!/bin/bash
# serve_export.sh -- `pxeimagesfs export --tftp / --http`: the generated configuration of
# tftpd-hpa, dnsmasq's TFTP server and nginx, installed with --write --destdir and started for
# real against a mounted view (boot tree = yes) whose mountpoint holds a space, both quotes, '#',
# ',' and '\'; boot files fetched by exact, upper-case and backslash names, byte-exact.
#
# Also: the refusals (a root that is a drive, the drive's RemoteInstall, a folder inside a
# drive, a symlink to a drive, '/', a mountpoint that is a symlink to a drive; writing while the
# view is not mounted), what each server's language cannot hold (tftpd-hpa: spaces and patterns,
# nginx: '$'; a newline never reaches a file, a config name with a newline stays a comment), bad
# --listen/--unit values, boot tree = no (a warning), and --write being idempotent, keeping a
# backup of the administrator's file and changing nothing with --dry-run.
# The servers run as their own users (tftp, dnsmasq, www-data) on loopback high ports; dnsmasq
# (TFTP port 69 always) in a network namespace of its own (unshare -n). Every process is stopped
# by its PID. Usage: serve_export.sh PXEIMAGESFS_BINARY. Root, /dev/fuse; exit 77 = skipped.
set -u
export LC_ALL=C
BIN=${1:?usage: serve_export.sh PXEIMAGESFS_BINARY}
. "$(dirname "$0")/lib.sh"
need_root_fuse
need_tools fusermount3:fuse3 in.tftpd:tftpd-hpa tftp:tftp-hpa dnsmasq:dnsmasq-base \
	nginx:nginx-light curl:curl unshare:util-linux nsenter:util-linux ip:iproute2 findmnt:util-linux \
	python3:python3
for u in tftp dnsmasq www-data; do
	getent passwd "$u" >/dev/null || need "no user $u (made by the tftpd-hpa, dnsmasq-base, nginx packages)"
done

view_sandbox serve-export
chmod 0711 "$T" # the servers' users reach the view (mktemp made it 0700)
MP="$T/p x\"e'#,\\v" # the view's mountpoint: a space, both quotes, '#', ',' and '\'
PIDS=()
NS_PID=
cleanup_all() {
	local p
	for p in "${PIDS[@]}" $NS_PID; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}" $NS_PID; do timeout 5 tail --pid="$p" -f /dev/null; done
	[ -n "$VIEW_PID" ] && kill -9 "$VIEW_PID" 2>/dev/null && wait "$VIEW_PID" 2>/dev/null
	VIEW_PID=
	for p in "$T/bind-d" "$T/bind-view"; do findmnt -n -M "$p" >/dev/null 2>&1 && umount -l "$p"; done
	findmnt -n -M "$MP" >/dev/null 2>&1 && fusermount3 -uz "$MP" 2>/dev/null
	view_cleanup
}
trap cleanup_all EXIT

# ---- two drives: boot files on C, on D spelt in lower case -------------------------------------
mkdir -p "$T/c/RemoteInstall/SMSBoot/x64" "$T/c/RemoteInstall/SMSTemp" "$T/d/remoteinstall/boot" \
	"$T/d/remoteinstall/smsimages/smspkg" "$T/c/other" "$MP" "$T/root" "$T/outside" || fail "mkdir"
rmdir "$T/d/RemoteInstall/SMSImages/SMSPKG" "$T/d/RemoteInstall/SMSImages" "$T/d/RemoteInstall"
head -c 30832 /dev/urandom >"$T/c/RemoteInstall/SMSBoot/x64/wdsnbp.com"
head -c 16384 /dev/urandom >"$T/d/remoteinstall/boot/BCD"
head -c $((3 << 20)) /dev/urandom >"$T/c/$IMG/boot.wim"
printf 'secret\n' >"$T/c/RemoteInstall/SMSTemp/a.boot.var" && chmod 0600 "$T/c/RemoteInstall/SMSTemp/a.boot.var"
printf 'outside\n' >"$T/outside/f" && chmod -R a+rX "$T/outside" "$T/c" "$T/d"
chmod 0600 "$T/c/RemoteInstall/SMSTemp/a.boot.var"
ln -s "$T/outside/f" "$T/c/RemoteInstall/SMSBoot/x64/abs.lnk"
declare -A NATIVE=([SMSBoot/x64/wdsnbp.com]="$T/c/RemoteInstall/SMSBoot/x64/wdsnbp.com"
	[Boot/BCD]="$T/d/remoteinstall/boot/BCD")

drive_sections DRIVES C:"$T/c":20 D:"$T/d":10
write_conf() { # write_conf FILE MOUNTPOINT [GLOBAL_LINES]
	cat >"$1" <<CONF || fail "cannot write $1"
[global]
    mountpoint = $2
    state directory = $T/state
    run directory = $T/run
    mode = union
    rescan interval = 0
    mount timeout = 0
${3-    boot tree = yes}
$DRIVES
[share]
    samba = none
CONF
}
write_conf "$T/pxe.conf" "$MP"
"$BIN" config check -c "$T/pxe.conf" >/dev/null || fail "the hostile mountpoint is not a valid config"

# expect RC PATTERN ARGS... -- `export ARGS` exits RC, PATTERN (if any) in its output, and no
# sanitizer report (ASan's own exit status is 1, like a warning's)
exp() { "$BIN" export "$@" >"$T/out" 2>"$T/err"; }
expect() {
	local want=$1 pat=$2
	shift 2
	exp "$@"
	local rc=$?
	! grep -Eq 'Sanitizer|runtime error:' "$T/err" || fail "export $*: the sanitizers reported: $(cat "$T/err")"
	[ "$rc" = "$want" ] || fail "export $*: exit $rc, not $want: $(cat "$T/err")"
	[ -z "$pat" ] || grep -q -- "$pat" "$T/err" "$T/out" || fail "export $*: no '$pat' in: $(cat "$T/err")"
}

# ---- before the view is mounted: printing warns, writing is refused ---------------------------
expect 1 "the view is not mounted" --http -c "$T/pxe.conf"
grep -q '^	root "'"$T"'/p x\\"e'"'"'#,\\\\v/RemoteInstall";$' "$T/out" || fail "nginx root not quoted: $(grep root "$T/out")"
expect 2 "not mounted" --http --write --destdir "$T/root" -c "$T/pxe.conf"
[ -z "$(find "$T/root" -type f)" ] || fail "a refused --write left files: $(find "$T/root" -type f)"
ok "not mounted: printing warns (exit 1), --write is refused and writes nothing"

# ---- the refusals: a root that is, holds or is inside a drive ---------------------------------
ln -s "$T/d" "$T/lnk-d"
ln -s "$T/c" "$T/mp-on-c"
for root in "$T/c" "$T/d/remoteinstall" "$T/c/other" "$T/c/RemoteInstall/SMSBoot" "$T/lnk-d" "$T/lnk-d/remoteinstall" / "$T"; do
	for s in --tftp --tftp=dnsmasq --http; do
		expect 2 "of the view" "$s" --root "$root" -c "$T/pxe.conf"
		[ ! -s "$T/out" ] || fail "export $s --root $root printed a configuration"
	done
done
grep -q "leave --root out" "$T/err" || fail "the refusal does not say what to do: $(cat "$T/err")"
write_conf "$T/onc.conf" "$T/mp-on-c"
expect 2 "drive C" --http -c "$T/onc.conf"
ok "roots refused: a drive, its RemoteInstall, a folder inside one, a symlink to one, / and a folder above one; a mountpoint that is a symlink to a drive"

# ---- what a server's language cannot hold -----------------------------------------------------
expect 2 "splits TFTP_DIRECTORY at spaces" --tftp -c "$T/pxe.conf"
write_conf "$T/dollar.conf" "$T/a\$b"
expect 2 "nginx reads '\\$'" --http -c "$T/dollar.conf"
expect 1 "" --tftp=dnsmasq -c "$T/dollar.conf"
grep -qx "tftp-root=\"$T/a\\\$b/RemoteInstall\"" "$T/out" || fail "dnsmasq: $(grep tftp-root "$T/out")"
write_conf "$T/glob.conf" "$T/a*b"
expect 2 "file name patterns" --tftp -c "$T/glob.conf"
write_conf "$T/tab.conf" "$T/a"$'\t'"b"
for sv in --tftp --tftp=dnsmasq --http; do
	expect 2 "control character" "$sv" -c "$T/tab.conf"
	expect 2 "control character" "$sv" --root "$T/a"$'\n'"b" -c "$T/pxe.conf"
done
NL="$T/x"$'\n'"TFTP_DIRECTORY=evil"$'\n'".conf"
cp "$T/pxe.conf" "$NL"
expect 1 "" --tftp -c "$NL" --root "$T/nl-root"
sed -n '1,/^$/p' "$T/out" >"$T/default.sh" # the first file: /etc/default/tftpd-hpa
( . "$T/default.sh" && [ "$TFTP_DIRECTORY" = "$T/nl-root" ] ) ||
	fail "a config name with a newline made a line: $(grep -n TFTP "$T/out")"
for l in 'x;y' '127.0.0.1:0' '127.0.0.1:65536' '1.2.3:69' '[::1' 'host:69' ':'; do
	expect 2 "--listen" --http --listen "$l" -c "$T/pxe.conf"
done
expect 2 "does not apply to dnsmasq" --tftp=dnsmasq --listen 127.0.0.1:69 -c "$T/pxe.conf"
for u in 'a;b' 'a b' '' 'x/y'; do expect 2 "--unit" --http --unit "$u" -c "$T/pxe.conf"; done
expect 2 "" --tftp=atftpd -c "$T/pxe.conf"
expect 2 "" --http=apache -c "$T/pxe.conf"
ok "refused: spaces and patterns for tftpd-hpa, '\$' for nginx (dnsmasq quotes it), control characters, bad --listen, --unit and servers; a config name with a newline stays a comment"

write_conf "$T/nobt.conf" "$T/nobt" ""
expect 1 "set 'boot tree = yes'" --http -c "$T/nobt.conf"
ok "boot tree = no: the root serves the images only, said in a warning"

# ---- mount the view ------------------------------------------------------------------------------
"$BIN" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
VIEW_PID=$!
for ((i = 0; i < 200; i++)); do
	[ "$(findmnt -n -o FSTYPE -M "$MP" 2>/dev/null)" = fuse.pxeimagesfs ] && break
	kill -0 "$VIEW_PID" 2>/dev/null || break
	sleep 0.05
done
[ "$(findmnt -n -o FSTYPE -M "$MP" 2>/dev/null)" = fuse.pxeimagesfs ] || { cat "$T/log" >&2; fail "the view did not mount at $MP"; }
[ -f "$MP/remoteinstall/smsboot/X64/WDSNBP.COM" ] && [ -f "$MP/RemoteInstall/Boot/bcd" ] ||
	fail "the view lacks the boot files"

# resolve --json names the folder each drive merges, and the boot root
"$BIN" resolve --json -c "$T/pxe.conf" >"$T/resolve.json" || fail "resolve --json: exit $?"
python3 - "$T/resolve.json" "$T" "$MP" <<'PY' || fail "resolve --json: $(cat "$T/resolve.json")"
import json, sys
j, t, mp = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
d = {x["name"]: x["view_dir"] for x in j["drives"]}
assert d == {"C": t + "/c/RemoteInstall", "D": t + "/d/remoteinstall"}, d
assert [r["view_dir"] for r in j["view"]["roots"]] == [d["C"], d["D"]], j["view"]
assert j["boot_tree"] is True and j["boot_root"] == mp + "/RemoteInstall", j["boot_root"]
PY
"$BIN" resolve -c "$T/pxe.conf" | grep -qF "  boot root $MP/RemoteInstall" || fail "resolve: no boot root line"
ok "resolve --json: each drive's view_dir (its RemoteInstall) and the boot root; resolve prints it"

# the drive refusals hold with the view mounted too; a root inside the view is taken
expect 2 "of the view" --http --root "$T/c/RemoteInstall" -c "$T/pxe.conf"
expect 0 "" --http --root "$MP/RemoteInstall/SMSBoot" -c "$T/pxe.conf"
# bind mounts: one of a drive is refused (realpath does not see through it), one of the view taken
mkdir -p "$T/bind-d" "$T/bind-view" || fail "mkdir"
mount --bind "$T/d" "$T/bind-d" && mount --bind "$MP/RemoteInstall" "$T/bind-view" || fail "mount --bind"
expect 2 "holds drive D" --http --root "$T/bind-d" -c "$T/pxe.conf"
expect 2 "is inside drive D" --http --root "$T/bind-d/remoteinstall/boot" -c "$T/pxe.conf"
expect 0 "" --http --root "$T/bind-view" -c "$T/pxe.conf"
umount "$T/bind-d" "$T/bind-view" || fail "umount"
ok "a bind mount of a drive is refused as the drive; a bind mount of the view is taken"
chmod 0700 "$T"
expect 1 "keeps nginx's user out of the view: chmod o+x $T" --http -c "$T/pxe.conf"
chmod 0711 "$T"
expect 0 "" --http -c "$T/pxe.conf"
mkdir -p "$T/elsewhere"
expect 2 "is not inside the view" --http --write --destdir "$T/root" --root "$T/elsewhere" -c "$T/pxe.conf"

# ---- --write: into a tree of the servers' folders under $T/root ---------------------------------
mkdir -p "$T/root/etc/default" "$T/root/etc/dnsmasq.d" "$T/root/etc/nginx/conf.d" \
	"$T/root/etc/systemd/system" || fail "mkdir"
printf '# /etc/default/tftpd-hpa\n\nTFTP_USERNAME="tftp"\nTFTP_DIRECTORY="/srv/tftp"\n' >"$T/root/etc/default/tftpd-hpa"
cp "$T/root/etc/default/tftpd-hpa" "$T/admin-default"
ln -s "$MP/RemoteInstall" "$T/tftproot" # tftpd-hpa cannot hold the spaces: a symlink into the view
PORT_T=$((20000 + RANDOM % 20000)) PORT_H=$((PORT_T + 1))
W=(--write --destdir "$T/root" -c "$T/pxe.conf")
expect 0 "would replace" --tftp --root "$T/tftproot" --listen "127.0.0.1:$PORT_T" --dry-run "${W[@]}"
cmp -s "$T/root/etc/default/tftpd-hpa" "$T/admin-default" || fail "--dry-run changed the file"
[ "$(find "$T/root" -type f | wc -l)" = 1 ] || fail "--dry-run wrote: $(find "$T/root" -type f)"
expect 0 "kept as" --tftp --root "$T/tftproot" --listen "127.0.0.1:$PORT_T" "${W[@]}"
bak=$(ls "$T/root/etc/default/"tftpd-hpa.pxeimagesfs-bak.*) || fail "no backup of the administrator's file"
cmp -s "$bak" "$T/admin-default" || fail "the backup is not the administrator's file"
expect 0 "" --tftp=dnsmasq "${W[@]}"
expect 0 "" --http --listen "127.0.0.1:$PORT_H" "${W[@]}"
find "$T/root" -type f | sort >"$T/files1"
sum1=$(find "$T/root" -type f -exec md5sum {} + | sort)
for s in "--tftp --root $T/tftproot --listen 127.0.0.1:$PORT_T" --tftp=dnsmasq "--http --listen 127.0.0.1:$PORT_H"; do
	# shellcheck disable=SC2086
	expect 0 "is up to date" $s "${W[@]}"
	grep -qv "is up to date\|^note" "$T/out" && fail "a second --write changed something: $(cat "$T/out")"
done
[ "$sum1" = "$(find "$T/root" -type f -exec md5sum {} + | sort)" ] || fail "a second --write changed the files"
for d in tftpd-hpa dnsmasq nginx; do
	f=$T/root/etc/systemd/system/$d.service.d/pxeimagesfs.conf
	grep -qx "After=pxeimagesfs.service" "$f" && grep -qx "Requires=pxeimagesfs.service" "$f" ||
		fail "$d's drop-in: $(cat "$f")"
done
expect 0 "" --http --unit pxeimagesfs@lab -c "$T/pxe.conf"
grep -qx "Requires=pxeimagesfs@lab.service" "$T/out" && grep -q "nginx.service.d/pxeimagesfs-lab.conf" "$T/out" ||
	fail "--unit pxeimagesfs@lab: $(grep -e Requires -e '==>' "$T/out")"
ok "--write: the administrator's file kept as a backup, --dry-run changes nothing, a second run leaves every file alone; drop-ins After=/Requires= the view's unit"

# ---- tftpd-hpa, started as its init script does ------------------------------------------------
(
	# shellcheck disable=SC1091
	. "$T/root/etc/default/tftpd-hpa"
	TFTP_OPTIONS=${TFTP_OPTIONS//\/etc\/pxeimagesfs/$T/root/etc/pxeimagesfs}
	# shellcheck disable=SC2086 # the init script's own test, unquoted as there
	[ "$(echo $TFTP_DIRECTORY | wc -w)" = 1 ] || exit 3
	# shellcheck disable=SC2086
	exec in.tftpd -L --user $TFTP_USERNAME --address $TFTP_ADDRESS $TFTP_OPTIONS $TFTP_DIRECTORY
) >"$T/tftpd.log" 2>&1 &
PIDS+=($!)
TFTPD_PID=$!
tftp_get() { # tftp_get PORT REMOTE: into $T/got
	rm -f "$T/got"
	"${NS[@]}" tftp -m binary 127.0.0.1 "$1" -c get "$2" "$T/got" >"$T/tftp.out" 2>&1
	[ -s "$T/got" ] && ! grep -qi error "$T/tftp.out"
}
check_tftp() { # check_tftp NAME PORT
	local f s b n=0 i
	for ((i = 0; i < 50; i++)); do tftp_get "$2" Boot/BCD && break; sleep 0.1; done
	for f in "${!NATIVE[@]}"; do
		b=${f//\//\\}
		for s in "$f" "${f^^}" "\\$b" "\\${b,,}"; do
			tftp_get "$2" "$s" || fail "$1: get '$s': $(cat "$T/tftp.out") $(cat "$T/tftpd.log" 2>/dev/null)"
			cmp -s "$T/got" "${NATIVE[$f]}" || fail "$1: '$s' is not byte-exact"
			n=$((n + 1))
		done
	done
	for s in SMSTemp/a.boot.var ../outside/f SMSBoot/x64/abs.lnk; do
		[ "$1" = dnsmasq ] && [ "$s" = SMSBoot/x64/abs.lnk ] && continue # no chroot: it follows
		tftp_get "$2" "$s" && fail "$1: '$s' was served"
	done
	ok "$1 with the generated configuration: $n fetches byte-exact (exact, upper-case, backslash names); SMSTemp and escapes refused"
}
NS=()
check_tftp tftpd-hpa "$PORT_T"
kill "$TFTPD_PID"

# ---- dnsmasq, with the generated file (tftp-root quoted) in its own network namespace ----------
unshare -n sleep 600 &
NS_PID=$!
for ((i = 0; i < 50; i++)); do [ "$(readlink /proc/$NS_PID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.02; done
NS=(nsenter -t "$NS_PID" -n)
"${NS[@]}" ip link set lo up || fail "cannot bring up lo in the namespace"
"${NS[@]}" dnsmasq -k -C "$T/root/etc/dnsmasq.d/pxeimagesfs-tftp.conf" --port=0 --listen-address=127.0.0.1 \
	--bind-interfaces --user=dnsmasq --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" >"$T/dnsmasq.out" 2>&1 &
PIDS+=($!)
DNSMASQ_PID=$!
check_tftp dnsmasq 69
grep -qF "TFTP root is $MP/RemoteInstall" "$T/dnsmasq.log" || fail "dnsmasq's root: $(grep 'TFTP root' "$T/dnsmasq.log")"
kill "$DNSMASQ_PID"
NS=()

# ---- nginx, with the generated server block ------------------------------------------------------
nginx_start "$T/nginx" "$T/root/etc/nginx/conf.d/pxeimagesfs.conf" "$PORT_H" 1
URL=http://127.0.0.1:$PORT_H
code() { curl -s --path-as-is -o "$T/got" -w '%{http_code}' "$@"; }
n=0
for f in "${!NATIVE[@]}"; do
	for s in "$f" "${f^^}" "${f,,}"; do
		[ "$(code "$URL/$s")" = 200 ] || fail "nginx: GET /$s: $(code "$URL/$s") $(tail -3 "$T/nginx/error.log")"
		cmp -s "$T/got" "${NATIVE[$f]}" || fail "nginx: /$s is not byte-exact"
		[ "$(code -I "$URL/$s")" = 200 ] || fail "nginx: HEAD /$s"
		n=$((n + 1))
	done
done
[ "$(code -r 1000-1999 "$URL/smsimages/SMSPKG/BOOT.WIM")" = 206 ] || fail "nginx: Range is not 206"
tail -c +1001 "$T/c/$IMG/boot.wim" | head -c 1000 | cmp -s - "$T/got" || fail "nginx: Range is not byte-exact"
for s in "" SMSBoot/ SMSTemp/a.boot.var smstemp/A.BOOT.VAR SMSBoot/x64/abs.lnk ../outside/f; do
	c=$(code "$URL/$s")
	case $c in 200 | 206) fail "nginx: /$s was served ($c): $(head -c 64 "$T/got")" ;; esac
done
[ "$(code -X PUT --data x "$URL/SMSBoot/x64/new")" = 403 ] || fail "nginx: PUT is not refused"
ps -o user= --ppid "$NGINX_PID" | grep -qx www-data || fail "nginx's workers do not run as www-data"
ok "nginx with the generated server block: $n GET and HEAD byte-exact in every spelling, Range 206; no listing, SMSTemp, symlinks, .. and PUT refused"
kill "$NGINX_PID"
stop_checked
echo PASS
