#!/bin/bash
# two_writers.sh -- two PXE hosts writing one shared store at once, on one machine. Each host
# (a, b) is a pxeimagesfs daemon with its own config, state and run directories and
# mountpoint, over its own mount of the store as drive S (primary), beside a local read-only
# drive L (a tmpfs of the host's own). STORE is
#   gluster  a GlusterFS volume served inside a network namespace of the test's own
#            (10.213.9.5 on its loopback, no link out), mounted by two GlusterFS clients
#            (each with its own caches, as two hosts): the real case
#   dir      one tmpfs bind-mounted twice: one kernel, so flock, RENAME_NOREPLACE, O_TMPFILE
#            and inotify work across the "hosts" (what a local filesystem gives; the
#            semantics of the product itself)
# Everything runs in one private mount namespace; its processes are ended by PID. Checks,
# each bounded in rounds and seconds:
#   copy-up   both hosts open the same image for writing at once (it is on their read-only
#             local drives only, a different version on each): the store ends with one
#             complete version under the name (never a mix, never a partial), both writes in
#             it, no temporary left; ROUNDS rounds
#   folder    both hosts create a file at once in a folder only their local drives have (both
#             make it on the store): both creates succeed and are on the store; MKDIR_ROUNDS
#   migrate   `migrate --to S` from both hosts at once (different versions of the same
#             package on each L): each run ends with 0, 2 (refused: the other holds the lock
#             on S, a file on S's root that GlusterFS's clients share) or 3 (a conflict with
#             the other's copy); every file on S is complete, one version; no temporary left
#             (the lock file stays on S's root); a second run then exits 0 or 3
#   rename    a rename through a's view seen through b's view (the window measured; on
#             GlusterFS no inotify across hosts: the view's 1 s cache plus GlusterFS's)
#   file ids  st_ino of one file through both views (equal); without 'inode numbers' (path
#             numbers) a file renamed through a keeps its number on a (also after a's daemon
#             restarts) and b numbers it by its new path (they differ: docs/scale-out.md);
#             with 'inode numbers = drive' on S (both daemons restarted), a file and a folder
#             renamed through a, after a's daemon restarts, after a rename on the store
#             directly, and a folder merged with a's local drive: the same st_ino through a's
#             and b's views, and a renamed file keeps its number
#   two_writers.sh PXEIMAGESFS gluster|dir
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
# shellcheck source=tests/integration/lib.sh
set -u
. "$(dirname "$0")/lib.sh"
PXE=$(realpath "$1") # nsenter -m starts in /
STORE=${2:?usage: two_writers.sh PXEIMAGESFS gluster|dir}
[ "$STORE" = gluster ] || [ "$STORE" = dir ] || fail "STORE is gluster or dir, not '$STORE'"
START=$SECONDS
ROUNDS=${TWO_WRITERS_ROUNDS:-5}
[ "${PXE_TEST_SHORT:-}" = 1 ] && ROUNDS=2

need_root_fuse
need_tools ip:iproute2 nsenter:util-linux unshare:util-linux python3:python3
if [ "$STORE" = gluster ]; then
	need_tools glusterd:glusterfs-server gluster:glusterfs-server glusterfs:glusterfs-client
	[ -d /var/lib/glusterd ] && [ -d /var/log/glusterfs ] ||
		need "/var/lib/glusterd or /var/log/glusterfs missing (package glusterfs-server)"
fi

NET=10.213.9 TAG=pxtw$$
T=$(mktemp -d /tmp/pxeimagesfs-2w.XXXXXX) || fail "mktemp"
IMG=RemoteInstall/SMSImages/SMSPKG
SELF_NS=$(stat -L -c %i /proc/self/ns/mnt)
ANCHOR='' MNTNS=''

