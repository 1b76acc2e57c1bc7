#!/bin/bash
# systemd_unit.sh -- packaging/systemd/pxeimagesfs.service started for real by systemd as PID 1,
# in a container of tests/harness/systemd_container.sh (an overlay of `/`, new pid, mount,
# network, uts, ipc and cgroup namespaces, /proc/sys and /sys read-only, the host's enabled
# units hidden and masked, kernel-wide units masked; it never talks to a systemd on the host).
# Inside: the binary at /usr/bin/pxeimagesfs, the unit at /etc/systemd/system, a drop-in
# (RestartSec=1 for speed, WatchdogSec=2s), /etc/pxeimagesfs/pxeimagesfs.conf with two tmpfs
# drives mounted inside and `samba = none`. Checked:
#   start     `systemctl start` returns (Type=notify: READY=1 came) with the view mounted at
#             /srv/pxeimages, serving C; STATUS= reached systemd; status file pid = MainPID;
#             the watchdog is pinged; nothing is mounted on the host
#   reload    a new drive D (priority 20) added to the config, `systemctl reload`: the daemon
#             (same pid) reads it (RELOADING=1/READY=1: the unit is active again), the status
#             file's generation goes up with cause SIGHUP, D becomes primary, D's file is served
#   crash     kill -9 of MainPID: systemd restarts it (Restart=on-failure), the new daemon
#             detaches the dead view and mounts again: one mount, served
#   stop      `systemctl stop`: exit status 0, unmounted, status file removed
# Usage: systemd_unit.sh PXEIMAGESFS_BINARY UNIT_FILE. Needs root, /dev/fuse and Debian
# packages systemd, systemd-container, util-linux. Exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
# shellcheck disable=SC2016 # single-quoted awk and sh scripts run inside the container
# shellcheck source-path=SCRIPTDIR
set -u
BIN=${1:?usage: systemd_unit.sh PXEIMAGESFS_BINARY UNIT_FILE}
UNIT=${2:?usage: systemd_unit.sh PXEIMAGESFS_BINARY UNIT_FILE}
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# shellcheck source=../harness/systemd_container.sh
. "$HERE/../harness/systemd_container.sh" || fail "cannot load the harness"
[ -x "$BIN" ] || fail "$BIN: not an executable"
[ -r "$UNIT" ] || fail "$UNIT: cannot read the unit"
[ "$(id -u)" = 0 ] || need "needs root (mounts, namespaces, systemd as PID 1)"
[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
command -v sha256sum >/dev/null || need "sha256sum not found (package coreutils)"
sdc_available || need "cannot run systemd in a container here: $SDC_WHY"
BIN=$(readlink -f "$BIN")

T=$(mktemp -d /tmp/pxeimagesfs-sdunit.XXXXXX) || fail "mktemp"
SVC=pxeimagesfs.service
MP=/srv/pxeimages
V=$MP/RemoteInstall/SMSImages/SMSPKG
STATUS=/run/pxeimagesfs/srv-pxeimages.json
CONF=/etc/pxeimagesfs/pxeimagesfs.conf

cleanup() {
	local rc=$?
	if [ "$rc" != 0 ] && [ -n "$SDC_PID1" ]; then
		echo "--- systemctl status $SVC, and its journal" >&2
		sdc_exec systemctl status --no-pager --lines=0 "$SVC" >&2 2>&1
		sdc_exec journalctl --no-pager -o short-monotonic -u "$SVC" 2>&1 | tail -n 40 >&2
	fi
	sdc_stop
	[ -z "$(ls -d /sys/fs/cgroup/*/"$MACHINE" /sys/fs/cgroup/"$MACHINE" 2>/dev/null)" ] ||
		echo "warning: a cgroup of the container is left" >&2
	rm -rf "$T"
	exit "$rc"
}
MACHINE=none
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- the container's files ---------------------------------------------------------------------
S=$T/staging
mkdir -p "$S/usr/bin" "$S/etc/systemd/system/$SVC.d" "$S/etc/pxeimagesfs" \
	"$S/srv/drives/c" "$S/srv/drives/d" "$S/srv/fixtures/c/RemoteInstall/SMSImages/SMSPKG/PKG00001" \
	"$S/srv/fixtures/d/RemoteInstall/SMSImages/SMSPKG/PKGD0001" || fail "mkdir staging"
cp "$BIN" "$S/usr/bin/pxeimagesfs" && cp "$UNIT" "$S/etc/systemd/system/$SVC" || fail "copying the binary and the unit"
{
	echo "# systemd_unit.sh: a quick restart, and the watchdog on"
	echo "[Service]"
	echo "RestartSec=1"
	echo "WatchdogSec=2s"
	# LeakSanitizer needs ptrace, which the unit's SystemCallFilter (~@debug) denies
	if grep -qa __asan_init "$BIN"; then echo "Environment=ASAN_OPTIONS=detect_leaks=0"; fi
} >"$S/etc/systemd/system/$SVC.d/50-test.conf"
head -c 1048576 /dev/urandom >"$S/srv/fixtures/c/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.PKG00001.wim" &&
	echo "D's package" >"$S/srv/fixtures/d/RemoteInstall/SMSImages/SMSPKG/PKGD0001/notes.txt" ||
	fail "writing the fixtures"
WIM_SHA=$(sha256sum <"$S/srv/fixtures/c/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.PKG00001.wim" | cut -d' ' -f1)
# write_conf [EXTRA SECTION TEXT]: the config, C only (D added for the reload)
write_conf() {
	cat <<CONF
# systemd_unit.sh
[global]
    mount timeout = 0
    rescan interval = 1h
[drive:C]
    path = /srv/drives/c
    priority = 10
${1:-}
[share]
    samba = none
CONF
}
write_conf >"$S$CONF" || fail "writing the config"

# ---- boot --------------------------------------------------------------------------------------
# mounts the host sees at /srv/pxeimages or in the container's directory (other tests may
# mount views of their own elsewhere meanwhile)
host_views() {
	awk -v d="${SDC_DIR:-/nonexistent}/" '$5 == "/srv/pxeimages" || index($5, d) == 1 { n++ }
		END { print n + 0 }' /proc/self/mountinfo
}
sdc_start "$S" 60 || need "cannot boot systemd in a container here: $SDC_ERROR"
HOST_VIEWS=$(host_views) # the overlay root is in a private namespace: none under $SDC_DIR
MACHINE=$SDC_MACHINE
echo "# container $SDC_MACHINE up in $SDC_BOOT_MS ms (PID 1 = host pid $SDC_PID1)"
sdc_isolated || fail "the container is not isolated as it must be: $SDC_ERROR"
ok "systemd runs as PID 1 in new pid/mount/net/uts/ipc/cgroup namespaces; /proc/sys and /sys read-only, loopback only, sysctl/binfmt/modules-load masked, no host unit running"

# shortcuts into the container
cx() { sdc_exec "$@"; }
prop() { cx systemctl show -P "$1" "$SVC"; }
st_get() { cx cat "$STATUS" 2>/dev/null | sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -1; }
st_primary() { cx cat "$STATUS" 2>/dev/null | grep -o '"primary": "[^"]*"' | tail -1 | cut -d'"' -f4; }
views_at_mp() { cx awk -v mp="$MP" '$5 == mp && / - fuse\.pxeimagesfs / { n++ } END { print n + 0 }' /proc/self/mountinfo; }
# reads through the view are bounded: a hung daemon must not hang the test
reads_sha() { [ "$(cx timeout 10 sh -c "sha256sum <'$1'" 2>/dev/null | cut -d' ' -f1)" = "$2" ]; }
reads() { [ "$(cx timeout 10 cat "$1" 2>&1)" = "$2" ]; }
# wait_for SECONDS CMD...: until CMD succeeds, every 100 ms
wait_for() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do "${@:2}" && return 0; sleep 0.1; done
	"${@:2}"
}
is_active_with() { [ "$(prop ActiveState)" = active ] && [ "$(prop SubState)" = running ] && [ "$(prop MainPID)" = "$1" ]; }
restarted_from() { local p; p=$(prop MainPID); [ "$p" != 0 ] && [ "$p" != "$1" ] && [ "$(prop ActiveState)" = active ]; }

