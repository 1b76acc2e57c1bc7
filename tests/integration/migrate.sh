#!/bin/bash
# migrate.sh -- `pxeimagesfs migrate` on real tmpfs drives (SPEC sections 7 and 9).
# C (priority 10) holds a tree of nested packages: a 200 MiB image, a sparse file, symlinks
# (one pointing out of the drive), xattrs (user.DOSATTRIB), owners, modes, times. Checked:
# every refusal (exit 2 with its message, nothing changed), --dry-run changes nothing (plain
# and --json), a run killed with kill -9 in the middle of the big file leaves no partial file
# under a final name and a second run finishes it (exact copy: contents, holes, mode, owner,
# mtime, xattrs, link texts; no temporaries left), a third run skips everything, and --move
# while the view is mounted: a reader through the view checks a file's SHA-256 all along, and
# afterwards C holds no images files while the view shows everything from D (priority 20).
# Then a newer copy on the target: a freshly distributed image on D is never replaced by C's
# older one (exit 3, the report names both copies with size, mtime and SHA-256; with --move
# C's copy stays too), an older one is replaced and kept as a backup, and --overwrite=always
# replaces the newer one too.
# Needs root, tmpfs and /dev/fuse; exit 77 = skipped (a failure under CI=true). Gives up after
# $MIGRATE_TIMEOUT s (default 120).
# shellcheck disable=SC2015 # `[ a ] && [ b ] || bad` is meant: bad unless both hold
set -u
BIN=${1:?usage: migrate.sh PXEIMAGESFS_BINARY}
LIMIT=${MIGRATE_TIMEOUT:-120}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok
BAD=0
bad() { echo "FAIL: $*" >&2; BAD=$((BAD + 1)); }