# ns_pids -- every process in the test's mount namespace (all started by this test), named by
# the identity recorded when it was made, never the test's own
ns_pids() {
	[ -n "$MNTNS" ] && [ "$MNTNS" != "$SELF_NS" ] || return 0
	stat -L -c '%i %n' /proc/[0-9]*/ns/mnt 2>/dev/null |
		awk -v i="$MNTNS" '$1 == i { split($2, f, "/"); print f[3] }'
}
ns_kill() { # SIG [all]: the anchor only with all
	local p
	for p in $(ns_pids); do
		[ "$p" = "$ANCHOR" ] && [ "${2:-}" != all ] && continue
		kill "-$1" "$p" 2>/dev/null
	done
	return 0
}
cleanup() {
	local k
	ns_kill CONT
	ns_kill TERM
	for k in $(seq 50); do [ "$(ns_pids | wc -l)" -gt 1 ] || break; sleep 0.1; done
	ns_kill KILL all
	MNTNS=
	ip netns del "$TAG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# on CMD... -- run CMD in the test's network and mount namespaces
on() { nsenter -t "$ANCHOR" -m -n "$@"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# ---- the namespace: the store's address on its loopback; tmpfs for glusterd's state ---------
ip netns add "$TAG" 2>"$T/err" || need "cannot create a network namespace: $(cat "$T/err")"
ip -n "$TAG" link set lo up && ip -n "$TAG" addr add "$NET.5/24" dev lo || fail "cannot set up $TAG"
mkdir -p "$T/brick" "$T/glog" || fail "mkdir"
nsenter --net="/run/netns/$TAG" unshare -m --propagation private bash -c \
	"mount -t tmpfs tmpfs /var/lib/glusterd && mount --bind $T/glog /var/log/glusterfs &&
	 mount -t tmpfs tmpfs /run && touch $T/ready && exec sleep 3600" >"$T/anchor.log" 2>&1 &
ANCHOR=$!
disown "$ANCHOR" # ended by PID at cleanup; no "Killed" line from the shell
for k in $(seq 50); do [ -e "$T/ready" ] && break; sleep 0.1; done
[ -e "$T/ready" ] || fail "the namespace did not come up: $(cat "$T/anchor.log")"
MNTNS=$(stat -L -c %i "/proc/$ANCHOR/ns/mnt")
[ -n "$MNTNS" ] && [ "$MNTNS" != "$SELF_NS" ] || fail "no mount namespace of its own"

# ---- the store: a GlusterFS volume mounted by two clients, or one tmpfs mounted twice --------
if [ "$STORE" = gluster ]; then
	on glusterd -N --log-file="$T/glog/glusterd.log" &
	for k in $(seq 100); do on gluster --mode=script volume list >/dev/null 2>&1 && break; sleep 0.1; done
	on gluster --mode=script volume create pxe "$NET.5:$T/brick" force >"$T/gl.out" 2>&1 &&
		on gluster --mode=script volume start pxe >>"$T/gl.out" 2>&1 ||
		fail "gluster volume: $(tail -5 "$T/gl.out" "$T/glog/glusterd.log")"
else
	mkdir -p "$T/shared" && on mount -t tmpfs -o size=128m pxe-shared "$T/shared" || fail "tmpfs"
fi
for h in a b; do
	d=$T/$h
	mkdir -p "$d/store" "$d/local" "$d/view" "$d/state" "$d/run" || fail "mkdir $d"
	if [ "$STORE" = gluster ]; then
		on glusterfs -N --volfile-server="$NET.5" --volfile-id=pxe --log-file="$d/glusterfs.log" \
			"$d/store" &
	else
		on mount --bind "$T/shared" "$d/store" || fail "bind mount for $h"
	fi
	on mount -t tmpfs -o size=64m "pxe-local-$h" "$d/local" || fail "tmpfs for $h"
	cat >"$d/pxe.conf" <<EOF
[global]
    mountpoint = $d/view
    state directory = $d/state
    run directory = $d/run
    mode = union
    rescan interval = 2s
    mount timeout = 10s
[drive:S]
    path = $d/store
    priority = 20
[drive:L]
    path = $d/local
    priority = 10
    read only = yes
[share]
    samba = none
EOF
done
for h in a b; do
	for k in $(seq 100); do on grep -q " $T/$h/store " /proc/mounts && break; sleep 0.1; done
	on grep -q " $T/$h/store " /proc/mounts || fail "$h: the store is not mounted: $(tail -3 "$T/$h/glusterfs.log" 2>/dev/null)"
done
on mkdir -p "$T/a/store/$IMG" "$T/a/local/$IMG" "$T/b/local/$IMG" || fail "mkdir images"
ok "store ($STORE) mounted by hosts a and b after $((SECONDS - START)) s"

declare -A DAEMON=()
# start_view HOST -- host's daemon (nsenter execs it: $! is its PID), up to 15 s for its view
start_view() {
	# nsenter itself, not through on(): a function in the background is a subshell, whose PID
	# is not the daemon's (a kill of it left the daemon running)
	nsenter -t "$ANCHOR" -m -n "$PXE" mount -f -c "$T/$1/pxe.conf" >>"$T/$1/pxe.log" 2>&1 &
	DAEMON[$1]=$!
	for k in $(seq 150); do on grep -q " $T/$1/view fuse.pxeimagesfs" /proc/mounts && return 0; sleep 0.1; done
	fail "$1: no view: $(tail -5 "$T/$1/pxe.log")"
}
start_view a
start_view b
ok "views of hosts a and b mounted over the same store after $((SECONDS - START)) s"
VA=$T/a/view/$IMG VB=$T/b/view/$IMG SA=$T/a/store/$IMG
BAD=0
bad() { echo "FAIL: $*" >&2; BAD=$((BAD + 1)); }
# fill FILE LETTER BYTES -- FILE made of BYTES copies of LETTER (in the namespace)
fill() { on sh -c "head -c $3 /dev/zero | tr '\\0' $2 >'$1'"; }
# seen_in VIEWFILE SIZE -- wait up to 5 s until VIEWFILE has SIZE bytes
seen_in() {
	local k
	for k in $(seq 100); do [ "$(on stat -c %s "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.05; done
	return 1
}
# temps DIR -- the hidden temporaries (copy-up's, migrate's) left in DIR on the store
temps() { on find "$1" -maxdepth 2 -name '.pxeimagesfs-tmp.*' 2>/dev/null; }
SZ=$((2 * 1024 * 1024))
# at_once ERR_A CMD_A ERR_B CMD_B -- the two shell commands (in the namespace) started at the
# same moment, each's stderr in its file; their exit statuses in ra and rb
at_once() {
	local wa wb
	on sh -c "$2" 2>"$1" &
	wa=$!
	on sh -c "$4" 2>"$3" &
	wb=$!
	wait $wa; ra=$?
	wait $wb; rb=$?
}

# ---- copy-up of one image by both hosts at once ------------------------------------------------
# Each host's local read-only drive has its own version of PKGCU00r/boot.wim (all 'A' on a, all
# 'B' on b). Both open it for writing at the same moment (a writes 'a' at byte 0, b 'b' at byte
# 1): the store must end with one complete version, both bytes written into it.
wins_a=0 wins_b=0
for ((r = 1; r <= ROUNDS; r++)); do
	p=PKGCU00$r
	on mkdir -p "$T/a/local/$IMG/$p" "$T/b/local/$IMG/$p"
	fill "$T/a/local/$IMG/$p/boot.wim" A $SZ
	fill "$T/b/local/$IMG/$p/boot.wim" B $SZ
	seen_in "$VA/$p/boot.wim" $SZ && seen_in "$VB/$p/boot.wim" $SZ || { bad "copy-up $r: not in the views"; continue; }
	at_once "$T/cu.a" "printf a | dd of='$VA/$p/boot.wim' bs=1 seek=0 conv=notrunc status=none" \
		"$T/cu.b" "printf b | dd of='$VB/$p/boot.wim' bs=1 seek=1 conv=notrunc status=none"
	[ $ra = 0 ] || bad "copy-up $r: the write through a failed: $(cat "$T/cu.a")"
	[ $rb = 0 ] || bad "copy-up $r: the write through b failed: $(cat "$T/cu.b")"
	f=$SA/$p/boot.wim
	size=$(on stat -c %s "$f" 2>/dev/null)
	head2=$(on head -c 2 "$f" 2>/dev/null)
	if [ $ra = 0 ] && [ $rb = 0 ]; then
		[ "$size" = $SZ ] || bad "copy-up $r: the store's copy has ${size:-no} bytes (want $SZ)"
		[ "$head2" = ab ] || bad "copy-up $r: the store's copy starts '$head2' (want 'ab': both writes in one copy)"
	fi
	if [ -n "$size" ]; then # whatever happened, never a mix of the two versions
		v=$(on sh -c "tail -c +3 '$f' | tr -s AB | head -c 3")
		case $v in A) wins_a=$((wins_a + 1)) ;; B) wins_b=$((wins_b + 1)) ;; *) bad "copy-up $r: the store's copy mixes the versions or is torn ('$v')" ;; esac
	fi
	[ -z "$(temps "$SA/$p")" ] || bad "copy-up $r: temporaries left: $(temps "$SA/$p")"