# the unit as systemd loaded it
for kv in Type=notify NotifyAccess=main Restart=on-failure RestartUSec=1s \
	"ExecReload={ path=/usr/bin/pxeimagesfs ; argv[]=/usr/bin/pxeimagesfs config check"; do
	got=$(prop "${kv%%=*}")
	case $got in "${kv#*=}"*) ;; *) fail "the unit's ${kv%%=*} is '$got', want ${kv#*=}" ;; esac
done
[ "$(prop LoadState)" = loaded ] || fail "$SVC not loaded: $(prop LoadState) $(prop LoadError)"

# the drives: tmpfs mounted inside the container, C with the images, D with its own package
cx sh -ec 'for d in c d; do mount -t tmpfs -o size=16m,mode=755 "drive-$d" /srv/drives/$d
	cp -a /srv/fixtures/$d/. /srv/drives/$d/; done' || fail "mounting the drives inside"

# ---- start ---------------------------------------------------------------------------------------
t0=$(now_ms)
out=$(cx timeout 60 systemctl start "$SVC" 2>&1) || fail "systemctl start $SVC: $out"
START_MS=$(($(now_ms) - t0))
P1=$(prop MainPID)
is_active_with "$P1" && [ "$P1" != 0 ] ||
	fail "after start: $(prop ActiveState)/$(prop SubState), MainPID $P1"