[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs and FUSE"
[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
for tool in timeout:coreutils sha256sum:coreutils truncate:coreutils du:coreutils \
	cmp:diffutils diff:diffutils getfattr:attr setfattr:attr find:findutils awk:mawk; do
	command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
done
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")

T=$(mktemp -d /tmp/pxeimagesfs-migrate.XXXXXX) || fail "mktemp"
chmod 755 "$T"
CONF=$T/pxe.conf
MP=$T/view
V=$MP/RemoteInstall/SMSImages/SMSPKG
CDIR=$T/c/RemoteInstall/SMSImages/SMSPKG
DDIR=$T/d/RemoteInstall/SMSImages/SMSPKG
LOG=$T/daemon.log
MOUNTED=() # mount points this script mounted, in order
PIDS=()    # processes this script started
WATCHDOG=

# --- helpers -------------------------------------------------------------------------------

mounted_at() { awk -v mp="$1" '$5 == mp { f = 1 } END { exit !f }' /proc/self/mountinfo; }
mnt() { mount "$@" && MOUNTED+=("${!#}"); } # mnt ARGS... MOUNTPOINT

cleanup() {
	local rc=$? i pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
	done
	if view_mounted "$MP"; then umount "$MP" 2>/dev/null || umount -l "$MP" 2>/dev/null; fi
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
		if mounted_at "${MOUNTED[i]}"; then
			umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null ||
				echo "warning: cannot unmount ${MOUNTED[i]}" >&2
		fi
	done
	if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
		echo "--- last lines of the daemon's log $LOG" >&2
		tail -n 30 "$LOG" >&2
	fi
	rm -rf --one-file-system "$T"
	if [ -n "$WATCHDOG" ]; then kill "$WATCHDOG" 2>/dev/null; fi
}
trap cleanup EXIT

# After $LIMIT s: abort our FUSE connection (so nothing hangs on it) and stop the script.
start_watchdog() {
	local main=$$
	(
		trap 'kill "${sp:-}" 2>/dev/null; exit 0' TERM
		sleep "$LIMIT" &
		sp=$!
		wait "$sp"
		echo "FAIL: migrate.sh: still running after ${LIMIT}s; aborting" >&2
		awk -v mp="$MP" '$5 == mp && / - fuse\.pxeimagesfs / { print $3 }' /proc/self/mountinfo |
			while read -r majmin; do
				echo 1 >"/sys/fs/fuse/connections/${majmin#*:}/abort" 2>/dev/null
			done
		kill -TERM "$main" 2>/dev/null # its EXIT trap stops what it started
	) &
	WATCHDOG=$!
}

sha() { sha256sum <"$1" 2>/dev/null | cut -d' ' -f1; }
# tree_state DIR: one line per entry below DIR (type, mode, owner, mtime, size or link text),
# per regular file its SHA-256, per xattr a line; sorted. Folder sizes are left out (they
# depend on the filesystem's bookkeeping, not on the content).
tree_state() {
	(
		cd "$1" || exit 1
		find . -mindepth 1 -type d -printf '%P d %m %U:%G %T@\n'
		find . -mindepth 1 ! -type d -printf '%P %y %m %U:%G %T@ %s %l\n'
		find . -type f -exec sha256sum {} +
		getfattr -R -P -h -d -m - . 2>/dev/null |
			awk '/^# file: / { f = substr($0, 9); next } NF { print "xattr " f " " $0 }'
	) | sort
}
reads_so_far() { local n; n=$(cat "$T/reader.n" 2>/dev/null); echo "${n:-0}"; }
temps_under() { find "$1" -name '.pxeimagesfs-tmp.*' 2>/dev/null; }
nothing_on_d() { [ -z "$(find "$T/d" -mindepth 1 -print -quit)" ]; }

# run_mig NAME ARGS...: `pxeimagesfs migrate -c $CONF ARGS` (bounded), output in $T/NAME.out
# and $T/NAME.err, exit status in RC
run_mig() {
	local name=$1
	shift
	timeout 60 "$BIN" migrate -c "$CONF" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	RC=$?
}
show() { sed 's/^/# /' "$T/$1.out" "$T/$1.err" | head -n "${2:-8}"; }

# --- drives, fixtures, config --------------------------------------------------------------

mkdir "$T/c" "$T/d" "$T/e" "$T/small" "$T/ro" "$T/w" "$T/state" "$T/run" "$MP"
mnt -t tmpfs -o size=400m,mode=755 tmpfs "$T/c" || need "cannot mount tmpfs"
mnt -t tmpfs -o size=400m,mode=755 tmpfs "$T/d" || fail "cannot mount tmpfs on $T/d"
mnt -t tmpfs -o size=1m,mode=755 tmpfs "$T/small" || fail "cannot mount tmpfs on $T/small"
mnt -t tmpfs -o ro,size=1m,mode=755 tmpfs "$T/ro" || fail "cannot mount tmpfs on $T/ro"
mnt -t tmpfs -o size=1m,mode=755 tmpfs "$T/w" || fail "cannot mount tmpfs on $T/w"
# $T/e stays a bare directory: drive E is offline

make_fixtures() {
	mkdir -p "$CDIR/PKG00001/sub/deep" "$CDIR/PKG00002" "$CDIR/PKG00003/empty"
	head -c $((200 * 1024 * 1024)) /dev/urandom >"$CDIR/PKG00001/boot.PKG00001.wim"
	printf 'wdsnbp\n' >"$CDIR/PKG00001/wdsnbp.com"
	printf 'nested\n' >"$CDIR/PKG00001/sub/deep/nested.txt"
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$CDIR/PKG00002/boot.PKG00002.wim"
	truncate -s 100M "$CDIR/PKG00002/sparse.img"
	for off in 0 1000 20000; do
		head -c 4096 /dev/urandom |
			dd of="$CDIR/PKG00002/sparse.img" bs=4096 seek="$off" conv=notrunc status=none
	done
	ln -s boot.PKG00002.wim "$CDIR/PKG00002/current.wim"
	ln -s /etc/passwd "$CDIR/PKG00002/escape"
	setfattr -n user.DOSATTRIB -v 0sAAAEAAQAAAAgAAAA "$CDIR/PKG00002/boot.PKG00002.wim"
	setfattr -n user.DOSATTRIB -v 0x10 "$CDIR/PKG00002"
	chown 1234:5678 "$CDIR/PKG00001/sub/deep/nested.txt"
	chmod 640 "$CDIR/PKG00001/sub/deep/nested.txt"
	chmod 750 "$CDIR/PKG00002"
	touch -h -d '2021-03-04 05:06:07.123456789' "$CDIR/PKG00002/current.wim"
	touch -d '2020-01-02 03:04:05.5' "$CDIR/PKG00001/sub/deep/nested.txt" "$CDIR/PKG00001/wdsnbp.com"
	touch -d '2020-02-02 02:02:02' "$CDIR/PKG00001/sub/deep" "$CDIR/PKG00001/sub" \
		"$CDIR/PKG00003/empty" "$CDIR/PKG00003" "$CDIR/PKG00002" "$CDIR/PKG00001"
}
(set -e; make_fixtures) # not in an `||` list, where set -e would be off
# shellcheck disable=SC2181
[ $? = 0 ] || fail "setting up the fixtures (does tmpfs take user xattrs here?)"
REF=$(tree_state "$CDIR")
[ -n "$REF" ] || fail "cannot read the fixture tree"
BIG_SHA=$(sha "$CDIR/PKG00001/boot.PKG00001.wim")
P2_SHA=$(sha "$CDIR/PKG00002/boot.PKG00002.wim")

drive_sections DRIVES "C:$T/c:10" "D:$T/d:20" "E:$T/e:1" "S:$T/small:2" "R:$T/ro:3" "W:$T/w:4:ro"
cat >"$CONF" <<CONF || fail "writing $CONF"
# migrate.sh: C holds the images, D is the new drive; the others are refusal cases
[global]
    mountpoint = $MP
    state directory = $T/state
    run directory = $T/run
    mount timeout = 0
    rescan interval = 1h
$DRIVES
[share]
    samba = none
CONF
start_watchdog

# --- refusals: exit 2, the message, nothing changed ----------------------------------------

# refused NAME MESSAGE ARGS...: migrate ARGS exits 2 naming MESSAGE; C and D unchanged
refused() {
	local name=$1 want=$2
	shift 2
	run_mig "$name" "$@"
	if [ "$RC" != 2 ] || ! grep -qF -- "$want" "$T/$name.err"; then
		bad "refuse-$name: migrate $* exited $RC, want 2 with '$want':"
		show "$name"
		return
	fi
	[ "$(tree_state "$CDIR")" = "$REF" ] || bad "refuse-$name: C changed"
	nothing_on_d || bad "refuse-$name: something was written to D"
	sed 's/^/# /' "$T/$name.err"
	ok "refused ($name): $want"
}
refused offline "target drive E is offline" --to E
refused mounted-ro "target drive R is read-only (mounted read-only)" --to R
refused config-ro "target drive W is read-only ('read only = yes'" --to W
refused space "not enough free space on target drive S" --to S
grep -qE '[0-9.]+ MiB needed, [0-9.]+ MiB available' "$T/space.err" ||
	bad "refuse-space: the message lacks 'N MiB needed, N MiB available': $(cat "$T/space.err")"
[ -z "$(find "$T/small" -mindepth 1 ! -name .pxeimagesfs-migrate.lock -print -quit)" ] ||
	bad "refuse-space: S holds more than migrate's lock file"
refused same "source drive D is the target" --to D --from D
refused unknown "no drive named 'NOPE'" --to NOPE
refused no-source "no source: no online drive other than the target C holds the images" --to C
refused not-holding "source drive D does not hold the images" --to C --from D

# --- --dry-run changes nothing -------------------------------------------------------------

run_mig dry --to D --dry-run
if [ "$RC" != 0 ] || ! grep -qE '^copy +200\.0 MiB +PKG00001/boot\.PKG00001\.wim' "$T/dry.out" ||
	! grep -qE '^mkdir .* PKG00003/empty/' "$T/dry.out" || ! grep -q 'nothing was changed' "$T/dry.out"; then
	bad "dry-run: exit $RC, or the plan lacks its lines:"
	show dry 30
fi
run_mig dryjson --to D --dry-run --json
grep -qE '"dry_run": *true' "$T/dryjson.out" &&
	grep -qE '"path": *"PKG00001/boot.PKG00001.wim"' "$T/dryjson.out" &&
	grep -qE '"action": *"copy"' "$T/dryjson.out" && [ "$RC" = 0 ] ||
	{ bad "dry-run --json: exit $RC or not the plan:"; show dryjson 20; }
[ "$(tree_state "$CDIR")" = "$REF" ] || bad "dry-run: C changed"
nothing_on_d || bad "dry-run: something was written to D: $(find "$T/d" -mindepth 1 | head -3)"
ok "--dry-run (plain and --json) prints the plan and changes nothing"

# --- kill -9 in the middle of the 200 MiB file, then a second run finishes -----------------

# the run's temporary: the prefix, the run's tag (host-pid-random, hex), the name
TAGRE='[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{16}'
bigtmp() { find "$DDIR/PKG00001" -maxdepth 1 -name '.pxeimagesfs-tmp.migrate.*.boot.PKG00001.wim' 2>/dev/null | head -1; }
"$BIN" migrate -c "$CONF" --to D >"$T/killed.out" 2>&1 </dev/null &
MIG=$!
PIDS+=("$MIG")
seen='' BIGTMP=''
for ((i = 0; i < 3000; i++)); do
	BIGTMP=$(bigtmp)
	if [ -n "$BIGTMP" ]; then seen=1; break; fi
	kill -0 "$MIG" 2>/dev/null || break
	sleep 0.01
done
kill -KILL "$MIG" 2>/dev/null
wait "$MIG" 2>/dev/null
[ -n "$seen" ] || bad "kill-9: the temporary of boot.PKG00001.wim never appeared (run output: $(cat "$T/killed.out"))"
echo "$BIGTMP" | grep -qE "/\.pxeimagesfs-tmp\.migrate\.$TAGRE\.boot\.PKG00001\.wim\$" || [ -z "$seen" ] ||
	bad "kill-9: the temporary's name $BIGTMP lacks the run's tag"
echo "# killed after the temporary appeared ($(stat -c %s "$BIGTMP" 2>/dev/null || echo 0) bytes of it written)"
if [ -e "$DDIR/PKG00001/boot.PKG00001.wim" ]; then
	[ "$(sha "$DDIR/PKG00001/boot.PKG00001.wim")" = "$BIG_SHA" ] ||
		bad "kill-9: a corrupt boot.PKG00001.wim has its final name on D"
	echo "# (the copy had landed before the kill)"
fi
while read -r f; do
	cmp -s "$f" "$CDIR/${f#"$DDIR"/}" || bad "kill-9: $f under its final name differs from C's"
done < <(find "$DDIR" -type f ! -name '.pxeimagesfs-tmp.*' 2>/dev/null)
ok "kill -9 during the big file: no partial or corrupt file under a final name"

run_mig resume --to D
[ "$RC" = 0 ] || { bad "resume: the second run exited $RC"; show resume 30; }
grep -qE "^removed +PKG00001/\.pxeimagesfs-tmp\.migrate\.$TAGRE\.boot\.PKG00001\.wim" "$T/resume.out" ||
	[ -z "$seen" ] || bad "resume: no line about removing the temporary the killed run left"
grep -qE '^copied +PKG00001/boot\.PKG00001\.wim +\(200\.0 MiB, SHA-256 verified\)' "$T/resume.out" ||
	bad "resume: no line 'copied PKG00001/boot.PKG00001.wim (200.0 MiB, SHA-256 verified)'"
grep -qE '^summary: [0-9]+ copied, [0-9]+ skipped, [0-9]+ verified, 0 failed' "$T/resume.out" ||
	bad "resume: no summary line with 0 failed"
show resume 40
[ -z "$(temps_under "$T/d")" ] || bad "resume: temporaries left: $(temps_under "$T/d" | tr '\n' ' ')"
if [ "$(tree_state "$DDIR")" != "$REF" ]; then
	bad "resume: D is not an exact copy of C:"
	diff <(echo "$REF") <(tree_state "$DDIR") | head -20 >&2
fi
diff -r --no-dereference "$CDIR" "$DDIR" >/dev/null || bad "resume: diff -r C D differs"
[ "$(readlink "$DDIR/PKG00002/escape")" = /etc/passwd ] &&
	[ "$(readlink "$DDIR/PKG00002/current.wim")" = boot.PKG00002.wim ] ||
	bad "resume: the symlinks are not copied as symlinks"
kib=$(du -k "$DDIR/PKG00002/sparse.img" | cut -f1)
[ "$kib" -lt 1024 ] || bad "resume: the sparse file takes $kib KiB on D (holes filled)"
dosattrib() { getfattr -h -e base64 -n user.DOSATTRIB "$1" 2>/dev/null | grep '^user\.'; }
[ -n "$(dosattrib "$CDIR/PKG00002/boot.PKG00002.wim")" ] &&
	[ "$(dosattrib "$DDIR/PKG00002/boot.PKG00002.wim")" = "$(dosattrib "$CDIR/PKG00002/boot.PKG00002.wim")" ] &&
	[ "$(dosattrib "$DDIR/PKG00002")" = "$(dosattrib "$CDIR/PKG00002")" ] ||
	bad "resume: user.DOSATTRIB not copied (file or folder)"
[ "$(stat -c '%a %u:%g %y' "$DDIR/PKG00001/sub/deep/nested.txt")" = \
	"$(stat -c '%a %u:%g %y' "$CDIR/PKG00001/sub/deep/nested.txt")" ] ||
	bad "resume: nested.txt's mode, owner or mtime differ"
echo "# sparse.img: $kib KiB on D for 100 MiB"
ok "a second run finishes: an exact copy (data, holes, symlinks, xattrs, mode, owner, times), no temporaries"

run_mig again --to D --json
grep -qE '"copied": *0,' "$T/again.out" && grep -qE '"failed": *0,' "$T/again.out" && [ "$RC" = 0 ] ||
	{ bad "third run: exit $RC, or it copied something:"; show again 40; }
ok "a third run (--json) finds everything in place and copies nothing"

# --- --move while the view is mounted and read ---------------------------------------------

rm -rf "$T/d/RemoteInstall" || fail "emptying D"
"$BIN" mount -c "$CONF" -f >"$LOG" 2>&1 </dev/null &
VIEW_PID=$!
PIDS+=("$VIEW_PID")
for ((i = 0; i < 200; i++)); do
	view_mounted "$MP" && break
	kill -0 "$VIEW_PID" 2>/dev/null || break
	sleep 0.05
done
view_mounted "$MP" || fail "no fuse.pxeimagesfs mount at $MP within 10 s"
[ "$(sha "$V/PKG00002/boot.PKG00002.wim")" = "$P2_SHA" ] || fail "move: the view does not serve C's files"

# the reader: through the view, the 8 MiB image's SHA-256 and the big image's presence, until
# told to stop (at most 40 s)
: >"$T/reader.bad"
(
	end=$((SECONDS + 40))
	n=0
	while [ ! -e "$T/reader.stop" ] && [ "$SECONDS" -lt "$end" ]; do
		got=$(sha "$V/PKG00002/boot.PKG00002.wim")
		[ "$got" = "$P2_SHA" ] || echo "read $n: PKG00002/boot.PKG00002.wim sha '$got'" >>"$T/reader.bad"
		[ "$(stat -c %s "$V/PKG00001/boot.PKG00001.wim" 2>/dev/null)" = $((200 * 1024 * 1024)) ] ||
			echo "read $n: PKG00001/boot.PKG00001.wim missing or short" >>"$T/reader.bad"
		n=$((n + 1))
		echo "$n" >"$T/reader.n.tmp" && mv "$T/reader.n.tmp" "$T/reader.n" # never read half-written
	done
) &
READER=$!
PIDS+=("$READER")
for ((i = 0; i < 200; i++)); do
	[ "$(reads_so_far)" -ge 3 ] && break
	sleep 0.05
done
before=$(reads_so_far)
run_mig move --to D --move
during=$(($(reads_so_far) - before))
sleep 0.5
touch "$T/reader.stop"
wait "$READER"
[ "$RC" = 0 ] || { bad "move: migrate --move exited $RC"; show move 40; }
show move 30
[ -s "$T/reader.bad" ] && bad "move: the view failed its reader: $(head -5 "$T/reader.bad")"
echo "# reader: $(reads_so_far) reads through the view, $during of them during the move"
[ "$during" -ge 1 ] || bad "move: no read through the view happened during the move"
left=$(find "$CDIR" -mindepth 1 2>/dev/null | head -5)
[ -z "$left" ] || bad "move: C still holds images entries: $left"
if [ "$(tree_state "$DDIR")" != "$REF" ]; then
	bad "move: D is not an exact copy of what C had:"
	diff <(echo "$REF") <(tree_state "$DDIR") | head -20 >&2
fi
if [ "$(tree_state "$V")" != "$REF" ]; then
	bad "move: the view does not show everything as C had it:"
	diff <(echo "$REF") <(tree_state "$V") | head -20 >&2
fi
[ -z "$(temps_under "$T/d")" ] || bad "move: temporaries left on D"
ok "--move under a mounted view: readers never saw a gap, C holds no images files, the view serves all from D"

kill -TERM "$VIEW_PID"
for ((i = 0; i < 200; i++)); do kill -0 "$VIEW_PID" 2>/dev/null || break; sleep 0.05; done
view_mounted "$MP" && bad "the view is still mounted 10 s after SIGTERM"

# --- a newer copy on the target is never replaced by default ---------------------------------

# D got a freshly distributed PKG00002 image; C still has the older one. D's wdsnbp.com is
# older than C's (changed on C since): that one is replaced, and D's kept as a backup.
head -c $((8 * 1024 * 1024)) /dev/urandom >"$DDIR/PKG00002/boot.PKG00002.wim"
mkdir -p "$CDIR/PKG00002" "$CDIR/PKG00001"
cp -a "$DDIR/PKG00002/boot.PKG00002.wim" "$T/fresh.wim"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$CDIR/PKG00002/boot.PKG00002.wim"
touch -d '2024-01-01 00:00:00' "$CDIR/PKG00002/boot.PKG00002.wim"
printf 'wdsnbp, newer on C\n' >"$CDIR/PKG00001/wdsnbp.com"
cp -a "$DDIR/PKG00001/wdsnbp.com" "$T/old-wdsnbp.com"
FRESH_SHA=$(sha "$T/fresh.wim")
OLD_SHA=$(sha "$CDIR/PKG00002/boot.PKG00002.wim")
fresh_on_d() { [ "$(sha "$DDIR/PKG00002/boot.PKG00002.wim")" = "$FRESH_SHA" ]; }

run_mig cdry --to D --dry-run
[ "$RC" = 3 ] && grep -q '^CONFLICT PKG00002/boot.PKG00002.wim: the target.s copy is newer' "$T/cdry.out" ||
	{ bad "conflict --dry-run: exit $RC (want 3), or no CONFLICT line:"; show cdry 40; }
fresh_on_d || bad "conflict --dry-run: D's fresh image changed"

run_mig conflict --to D --move
show conflict 30
[ "$RC" = 3 ] || bad "conflict: migrate --move exited $RC, want 3 (conflicts)"
fresh_on_d || bad "conflict: D's newer image was overwritten with C's older copy"
[ "$(sha "$CDIR/PKG00002/boot.PKG00002.wim")" = "$OLD_SHA" ] ||
	bad "conflict: --move removed C's conflicting copy"
# the report names both copies: drive, path, size, mtime, SHA-256
for want in "CONFLICT PKG00002/boot.PKG00002.wim: the target's copy is newer" \
	"C: $CDIR/PKG00002/boot.PKG00002.wim" "D: $DDIR/PKG00002/boot.PKG00002.wim" \
	"8.0 MiB (8388608 bytes), mtime 2024-01-01 00:00:00.000000000 UTC, SHA-256 $OLD_SHA" \
	"SHA-256 $FRESH_SHA" "1 conflict (see above)"; do
	grep -qF -- "$want" "$T/conflict.err" || bad "conflict: the report lacks '$want'"
done
grep -qE "^summary: .* 0 failed, 1 conflict," "$T/conflict.out" ||
	bad "conflict: no summary line with '0 failed, 1 conflict'"
[ "$(cat "$DDIR/PKG00001/wdsnbp.com")" = "wdsnbp, newer on C" ] ||
	bad "conflict: D's older wdsnbp.com was not replaced"
[ ! -e "$CDIR/PKG00001/wdsnbp.com" ] || bad "conflict: --move kept C's wdsnbp.com (it was copied)"
backup=$(find "$T/d/.pxeimagesfs-backup" -path '*/PKG00001/wdsnbp.com' 2>/dev/null | head -1)
if [ -z "$backup" ] || ! cmp -s "$backup" "$T/old-wdsnbp.com"; then
	bad "conflict: D's replaced wdsnbp.com is not kept under $T/d/.pxeimagesfs-backup"
fi
grep -qF "backup: 1 replaced copy kept in $T/d/.pxeimagesfs-backup/" "$T/conflict.out" ||
	bad "conflict: no 'backup: 1 replaced copy kept in ...' line"
[ -z "$(temps_under "$T/d")" ] || bad "conflict: temporaries left on D: $(temps_under "$T/d")"
ok "a newer copy on D is a conflict: exit 3, both copies named (size, mtime, SHA-256), both kept; an older one replaced with a backup"

run_mig cjson --to D --json
[ "$RC" = 3 ] && grep -qE '"result": *"conflict"' "$T/cjson.out" &&
	grep -qE "\"sha256\": *\"$FRESH_SHA\"" "$T/cjson.out" &&
	grep -qE '"conflicts": *1,' "$T/cjson.out" || { bad "conflict --json: exit $RC or no conflict:"; show cjson 60; }
run_mig bogus --to D --overwrite=newest
[ "$RC" = 2 ] && grep -q 'say older, never or always' "$T/bogus.err" ||
	bad "--overwrite=newest: exit $RC, want 2 with 'say older, never or always'"
run_mig always --to D --overwrite=always
[ "$RC" = 0 ] || { bad "--overwrite=always: exit $RC"; show always 20; }
[ "$(sha "$DDIR/PKG00002/boot.PKG00002.wim")" = "$OLD_SHA" ] || bad "--overwrite=always: not replaced"
backup=$(find "$T/d/.pxeimagesfs-backup" -path '*/PKG00002/boot.PKG00002.wim' 2>/dev/null | head -1)
[ -n "$backup" ] && [ "$(sha "$backup")" = "$FRESH_SHA" ] ||
	bad "--overwrite=always: D's replaced image is not kept as a backup"
ok "--json reports the conflict; --overwrite=newest is refused; --overwrite=always replaces, keeping a backup"

[ "$BAD" = 0 ] || fail "migrate.sh: $BAD check(s) failed"
echo "migrate.sh: all checks passed"