done
ok "copy-up by both hosts at once, $ROUNDS rounds: the store kept a's version $wins_a times, b's $wins_b times"
on sh -c "rm -rf '$T'/a/local/$IMG/PKGCU* '$T'/b/local/$IMG/PKGCU*" # not migrate's business

# ---- a folder made on the store by both hosts at once ------------------------------------------
# PKGMDnnn exists on both local read-only drives only; both hosts create a file in it at the
# same moment, so both views make the folder on the store (a copy-up of the folder) at once.
# Two GlusterFS clients' mkdir of one name at once sometimes leaves no folder at all (both
# get ENOENT opening it; 7 of 300 rounds measured): the view must make it again, and both
# creates succeed. MKDIR_ROUNDS rounds (a round is ~0.1 s).
MKDIR_ROUNDS=${TWO_WRITERS_MKDIR_ROUNDS:-150}
[ "${PXE_TEST_SHORT:-}" = 1 ] && MKDIR_ROUNDS=30
md_bad=0
for ((r = 1; r <= MKDIR_ROUNDS; r++)); do
	p=PKGMD$(printf %03d $r)
	on mkdir -p "$T/a/local/$IMG/$p" "$T/b/local/$IMG/$p"
	for k in $(seq 100); do on test -d "$VA/$p" && on test -d "$VB/$p" && break; sleep 0.05; done
	at_once "$T/md.a" "echo a >'$VA/$p/a.txt'" "$T/md.b" "echo b >'$VB/$p/b.txt'"
	if [ $ra != 0 ] || [ $rb != 0 ]; then
		md_bad=$((md_bad + 1))
		[ $md_bad -le 3 ] && bad "folder $r: a create failed (a: exit $ra $(cat "$T/md.a"); b: exit $rb $(cat "$T/md.b"))"
	else # through a's mount of the store: b's file within GlusterFS's 1 s window (3 s allowed)
		for k in $(seq 60); do
			ca=$(on cat "$SA/$p/a.txt" 2>&1) cb=$(on cat "$SA/$p/b.txt" 2>&1)
			[ "$ca" = a ] && [ "$cb" = b ] && break
			sleep 0.05
		done
		if [ "$ca" != a ] || [ "$cb" != b ]; then
			md_bad=$((md_bad + 1))
			[ $md_bad -le 3 ] && bad "folder $r: both creates succeeded but after 3 s the store has a.txt '$ca', b.txt '$cb' (want a, b): $(on ls -a "$SA/$p" 2>&1 | tr '\n' ' ')"
		fi
	fi
