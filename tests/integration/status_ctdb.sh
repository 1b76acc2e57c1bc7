#!/bin/bash
# status_ctdb.sh -- `status` of a node of a CTDB cluster (samba = ctdb) says so: "samba =
# ctdb, exported", what it checked (the include file with clustering = yes and fileid,
# testparm, smbd reloaded) and what it did not (CTDB itself), and --json's share.samba is
# "ctdb". The daemon exports into the test's own smb.conf (never /etc/samba); no smbd runs.
# The daemon writes the mode it runs into the status file itself (share.samba "ctdb", share.smbd
# "system"), so `status` says "ctdb" whatever configuration it reads. A status file of an older
# daemon (share.samba "system", no share.smbd) still says "ctdb" when read with the daemon's own
# configuration, and "system" (no guess) with another one.
# Then the same view with samba = system says "samba = system" (the file too).
# Needs root, /dev/fuse, python3 and Samba's testparm and smbcontrol; exit 77 = skipped (a
# failure under CI=true).
#   status_ctdb.sh PXEIMAGESFS
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
# shellcheck source=tests/integration/lib.sh
set -u
BIN=${1:?usage: status_ctdb.sh PXEIMAGESFS_BINARY}
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root_fuse
need_tools python3:python3 testparm:samba-common-bin smbcontrol:samba-common-bin
BIN=$(readlink -f "$BIN")
view_sandbox status-ctdb
mkdir -p "$C/PKG1" "$T/etc" && echo image >"$C/PKG1/boot.wim" || fail "fixture"
smb_private_conf "$T/etc/smb.conf" "$T/samba" "	workgroup = WORKGROUP"
drive_sections DRIVES "C:$T/c"

# start SAMBA -- the view with samba = SAMBA exporting into $T/etc; waits up to 30 s for
# "exported" in `status`
start() {
	view_conf "$DRIVES" "    mount timeout = 0
    rescan interval = 0" "    samba = $1
    smb.conf = $T/etc/smb.conf
    include file = $T/etc/pxeimagesfs.conf"
	view_mount "$BIN"
	for ((k = 0; k < 300; k++)); do
		"$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1 && grep -q ", exported" "$T/out" && return 0
		sleep 0.1
	done
	cat "$T/out" "$T/log" >&2
	fail "samba = $1: not exported after 30 s"
}
json_check() {
	python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null || { cat "$1" >&2; fail "$3: $2"; }
}

start ctdb
grep -q "clustering = yes" "$T/etc/pxeimagesfs.conf" || fail "samba = ctdb: no clustering = yes in the include"
grep -q "^share: samba = ctdb, exported" "$T/out" || { cat "$T/out"; fail "status does not say samba = ctdb, exported"; }
grep -q "^share: checked: .*clustering = yes.*testparm.*not checked: CTDB itself" "$T/out" ||
	{ cat "$T/out"; fail "status does not say what it checks in ctdb mode"; }
"$BIN" status -c "$T/pxe.conf" --json >"$T/st.json" || fail "status --json exit $?"
json_check "$T/st.json" 's["share"]["samba"] == "ctdb" and s["share"]["up"] is True and s["healthy"] is True' "ctdb --json"
ok "samba = ctdb: status says 'samba = ctdb, exported' and what it checked; --json share.samba is ctdb"

json_check "$(view_status_file)" 's["share"]["samba"] == "ctdb" and s["share"]["smbd"] == "system"' "the status file itself"
ok "the status file carries the mode the daemon runs: share.samba ctdb, share.smbd system"

# the same status file read with another configuration (same mountpoint and run directory,
# samba = ctdb, but not the daemon's file): the daemon's word, ctdb
cp "$T/pxe.conf" "$T/other.conf" || fail "cp"
"$BIN" status -c "$T/other.conf" >"$T/out" 2>&1
grep -q "^share: samba = ctdb, exported" "$T/out" || { cat "$T/out"; fail "another configuration: status should say what the daemon wrote (ctdb)"; }
ok "read with a configuration that is not the daemon's: the daemon's word (ctdb)"

# an older daemon's status file (samba = ctdb written as "system", no "smbd"): made from the
# live one (the daemon rewrites it only on a change: a rewrite in between is retried, 20 times)
# old_status CONF WANT -- `status -c CONF` of the older daemon's file says "samba = WANT"
old_status() {
	local f k
	f=$(view_status_file)
	for ((k = 0; k < 20; k++)); do
		python3 -c 'import json,os,sys
f = sys.argv[1]; s = json.load(open(f))
s["share"]["samba"] = "system"; s["share"].pop("smbd", None)
open(f + ".old", "w").write(json.dumps(s)); os.rename(f + ".old", f)' "$f" || fail "cannot rewrite $f"
		"$BIN" status -c "$1" >"$T/out" 2>&1
		grep -q '"smbd"' "$f" || break
	done
	grep -q "^share: samba = $2, exported" "$T/out" || { cat "$T/out"; fail "an older daemon's file read with $1: want samba = $2"; }
}
old_status "$T/pxe.conf" ctdb
old_status "$T/other.conf" system
ok "an older daemon's file: ctdb with the daemon's configuration, system (no guess) with another"

view_stop
start system
grep -q "^share: samba = system, exported" "$T/out" || { cat "$T/out"; fail "samba = system: status does not say so"; }
grep -q "^share: checked:" "$T/out" && fail "samba = system: the ctdb line is shown"
"$BIN" status -c "$T/pxe.conf" --json >"$T/st.json"
json_check "$T/st.json" 's["share"]["samba"] == "system"' "system --json"
json_check "$(view_status_file)" 's["share"]["samba"] == "system" and s["share"]["smbd"] == "system"' "the status file itself (system)"
ok "samba = system: status says samba = system"
echo "status_ctdb: all checks passed"
