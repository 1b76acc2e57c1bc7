#!/bin/bash
# share_status.sh -- with samba = system, the outcome of the daemon's export reaches the status
# and metrics files: a share that should be exported and is not makes the view unhealthy, with
# the reason, until a later export succeeds.
#
# The daemon exports into the test's own smb.conf ($T/etc, a tmpfs; never /etc/samba) with the
# real testparm; smbcontrol finds no smbd there (the smb.conf's pid directory is the test's), so
# a good export is "exported" with a quiet note that smbd is not running.
# 1. smb.conf on a read-only filesystem: share.state "not exported", reason "Read-only file
#    system", healthy false, `status` exits 1 saying NOT exported; metrics share_up 0.
# 2. Remounted read-write, SIGUSR1: exported (the include is smb.conf's last line), healthy,
#    `status` exits 0; share_up 1, healthy 1; the note says smbd is not running.
# 3. smb.conf turned hostile (a NUL byte), SIGHUP: not exported ("not a text file"); a good
#    smb.conf back and SIGUSR1: exported.
# 4. Samba not installed (no smb.conf), SIGHUP, then 20 SIGUSR1 at once: not exported ("install
#    Samba"), the daemon serves on; smb.conf back, SIGUSR1: exported.
# 5. samba = none: share.state "not shared", healthy, exit 0, no share_up metric.
# Needs root, /dev/fuse, python3 and Samba's testparm and smbcontrol; exit 77 = skipped (a
# failure under CI=true).
# shellcheck disable=SC2317 # functions called from traps
# shellcheck disable=SC2015 # `a && b || bad` is meant: bad unless both hold
# shellcheck disable=SC2012 # the run directory holds names we made
# shellcheck source=tests/integration/lib.sh
set -u
BIN=${1:?usage: share_status.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_*

need_root_fuse
need_tools python3:python3 timeout:coreutils testparm:samba-common-bin smbcontrol:samba-common-bin
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")
ETC_SUM=$(cat /etc/samba/smb.conf /etc/samba/pxeimagesfs.conf 2>/dev/null | sha256sum)
view_sandbox share-status
cleanup() {
	grep -q " $T/etc " /proc/self/mountinfo && umount "$T/etc"
	view_cleanup
}
trap cleanup EXIT
mkdir -p "$C/PKG1" "$T/etc" && echo image >"$C/PKG1/boot.wim" || fail "fixture"
mount -t tmpfs -o size=4m pxe-etc "$T/etc" || fail "cannot mount tmpfs at $T/etc"
good_smb_conf() { smb_private_conf "$T/etc/smb.conf" "$T/samba" "	workgroup = WORKGROUP"; }
good_smb_conf
mount -o remount,ro "$T/etc" || fail "cannot remount $T/etc read-only"
drive_sections DRIVES "C:$T/c"
view_conf "$DRIVES" "    mount timeout = 0
    rescan interval = 0" "    samba = system
    smb.conf = $T/etc/smb.conf
    include file = $T/etc/pxeimagesfs.conf"

# json_check FILE EXPR WHAT -- the Python expression EXPR over FILE's JSON as `s` must hold
json_check() {
	python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null || { cat "$1" >&2; fail "$3: $2"; }
}
# wait_share STATE WHAT -- up to 30 s for the status file's share.state to be STATE (one
# python polling every 50 ms: a python per poll is slow on a loaded machine)
wait_share() {
	python3 - "$T/run" "$1" "$VIEW_PID" <<'PY' && return 0
import glob, json, os, sys, time
run, want, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
end = time.monotonic() + 30
while time.monotonic() < end:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(2)
    for f in glob.glob(run + "/*.json"):
        try:
            if json.load(open(f))["share"].get("state") == want:
                sys.exit(0)
        except (OSError, ValueError, KeyError):
            pass
    time.sleep(0.05)
sys.exit(1)
PY
	cat "$(view_status_file)" "$T/log" >&2
	fail "$2: the status file's share.state is not '$1' after 30 s (or the daemon exited)"
}
# metric NAME -- the value of pxeimagesfs_NAME in the metrics file, or "absent"
metric() {
	local v
	v=$(sed -n "s/^pxeimagesfs_$1{mountpoint=\"[^\"]*\"} //p" "$(ls "$T"/run/*.prom | head -1)")
	echo "${v:-absent}"
}
# not_exported WHY WORDS -- the share is reported not exported because of WORDS, everywhere
not_exported() {
	"$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || { cat "$T/out" "$T/log"; fail "$1: status exit $rc, not 1 (degraded)"; }
	grep -q "NOT exported.*$2" "$T/out" || { cat "$T/out"; fail "$1: status does not say NOT exported ($2)"; }
	"$BIN" status -c "$T/pxe.conf" --json >"$T/st.json"
	json_check "$T/st.json" 's["share"]["samba"] == "system" and s["share"]["up"] is False and "'"$2"'" in s["share"]["reason"] and s["healthy"] is False and any("share" in r and "'"$2"'" in r for r in s["degraded_reasons"])' "$1"
	[ "$(metric share_up)" = 0 ] && [ "$(metric healthy)" = 0 ] ||
		fail "$1: metrics share_up $(metric share_up), healthy $(metric healthy); want 0 and 0"
}
exported() {
	"$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1 || { cat "$T/out" "$T/log"; fail "$1: status exit $?, not 0"; }
	grep -q "samba = system, exported" "$T/out" || { cat "$T/out"; fail "$1: status does not say exported"; }
	"$BIN" status -c "$T/pxe.conf" --json >"$T/st.json"
	json_check "$T/st.json" 's["share"]["up"] is True and s["healthy"] is True and "smbd is not running" in s["share"]["note"] and "reason" not in s["share"]' "$1"
	[ "$(metric share_up)" = 1 ] && [ "$(metric healthy)" = 1 ] ||
		fail "$1: metrics share_up $(metric share_up), healthy $(metric healthy); want 1 and 1"
	[ "$(tail -n 1 "$T/etc/smb.conf")" = "include = $T/etc/pxeimagesfs.conf" ] ||
		fail "$1: the include is not smb.conf's last line"
}

# ---- 1. smb.conf on a read-only filesystem -------------------------------------------------
env -u PXEIMAGESFS_PASSTHROUGH "$BIN" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
VIEW_PID=$!
wait_share "not exported" "read-only smb.conf"
not_exported "read-only smb.conf" "Read-only file system"
[ -e "$T/view/$IMG/PKG1/boot.wim" ] || fail "the view does not serve C"
ok "smb.conf on a read-only filesystem: not exported (Read-only file system), healthy false, status exit 1, share_up 0"

# ---- 2. fixed, SIGUSR1: exported -----------------------------------------------------------
mount -o remount,rw "$T/etc" || fail "remount rw"
kill -USR1 "$VIEW_PID"
wait_share exported "read-write again + SIGUSR1"
exported "read-write again + SIGUSR1"
ok "read-write again + SIGUSR1: exported, healthy, status exit 0, share_up 1, a note that smbd is not running"

# ---- 3. a hostile smb.conf, SIGHUP; a good one back, SIGUSR1 -------------------------------
printf '[global]\n\tworkgroup = X\0Y\n' >"$T/etc/smb.conf"
kill -HUP "$VIEW_PID"
wait_share "not exported" "smb.conf with a NUL byte + SIGHUP"
not_exported "smb.conf with a NUL byte + SIGHUP" "not a text file"
good_smb_conf
kill -USR1 "$VIEW_PID"
wait_share exported "a good smb.conf + SIGUSR1"
exported "a good smb.conf + SIGUSR1"
ok "a hostile smb.conf (NUL byte) + SIGHUP: not exported, healthy false; a good one + SIGUSR1: exported"

# ---- 4. Samba not installed; many rescans; installed again ----------------------------------
rm -f "$T/etc/smb.conf"
kill -HUP "$VIEW_PID"
wait_share "not exported" "no smb.conf + SIGHUP"
for ((i = 0; i < 20; i++)); do kill -USR1 "$VIEW_PID"; done
sleep 1
wait_share "not exported" "no smb.conf + 20 SIGUSR1"
not_exported "no smb.conf + 20 SIGUSR1" "install Samba"
[ -e "$T/view/$IMG/PKG1/boot.wim" ] || fail "the view does not serve C after 20 SIGUSR1"
good_smb_conf
kill -USR1 "$VIEW_PID"
wait_share exported "smb.conf back + SIGUSR1"
exported "smb.conf back + SIGUSR1"
ok "Samba not installed (no smb.conf): not exported (install Samba) through 20 SIGUSR1; smb.conf back + SIGUSR1: exported"
view_stop
fusermount3 -u "$T/view" 2>/dev/null
[ "$(cat /etc/samba/smb.conf /etc/samba/pxeimagesfs.conf 2>/dev/null | sha256sum)" = "$ETC_SUM" ] ||
	fail "/etc/samba changed"

# ---- 5. samba = none -----------------------------------------------------------------------
view_start "$BIN" "$DRIVES"
"$BIN" status -c "$T/pxe.conf" --json >"$T/st.json" || { cat "$T/st.json"; fail "samba = none: status exit $?"; }
json_check "$T/st.json" 's["share"] == {"samba": "none", "state": "not shared"} and s["healthy"] is True' "samba = none"
"$BIN" status -c "$T/pxe.conf" | grep -q "share: not shared (samba = none)" || fail "samba = none: status text"
[ "$(metric share_up)" = absent ] || fail "samba = none: a share_up metric"
view_stop
ok "samba = none: share not shared, healthy, exit 0, no share_up metric"
exit 0