done
[ $md_bad = 0 ] && ok "a folder made on the store by both hosts at once, $MKDIR_ROUNDS rounds: every create succeeded and is on the store" ||
	bad "a folder made on the store by both hosts at once: $md_bad of $MKDIR_ROUNDS rounds failed"
on sh -c "rm -rf '$T'/a/local/$IMG/PKGMD* '$T'/b/local/$IMG/PKGMD*"

# ---- migrate to the store from both hosts at once ----------------------------------------------
# PKGMI00r (two files, 2 MiB each) on both local drives, a different version on each; `migrate
# --to S --from L` on both hosts at once. The runs exclude each other by migrate's lock (an
# flock on a file on S's root: shared by GlusterFS's clients, unlike one on the root folder):
# each run ends with 0, 2 (refused: the other runs) or 3 (the other's copy is there, another
# version: a conflict); every file is on the store, complete, one version; no temporary left;
# a second run has nothing to do (0) or the same conflict (3). TWO_WRITERS_MIGRATE_AT_ONCE=no
# runs them one after the other instead.
AT_ONCE=${TWO_WRITERS_MIGRATE_AT_ONCE:-yes}
declare -A MIG_RC=()
for ((r = 1; r <= ROUNDS; r++)); do
	p=PKGMI00$r
	for h in a b; do
		on mkdir -p "$T/$h/local/$IMG/$p"
		L=$( [ $h = a ] && echo A || echo B)
		fill "$T/$h/local/$IMG/$p/boot.wim" "$L" "$SZ"
		fill "$T/$h/local/$IMG/$p/boot.sdi" "$L" "$SZ"
		on touch -d '2020-01-01 00:00:00' "$T/$h/local/$IMG/$p/boot.wim" "$T/$h/local/$IMG/$p/boot.sdi"
	done
	on "$PXE" migrate --to S --from L -c "$T/a/pxe.conf" >"$T/mig.a" 2>&1 &
	ma=$!
	[ "$AT_ONCE" = yes ] || { wait $ma; ra=$?; }
	on "$PXE" migrate --to S --from L -c "$T/b/pxe.conf" >"$T/mig.b" 2>&1 &
	mb=$!
	[ "$AT_ONCE" = yes ] && { wait $ma; ra=$?; }
	wait $mb; rb=$?
	MIG_RC[$ra/$rb]=$((${MIG_RC[$ra/$rb]:-0} + 1))
	for h in a b; do
		rc=$( [ $h = a ] && echo $ra || echo $rb)
		case $rc in
		0 | 3) ;;
		2) grep -q "another pxeimagesfs migrate is running on drive S" "$T/mig.$h" ||
			bad "migrate $r on $h: exit 2 for another reason than the other run: $(tail -2 "$T/mig.$h")" ;;
		*) bad "migrate $r on $h: exit $rc: $(tail -3 "$T/mig.$h")" ;;
		esac
	done
	for f in boot.wim boot.sdi; do
		size=$(on stat -c %s "$SA/$p/$f" 2>/dev/null)
		[ "$size" = $SZ ] || { bad "migrate $r: $p/$f on the store has ${size:-no} bytes (want $SZ; a: exit $ra, b: exit $rb: $(grep -m1 FAILED "$T/mig.a"))"; continue; }
		v=$(on sh -c "tr -s AB <'$SA/$p/$f' | head -c 3")
		[ "$v" = A ] || [ "$v" = B ] || bad "migrate $r: $p/$f mixes the versions or is torn ('$v')"
	done
	[ -z "$(temps "$SA")" ] || bad "migrate $r: temporaries left: $(temps "$SA")"
	on test -f "$T/a/store/.pxeimagesfs-migrate.lock" && ! on test -L "$T/a/store/.pxeimagesfs-migrate.lock" ||
		bad "migrate $r: no lock file on the store's root"
	for h in a b; do
		on "$PXE" migrate --to S --from L -c "$T/$h/pxe.conf" >"$T/again.$h" 2>&1
		rc=$?
		[ $rc = 0 ] || [ $rc = 3 ] || bad "migrate $r: a second run on $h: exit $rc: $(tail -2 "$T/again.$h")"
	done
