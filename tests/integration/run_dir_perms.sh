#!/bin/bash
# run_dir_perms.sh -- the daemon (root) writes its status and metrics files into the run
# directory and its private state (inode map, the private smbd's folders) into the state
# directory: a folder on the way there that another user can change must be refused, as
# OpenSSH's StrictModes refuses a writable ~/.ssh. Both `config check` (exit 2) and the daemon
# at start (exit 2, nothing mounted) refuse, naming the folder and what to do:
# 1. the run directory's parent 0777 (no sticky bit): refused ("chmod o-w" / "chmod +t");
#    1777 (sticky, as /tmp): accepted, the view starts and writes its status file there.
# 2. the run directory's parent owned by another user (uid 65534), or writable by a group
#    other than root's: refused ("chown root", "chmod g-w").
# 3. the run directory itself a symlink owned by another user: refused; root's too (the daemon
#    never writes through one: "set 'run directory = <the folder>'").
# 4. the state directory's parent 0777: refused (the same rule).
# 5. symlinks planted at the status file's, the metrics file's and their temporaries' names
#    (pointing at a file outside): the daemon replaces the names, never writes through them
#    (the file outside is untouched), and removes its own files on a clean exit.
# 6. the run directory swapped for a symlink to a folder outside while the daemon runs: the
#    daemon writes nothing through it and logs why.
# Needs root, /dev/fuse and python3; exit 77 = skipped (a failure under CI=true).
#   run_dir_perms.sh PXEIMAGESFS
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
# shellcheck source=tests/integration/lib.sh
set -u
BIN=${1:?usage: run_dir_perms.sh PXEIMAGESFS_BINARY}
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root_fuse
need_tools python3:python3 timeout:coreutils
BIN=$(readlink -f "$BIN")
view_sandbox run-dir-perms
mkdir -p "$C/PKG1" "$T/p/run" "$T/s/state" "$T/outside" && echo image >"$C/PKG1/boot.wim" ||
	fail "fixture"
chmod 0755 "$T/p" "$T/p/run" "$T/s" "$T/s/state" || fail "chmod"
drive_sections DRIVES "C:$T/c"
RUN=$T/p/run

# conf RUN_DIR [STATE_DIR] -- $T/pxe.conf with these folders
conf() {
	cat >"$T/pxe.conf" <<CONF || fail "cannot write $T/pxe.conf"
[global]
    mountpoint = $T/view
    state directory = ${2:-$T/s/state}
    run directory = $1
    mount timeout = 0
    rescan interval = 0
$DRIVES
[share]
    samba = none
CONF
}
# refused WHAT DIR WORDS... -- `config check` and `mount -f` both exit 2 naming DIR and each of
# WORDS (a fixed string: what to do); nothing is mounted, no status file written
refused() {
	local what=$1 dir=$2 w rc
	shift 2
	"$BIN" config check -c "$T/pxe.conf" >"$T/check.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] || { cat "$T/check.out"; fail "$what: config check exit $rc, want 2"; }
	timeout 20 "$BIN" mount -f -c "$T/pxe.conf" >"$T/mount.out" 2>&1
	rc=$?
	[ "$rc" = 2 ] || { cat "$T/mount.out"; fail "$what: mount -f exit $rc, want 2 (refused at start)"; }
	view_mounted "$T/view" && fail "$what: the view was mounted"
	for f in "$T/check.out" "$T/mount.out"; do
		grep -qF -- "$dir" "$f" || { cat "$f"; fail "$what: the message does not name $dir"; }
		for w in "$@"; do
			grep -qF -- "$w" "$f" || { cat "$f"; fail "$what: the message does not say '$w'"; }
		done
	done
	[ -z "$(ls "$RUN" 2>/dev/null)" ] || fail "$what: the refused daemon wrote into $RUN: $(ls "$RUN")"
}
# accepted WHAT -- `config check` exits 0; the view starts and writes its status file in $RUN
accepted() {
	"$BIN" config check -c "$T/pxe.conf" >"$T/check.out" 2>&1 ||
		{ cat "$T/check.out"; fail "$1: config check refused it"; }
	env "$BIN" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
	VIEW_PID=$!
	for ((i = 0; i < 200; i++)); do
		view_mounted "$T/view" && [ -n "$(ls "$RUN"/*.json 2>/dev/null)" ] && return 0
		kill -0 "$VIEW_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/log" >&2
	fail "$1: the view did not start (or wrote no status file in $RUN)"
}