[ "$(views_at_mp)" = 1 ] || fail "after start: want one fuse.pxeimagesfs mount at $MP inside, have $(views_at_mp)"
reads_sha "$V/PKG00001/boot.PKG00001.wim" "$WIM_SHA" || fail "after start: C's boot.PKG00001.wim is not served right"
st=$(prop StatusText)
[[ $st == *"primary C"* ]] || fail "after start: STATUS= not seen by systemd, StatusText is '$st'"
[ "$(st_get pid)" = "$P1" ] || fail "after start: the status file names pid '$(st_get pid)', MainPID is $P1"
out=$(cx pxeimagesfs status 2>&1) || fail "after start: pxeimagesfs status exited $?: $out"
[ "$(host_views)" = "$HOST_VIEWS" ] || fail "after start: the host sees a mount at /srv/pxeimages or under $SDC_DIR"
[ "$(prop WatchdogUSec)" = 2s ] || fail "after start: WatchdogUSec is '$(prop WatchdogUSec)', want 2s"
w1=$(prop WatchdogTimestampMonotonic)
pinged_since() { local w; w=$(prop WatchdogTimestampMonotonic); [[ $w =~ ^[0-9]+$ ]] && [ "$w" -gt "$1" ]; }
wait_for 5 pinged_since "${w1:-0}" ||
	fail "the watchdog timestamp did not move in 5 s (WatchdogSec=2s): WATCHDOG=1 not sent"
ok "start: active (READY=1) in $START_MS ms, view mounted and serving C, StatusText '$st', status file pid = MainPID $P1, WATCHDOG=1 pinged"

# a file made through the view under the unit's sandbox (its seccomp filter and namespace
# restrictions) gets the maker's umask in the create itself: each worker thread's own umask
# (unshare CLONE_FS, not a namespace) is allowed there
cx sh -c "umask 077 && : >$V/PKG00001/um.f" || fail "after start: cannot make a file through the view"
mode=$(cx stat -c %a /srv/drives/c/RemoteInstall/SMSImages/SMSPKG/PKG00001/um.f)
[ "$mode" = 600 ] || fail "after start: a file made 0666 with umask 077 through the view has mode $mode on the drive"
! cx journalctl --no-pager -o cat -u "$SVC" | grep -q "umask of its own" ||
	fail "after start: the unit's sandbox refuses a worker thread its own umask: $(cx journalctl --no-pager -o cat -u "$SVC" | grep "umask of its own")"
cx rm -f "$V/PKG00001/um.f"
ok "start: a file made through the view under the unit's sandbox got the maker's umask (mode $mode), each worker thread its own"