done
ok "migrate from both hosts ($( [ "$AT_ONCE" = yes ] && echo at once || echo one after the other)), $ROUNDS rounds; exit statuses (a/b: rounds): $(for k in "${!MIG_RC[@]}"; do printf '%s: %s  ' "$k" "${MIG_RC[$k]}"; done)"

# ---- a rename through a, seen through b ------------------------------------------------------------
on mkdir "$VA/PKGRN001" && on sh -c "echo one >'$VA/PKGRN001/f.wim'" || fail "write through a"
seen_in "$VB/PKGRN001/f.wim" 4 || fail "a's new file not seen through b in 5 s"
ino_a=$(on stat -c %i "$VA/PKGRN001/f.wim") ino_b=$(on stat -c %i "$VB/PKGRN001/f.wim")
[ "$ino_a" = "$ino_b" ] || bad "one file, two numbers: $ino_a through a, $ino_b through b"
ino_first=$ino_a
# Each rename is made and polled inside one shell of the namespace (a fork per poll would be
# the measure), every 10 ms for at most 15 s: when b's view has the new name, when it has lost
# the old one, and the same for b's own mount of the store (its client's caches, which the
# view cannot beat). The view may add at most 2 s to the store's own window.
worst=0 worst_store=0
for ((r = 1; r <= ROUNDS; r++)); do
	from=f$((r - 1)).wim to=f$r.wim
	[ $r = 1 ] && from=f.wim
	read -r vnew vold snew sold < <(on bash -c 'a=$1/PKGRN001 b=$2/PKGRN001 s=$3/PKGRN001
		t0=${EPOCHREALTIME/./}; mv "$a/$4" "$a/$5" || exit 2
		vn=- vo=- sn=- so=-
		while ms=$(((${EPOCHREALTIME/./} - t0) / 1000)); [ $ms -lt 15000 ]; do
			[ $vn = - ] && [ -e "$b/$5" ] && vn=$ms
			[ $vo = - ] && [ ! -e "$b/$4" ] && vo=$ms
			[ $sn = - ] && [ -e "$s/$5" ] && sn=$ms
			[ $so = - ] && [ ! -e "$s/$4" ] && so=$ms
			[ $vn$vo$sn$so = "${vn//-/}${vo//-/}${sn//-/}${so//-/}" ] && break
			sleep 0.01
		done
		echo $vn $vo $sn $so' rn "$VA" "$VB" "$T/b/store/$IMG" "$from" "$to")
	[ -n "${vnew:-}" ] || fail "rename $r through a"
	echo "  rename $r through a: b's view has the new name after $vnew ms, the old one gone after $vold ms; b's mount of the store: $snew and $sold ms"
	case $vnew$vold$snew$sold in *-*) bad "rename $r through a not seen through b in 15 s"; continue ;; esac
	v=$((vnew > vold ? vnew : vold)) st=$((snew > sold ? snew : sold))
	[ $v -gt $worst ] && worst=$v
	[ $st -gt $worst_store ] && worst_store=$st
	[ $v -le $((st + 2000)) ] || bad "rename $r: b's view took $v ms, its mount of the store $st ms (the view adds over 2 s)"