# 1. the parent of the run directory: 0777 refused, 1777 accepted
conf "$RUN"
chmod 0777 "$T/p" || fail "chmod"
refused "run directory's parent 0777" "$T/p" "writable by everyone" "chmod o-w $T/p" "chmod +t $T/p"
ok "run directory's parent 0777 (no sticky bit): config check and the daemon refuse, naming it"
chmod 1777 "$T/p" || fail "chmod"
accepted "run directory's parent 1777"
STATUS=$(ls "$RUN"/*.json) && PROM=${STATUS%.json}.prom && [ -f "$PROM" ] || fail "no metrics file beside $STATUS"
view_stop
[ -e "$STATUS" ] && fail "a clean stop left $STATUS"
ok "run directory's parent 1777 (sticky, as /tmp): accepted, the status file written there"

# 2. the parent owned by another user; writable by a group other than root's
chmod 0755 "$T/p" && chown 65534 "$T/p" || fail "chown"
refused "run directory's parent owned by uid 65534" "$T/p" "owned by uid 65534" "chown root $T/p"
chown 0:65534 "$T/p" && chmod 0775 "$T/p" || fail "chgrp"
refused "run directory's parent writable by group 65534" "$T/p" "writable by group 65534" "chmod g-w $T/p"
chown 0:0 "$T/p" && chmod 0755 "$T/p" || fail "chown"
ok "run directory's parent owned by another user, or writable by another group: refused"

# 3. the run directory a symlink another user owns (it could point it anywhere)
ln -s "$RUN" "$T/p/link" && chown -h 65534 "$T/p/link" || fail "ln"
conf "$T/p/link"
refused "run directory a symlink owned by uid 65534" "$T/p/link" "symlink owned by uid 65534"
chown -h 0 "$T/p/link" || fail "chown -h"
refused "run directory a symlink (root's)" "$T/p/link" "is a symlink" "set 'run directory = $RUN'"
rm "$T/p/link"
ok "run directory a symlink (another user's, or root's: the daemon never writes through one): refused"

# 4. the state directory's parent 0777
conf "$RUN" "$T/s/state"
chmod 0777 "$T/s" || fail "chmod"
refused "state directory's parent 0777" "$T/s" "writable by everyone" "chmod o-w $T/s"
chmod 0755 "$T/s" || fail "chmod"
ok "state directory's parent 0777: refused, naming it"

# 5. symlinks at the names the daemon writes are replaced, never written through
echo untouched >"$T/outside/victim" && chmod 0600 "$T/outside/victim" || fail "victim"
for n in "$STATUS" "$PROM" "$STATUS.tmp" "$PROM.tmp"; do
	ln -s "$T/outside/victim" "$n" || fail "ln -s $n"
done
accepted "symlinks planted in the run directory"
kill -USR1 "$VIEW_PID" # one more write of both files
sleep 0.5
for n in "$STATUS" "$PROM"; do
	[ -f "$n" ] && [ ! -L "$n" ] || fail "$n is not a regular file of the daemon's: $(ls -l "$n")"
done
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$STATUS" || fail "$STATUS is not JSON"
[ "$(cat "$T/outside/victim")" = untouched ] && [ "$(stat -c %a "$T/outside/victim")" = 600 ] ||
	fail "the file outside was written through a planted symlink: $(ls -l "$T/outside/victim"; head -c 200 "$T/outside/victim")"
view_stop
[ -e "$STATUS" ] || [ -L "$STATUS" ] && fail "a clean stop left $STATUS"
[ "$(cat "$T/outside/victim")" = untouched ] || fail "the stop wrote through a planted symlink"
ok "symlinks planted at the status and metrics names (and their temporaries): replaced, the file outside untouched"
# 6. the run directory swapped for a symlink (to a folder outside) while the daemon runs: the
#    daemon opens the folder itself, never through a symlink, and writes nothing there
accepted "the run directory before the swap"
mv "$RUN" "$RUN.old" && ln -s "$T/outside" "$RUN" || fail "swap"
kill -USR1 "$VIEW_PID"
for ((i = 0; i < 100; i++)); do
	grep -q "not writing into the run directory $RUN" "$T/log" && break
	sleep 0.05
done
kill -USR1 "$VIEW_PID"
sleep 0.3
[ -z "$(ls "$T/outside"/*.json "$T/outside"/*.prom 2>/dev/null)" ] ||
	fail "the daemon wrote through the symlinked run directory: $(ls "$T/outside")"
grep -q "not writing into the run directory $RUN: it is a symlink" "$T/log" ||
	{ cat "$T/log"; fail "the daemon did not say why it does not write the status file"; }
view_stop
rm "$RUN" && mv "$RUN.old" "$RUN" || fail "swap back"
ok "the run directory swapped for a symlink while the daemon runs: nothing written through it"
echo "run_dir_perms: all checks passed"