# ---- reload --------------------------------------------------------------------------------------
G1=$(st_get generation)
[[ $G1 =~ ^[0-9]+$ ]] || fail "the status file has no generation: $(cx cat "$STATUS" 2>&1 | head -20)"
write_conf $'[drive:D]\n    path = /srv/drives/d\n    priority = 20' | cx sh -c "cat >$CONF.new && mv -f $CONF.new $CONF" ||
	fail "rewriting the config inside"
t0=$(now_ms)
out=$(cx timeout 30 systemctl reload "$SVC" 2>&1) || fail "systemctl reload $SVC: $out"
reloaded() {
	local g
	g=$(st_get generation)
	[[ $g =~ ^[0-9]+$ ]] && [ "$g" -gt "$G1" ] && [ "$(st_primary)" = D ] && is_active_with "$P1"
}
wait_for 10 reloaded || fail "10 s after reload: generation '$(st_get generation)' (was $G1), primary '$(st_primary)' (want D), $(prop ActiveState)/$(prop SubState), MainPID $(prop MainPID) (was $P1)"
RELOAD_MS=$(($(now_ms) - t0))
cause=$(st_get cause)
[[ $cause == *SIGHUP* ]] || fail "after reload: the status file's last_change cause is '$cause', want SIGHUP"
[ "$(prop ReloadResult)" = success ] || fail "after reload: ReloadResult is '$(prop ReloadResult)'"
reads "$V/PKGD0001/notes.txt" "D's package" || fail "after reload: D's package is not served"
reads_sha "$V/PKG00001/boot.PKG00001.wim" "$WIM_SHA" || fail "after reload: C's package is no longer served"
cx journalctl --no-pager -o cat -u "$SVC" | grep -q "reload: $CONF loaded" ||
	fail "after reload: the journal has no 'reload: $CONF loaded'"
ok "reload: same daemon (pid $P1), config read again (journal), generation $G1 -> $(st_get generation) ('$cause'), D primary and served, active again after $RELOAD_MS ms"

# ---- a reload with a broken configuration fails visibly, and changes nothing ---------------------
cx cp "$CONF" "$CONF.good" || fail "saving the config inside"
{ write_conf $'[drive:D]\n    path = /srv/drives/d\n    priority = 20'; echo "    no such key = 1"; } |
	cx sh -c "cat >$CONF.new && mv -f $CONF.new $CONF" || fail "writing a broken config inside"
G2=$(st_get generation)
out=$(cx timeout 30 systemctl reload "$SVC" 2>&1) &&
	fail "systemctl reload with an unknown key in the config succeeded: $out"
[ "$(prop ReloadResult)" != success ] || fail "after a failed reload: ReloadResult is success"
is_active_with "$P1" || fail "after a failed reload: $(prop ActiveState)/$(prop SubState), MainPID $(prop MainPID) (was $P1)"
[ "$(st_get generation)" = "$G2" ] || fail "after a failed reload: generation $(st_get generation), was $G2"
reads "$V/PKGD0001/notes.txt" "D's package" || fail "after a failed reload: D's package is not served"
cx journalctl --no-pager -o cat -u "$SVC" | grep -q "no such key" ||
	fail "after a failed reload: the journal does not name the bad key"
# the daemon itself, sent SIGHUP with that config, logs the errors at priority err (3) in the
# journal, without repeating its name in the message
cx kill -HUP "$P1" || fail "kill -HUP inside"
logged_err() { cx journalctl --no-pager -o cat -p err -u "$SVC" | grep -q "keeping the previous configuration"; }
wait_for 10 logged_err || fail "after SIGHUP with a broken config: nothing at priority err in the journal: $(cx journalctl --no-pager -o short-monotonic -u "$SVC" | tail -5)"
named=$(cx journalctl --no-pager -o cat -u "$SVC" _PID="$P1" | grep -c '^pxeimagesfs: ')
[ "$named" = 0 ] || fail "$named journal lines of the daemon repeat its name ('pxeimagesfs: ...')"
cx mv -f "$CONF.good" "$CONF" || fail "restoring the config inside"
ok "reload with a broken config: systemctl reload fails (ReloadResult $(prop ReloadResult)), the error is in the journal, same daemon serving generation $G2"