done
ok "a rename through a seen through b after at most $worst ms; b's mount of the store alone: at most $worst_store ms ($ROUNDS renames, polled every 10 ms)"
ino_a=$(on stat -c %i "$VA/PKGRN001/f$ROUNDS.wim") ino_b=$(on stat -c %i "$VB/PKGRN001/f$ROUNDS.wim")
ino_s=$(on stat -c %i "$T/a/store/$IMG/PKGRN001/f$ROUNDS.wim") ino_t=$(on stat -c %i "$T/b/store/$IMG/PKGRN001/f$ROUNDS.wim")
echo "  file ids after the renames (path numbers): st_ino $ino_a through a's view, $ino_b through b's; the store's own $ino_s (a's mount), $ino_t (b's)"
# path numbers, as before 'inode numbers' existed: a keeps the number through its renames, b
# numbers the file by its new path
[ "$ino_a" = "$ino_first" ] || bad "path numbers: the file renamed through a changed its number on a: $ino_first, then $ino_a"
[ "$ino_b" != "$ino_a" ] || bad "path numbers: b gives the file renamed through a a's kept number $ino_a (b never saw the rename)"
# stop_view HOST -- end host's daemon (its PID), wait up to 10 s
stop_view() {
	kill "${DAEMON[$1]}" && timeout 10 tail -s 0.05 --pid="${DAEMON[$1]}" -f /dev/null || fail "$1's daemon did not stop"
	for k in $(seq 100); do on grep -q " $T/$1/view fuse.pxeimagesfs" /proc/mounts || return 0; sleep 0.1; done
	fail "$1's view still mounted after its daemon stopped"
}
stop_view a
start_view a
ino_a=$(on stat -c %i "$VA/PKGRN001/f$ROUNDS.wim") ino_b=$(on stat -c %i "$VB/PKGRN001/f$ROUNDS.wim")
echo "  after a's daemon restarted: st_ino $ino_a through a's view, $ino_b through b's"
[ "$ino_a" = "$ino_first" ] || bad "path numbers: after a's restart the renamed file's number on a is $ino_a, not $ino_first (the inode map)"

# ---- file ids with 'inode numbers = drive' on the store --------------------------------------------
# Both daemons restarted with the key on S: numbers from the store's own st_ino, the same on
# every host whoever renamed the entry.
BAD_BEFORE=$BAD
for h in a b; do
	stop_view $h
	on sed -i 's/^    priority = 20$/    priority = 20\n    inode numbers = drive/' "$T/$h/pxe.conf"
	on grep -q '^    inode numbers = drive$' "$T/$h/pxe.conf" || fail "$h: the key not set"
	on "$PXE" config check -c "$T/$h/pxe.conf" >"$T/check.$h" 2>&1 || fail "$h: config check: $(cat "$T/check.$h")"
	grep -q "drive S: .*inode numbers from the drive" "$T/check.$h" || bad "$h: config check does not show the key: $(cat "$T/check.$h")"
	start_view $h
done
# wait_name PATH [gone] -- up to 5 s until PATH exists (gone: no longer exists)
wait_name() {
	local k
	for k in $(seq 100); do
		if [ "${2:-}" = gone ]; then on test -e "$1" || return 0; else on test -e "$1" && return 0; fi
		sleep 0.05
	done
	return 1
}
# same_ino WHAT A-PATH B-PATH [WANT] -- st_ino through a's and b's views equal (and WANT)
same_ino() {
	local a b
	a=$(on stat -c %i "$2" 2>/dev/null) b=$(on stat -c %i "$3" 2>/dev/null)
	echo "  drive numbers, $1: st_ino $a through a's view, $b through b's${4:+ (want $4)}"
	[ -n "$a" ] && [ "$a" = "$b" ] || bad "drive numbers, $1: st_ino ${a:-none} through a, ${b:-none} through b"
	[ -z "${4:-}" ] || [ "$a" = "$4" ] || bad "drive numbers, $1: st_ino $a, not $4 as before"
}
on mkdir "$VA/PKGFI001" && on sh -c "echo one >'$VA/PKGFI001/f.wim'" || fail "write through a (drive numbers)"
wait_name "$VB/PKGFI001/f.wim" || fail "a's new file not seen through b in 5 s (drive numbers)"
same_ino "a new file" "$VA/PKGFI001/f.wim" "$VB/PKGFI001/f.wim"
fino=$(on stat -c %i "$VA/PKGFI001/f.wim") dino=$(on stat -c %i "$VA/PKGFI001")
same_ino "a new folder" "$VA/PKGFI001" "$VB/PKGFI001" "$dino"
on mv "$VA/PKGFI001/f.wim" "$VA/PKGFI001/g.wim" || fail "rename a file through a"
wait_name "$VB/PKGFI001/g.wim" && wait_name "$VB/PKGFI001/f.wim" gone || bad "the file renamed through a not seen through b in 5 s"
same_ino "a file renamed through a" "$VA/PKGFI001/g.wim" "$VB/PKGFI001/g.wim" "$fino"
on mv "$VA/PKGFI001" "$VA/PKGFI002" || fail "rename a folder through a"
wait_name "$VB/PKGFI002/g.wim" && wait_name "$VB/PKGFI001" gone || bad "the folder renamed through a not seen through b in 5 s"
same_ino "a folder renamed through a" "$VA/PKGFI002" "$VB/PKGFI002" "$dino"
same_ino "the file in it" "$VA/PKGFI002/g.wim" "$VB/PKGFI002/g.wim" "$fino"
lsb=$(on ls -i "$VB/PKGFI002" | awk '$2 == "g.wim" { print $1 }')
[ "$lsb" = "$fino" ] || bad "drive numbers: ls -i through b gives g.wim ${lsb:-no number}, stat $fino"
stop_view a
start_view a
same_ino "the folder after a's daemon restarted" "$VA/PKGFI002" "$VB/PKGFI002" "$dino"
same_ino "the file after a's daemon restarted" "$VA/PKGFI002/g.wim" "$VB/PKGFI002/g.wim" "$fino"
on mv "$SA/PKGFI002/g.wim" "$SA/PKGFI002/h.wim" || fail "rename on the store"
wait_name "$VA/PKGFI002/h.wim" && wait_name "$VB/PKGFI002/h.wim" && wait_name "$VA/PKGFI002/g.wim" gone &&
	wait_name "$VB/PKGFI002/g.wim" gone || bad "the rename on the store not seen through both views in 5 s"