# ---- crash: kill -9, restarted by systemd ----------------------------------------------------------
cx kill -KILL "$P1" || fail "kill -9 $P1 inside"
t0=$(now_ms)
wait_for 20 restarted_from "$P1" ||
	fail "20 s after kill -9: $(prop ActiveState)/$(prop SubState), MainPID $(prop MainPID) (was $P1)"
RESTART_MS=$(($(now_ms) - t0))
P2=$(prop MainPID)
[ "$(prop NRestarts)" = 1 ] || fail "after the crash: NRestarts is '$(prop NRestarts)', want 1"
[ "$(views_at_mp)" = 1 ] || fail "after the restart: want one fuse.pxeimagesfs mount at $MP, have $(views_at_mp)"
reads_sha "$V/PKG00001/boot.PKG00001.wim" "$WIM_SHA" || fail "after the restart: C's package is not served"
reads "$V/PKGD0001/notes.txt" "D's package" || fail "after the restart: D's package is not served"
[ "$(st_get pid)" = "$P2" ] || fail "after the restart: the status file names pid '$(st_get pid)', MainPID is $P2"
cx journalctl --no-pager -o cat -u "$SVC" | grep -q "left by a daemon that died" ||
	fail "after the restart: the journal has no line of the new daemon detaching the dead view"
ok "crash: kill -9 of $P1, systemd restarted it as $P2 after $RESTART_MS ms (RestartSec=1), the dead view detached, one view, served again"

# ---- the journal: a rescan on SIGUSR1 is logged; a drive going away is a warning ---------------
cx systemctl kill -s USR1 --kill-whom=main "$SVC" || fail "systemctl kill -s USR1"
usr1_logged() { cx journalctl --no-pager -o cat -u "$SVC" _PID="$P2" | grep -q "SIGUSR1"; }
wait_for 10 usr1_logged || fail "SIGUSR1: no line in the journal"
cx umount -l /srv/drives/d || fail "umount D inside"
d_warned() { cx journalctl --no-pager -o cat -p warning -u "$SVC" _PID="$P2" | grep -q "D offline"; }
wait_for 10 d_warned || fail "D unmounted: no 'D offline' at priority warning in the journal: $(cx journalctl --no-pager -o cat -u "$SVC" _PID="$P2" | tail -5)"
ok "journal: SIGUSR1 rescan logged; a drive going offline logged at priority warning"

# ---- stop --------------------------------------------------------------------------------------------
t0=$(now_ms)
out=$(cx timeout 30 systemctl stop "$SVC" 2>&1) || fail "systemctl stop $SVC: $out"
STOP_MS=$(($(now_ms) - t0))
[ "$(prop ActiveState)" = inactive ] || fail "after stop: $(prop ActiveState)/$(prop SubState) (Result $(prop Result))"
[ "$(prop Result)" = success ] && [ "$(prop ExecMainStatus)" = 0 ] ||
	fail "after stop: Result $(prop Result), exit status $(prop ExecMainStatus), want success and 0"
[ "$(views_at_mp)" = 0 ] || fail "after stop: $MP still mounted inside"
cx test ! -e "$STATUS" || fail "after stop: the status file $STATUS was left"
cx timeout 10 ls "$MP" >/dev/null 2>&1 || fail "after stop: $MP is not a plain directory again"
cx journalctl --no-pager -o cat -u "$SVC" _PID="$P2" | grep -q "^stopping: asked to" ||
	fail "after stop: the journal has no 'stopping: asked to ...' line of the daemon"
ok "stop: exit 0 after $STOP_MS ms, unmounted, status file removed, the stop logged"

[ "$(host_views)" = "$HOST_VIEWS" ] || fail "the host sees a mount at /srv/pxeimages or under $SDC_DIR"
echo "systemd_unit: all checks passed (boot $SDC_BOOT_MS ms, start $START_MS ms, reload $RELOAD_MS ms, restart $RESTART_MS ms, stop $STOP_MS ms)"