same_ino "the file renamed on the store" "$VA/PKGFI002/h.wim" "$VB/PKGFI002/h.wim" "$fino"
# a folder on the store and on a's local drive (not b's): the store's number (it ranks higher)
on mkdir "$SA/PKGFI003" "$T/a/local/$IMG/PKGFI003" || fail "a merged folder"
wait_name "$VA/PKGFI003" && wait_name "$VB/PKGFI003" || bad "the folder made on the store not seen through the views in 5 s"
same_ino "a folder on the store and on a's local drive" "$VA/PKGFI003" "$VB/PKGFI003"
# a file only a's read-only local drive holds (L keeps path numbers), written through a: copied
# up to the store, a new file there with the store's number (GlusterFS refuses copy-up's
# landing, docs/scale-out.md: dir only)
if [ "$STORE" = dir ]; then
	on mkdir "$T/a/local/$IMG/PKGFI004" && on sh -c "echo old >'$T/a/local/$IMG/PKGFI004/c.wim'" || fail "a file on a's local drive"
	wait_name "$VA/PKGFI004/c.wim" || bad "a's local file not in a's view in 5 s"
	lino=$(on stat -c %i "$VA/PKGFI004/c.wim")
	on sh -c "printf new | dd of='$VA/PKGFI004/c.wim' bs=1 conv=notrunc status=none" || bad "the write through a (copy-up) failed"
	wait_name "$VB/PKGFI004/c.wim" || bad "the copied-up file not seen through b in 5 s"
	t0=$(date +%s%N)
	for k in $(seq 100); do [ "$(on stat -c %i "$VA/PKGFI004/c.wim")" != "$lino" ] && break; sleep 0.05; done
	echo "  drive numbers: a's view gave the copied-up file its new number after $(ms_since "$t0") ms"
	same_ino "a file copied up from a's local drive" "$VA/PKGFI004/c.wim" "$VB/PKGFI004/c.wim"
	[ "$(on stat -c %i "$VA/PKGFI004/c.wim")" != "$lino" ] || bad "drive numbers: the copied-up file kept its local drive's path number $lino"
fi
[ $BAD = "$BAD_BEFORE" ] && ok "file ids with 'inode numbers = drive': a file and a folder renamed through a, after a's restart, after a rename on the store, a merged folder$( [ "$STORE" = dir ] && echo ", a copy-up"): the same st_ino through both views"

[ $BAD = 0 ] || fail "$STORE: $BAD checks failed (see above)"
echo "two_writers ($STORE): all checks passed in $((SECONDS - START)) s"
