#!/bin/bash
# fstab.sh -- the fstab form, through mount(8) and mount.fuse3 as an administrator uses it:
#
#   none  MOUNTPOINT  fuse.pxeimagesfs  config=FILE,allow_other  0 0
#
# mount(8) runs /sbin/mount.fuse, which runs "pxeimagesfs none MOUNTPOINT -o OPTIONS" through
# /bin/sh; that mounts the view and daemonizes. Checked: `mount -t fuse.pxeimagesfs -o
# config=...,allow_other none MP` returns once the view is mounted (fuse.pxeimagesfs in
# mountinfo, allow_other passed through: another user reads a file), the daemon serves the
# drive's files and writes its status file; a second mount of the same mountpoint, by either
# form, is refused with a clear message and leaves the first one working; `umount MP` unmounts
# and the daemon exits (status file removed); `mount -T FSTAB MP` (the `mount /srv/pxeimages`
# path, the fstab line read by mount(8)) mounts it again and `umount` ends it again.
#
# mount(8) runs its helpers with PATH removed, so /bin/sh looks the program up in its default
# PATH (/usr/local/sbin:...:/bin), never in the caller's. The test therefore runs in a private
# mount namespace (unshare) where a directory holding a `pxeimagesfs` symlink to the binary is
# bind-mounted over /usr/local/sbin: nothing is installed on the host, and the drives and the
# view are invisible outside the test.
# Needs root, /dev/fuse, unshare (util-linux), mount.fuse3 (fuse3), setpriv (util-linux).
# Exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
# shellcheck disable=SC2016 # single-quoted scripts for sh -c
# shellcheck disable=SC2317 # functions called from traps
set -u
BIN=${1:?usage: fstab.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

# alive PID: running (a zombie waiting for its reaper, init, has exited)
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# pids of pxeimagesfs processes (the binary under test) whose command line names $CONF
our_daemons() {
	local p
	for p in /proc/[0-9]*; do
		[ "$p/exe" -ef "$BIN" ] || continue # the same file (stat, no fork per process)
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -e "config=$CONF" -e "$CONF" &&
			echo "${p#/proc/}"
	done
}

# ---- outside: prerequisites, the temporary directory, a private mount namespace -------------
if [ -z "${PXE_FSTAB_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs and FUSE"
	[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
	for tool in mount:mount umount:mount unshare:util-linux setpriv:util-linux \
		mount.fuse3:fuse3 sha256sum:coreutils timeout:coreutils awk:mawk; do
		command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
	done
	[ -x "$BIN" ] || fail "$BIN: not an executable"
	BIN=$(readlink -f "$BIN")
	unshare --mount --propagation private true 2>/dev/null ||
		need "cannot create a mount namespace (unshare --mount: $(unshare --mount true 2>&1))"

	T=$(mktemp -d /tmp/pxeimagesfs-fstab.XXXXXX) || fail "mktemp"
	CONF=$T/pxe.conf
	outer_cleanup() {
		local pid i
		# only when the inner part was killed before its own cleanup: a daemon of ours
		for pid in $(our_daemons); do
			echo "warning: killing leftover daemon $pid" >&2
			kill -KILL "$pid" 2>/dev/null
			for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.05; done
		done
		# the mounts lived in the private namespace: here $T holds plain directories
		rm -rf --one-file-system "$T"
	}
	trap outer_cleanup EXIT
	PXE_FSTAB_INNER=$T unshare --mount --propagation private -- "$BASH" "$0" "$BIN" &
	INNER=$!
	trap 'kill -TERM "$INNER" 2>/dev/null' TERM INT # the inner part cleans up, then exits
	wait "$INNER"
	rc=$?
	if kill -0 "$INNER" 2>/dev/null; then wait "$INNER"; rc=$?; fi
	exit "$rc"
fi

# ---- inside the private mount namespace ------------------------------------------------------
T=$PXE_FSTAB_INNER
CONF=$T/pxe.conf
FSTAB=$T/fstab
MP=$T/view
V=$MP/RemoteInstall/SMSImages/SMSPKG
m=${MP#/}
m=${m//-/\\x2d} # as systemd-escape --path: "-" is \x2d, then "/" is "-"
STATUS=$T/run/${m//\//-}.json

# mounts_under, mounts_at: lib.sh
views_at() { mounts_at "$1" | grep -c '^fuse\.pxeimagesfs '; }
# reads through the view are bounded: a hung daemon must not hang the test
sha() { timeout 10 sh -c 'sha256sum <"$1"' sh "$1" 2>/dev/null | cut -d' ' -f1; }
# wait_gone PID SECONDS
wait_gone() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do alive "$1" || return 0; sleep 0.05; done
	! alive "$1"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

cleanup() {
	local rc=$? i pid mps=()
	for pid in $(our_daemons); do kill -TERM "$pid" 2>/dev/null; done
	mapfile -t mps < <(mounts_under)
	for ((i = ${#mps[@]} - 1; i >= 0; i--)); do
		umount "${mps[i]}" 2>/dev/null || umount -l "${mps[i]}" 2>/dev/null ||
			echo "warning: cannot unmount ${mps[i]}" >&2
	done
	for pid in $(our_daemons); do
		wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# mount.fuse3 finds `pxeimagesfs` in /bin/sh's default PATH: a symlink in /usr/local/sbin, here
# only (the bind mount exists in this namespace alone)
SBIN=/usr/local/sbin
[ -d "$SBIN" ] || SBIN=/usr/local/bin
[ -d "$SBIN" ] || need "neither /usr/local/sbin nor /usr/local/bin exists to bind the binary over"
mkdir "$T/sbin" "$T/c" "$T/run" "$T/state" "$MP" || fail "mkdir under $T"
chmod 755 "$T" # allow_other is checked as another user
ln -s "$BIN" "$T/sbin/pxeimagesfs" || fail "symlink"
mount --bind "$T/sbin" "$SBIN" || need "cannot bind-mount $T/sbin over $SBIN in a private namespace"
mount -t tmpfs -o size=16m,mode=755 tmpfs "$T/c" || need "cannot mount tmpfs"
mkdir -p "$T/c/RemoteInstall/SMSImages/SMSPKG/PKG00001" &&
	head -c 262144 /dev/urandom >"$T/c/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.PKG00001.wim" &&
	chmod 644 "$T/c/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.PKG00001.wim" ||
	fail "writing the fixture on drive C"
WIM_SHA=$(sha "$T/c/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.PKG00001.wim")
WIM=$V/PKG00001/boot.PKG00001.wim
cat >"$CONF" <<CONF || fail "writing $CONF"
# fstab.sh: one tmpfs drive, no share; everything under $T
[global]
    mountpoint = $MP
    state directory = $T/state
    run directory = $T/run
    mount timeout = 0
    rescan interval = 1h
[drive:C]
    path = $T/c
[share]
    samba = none
CONF
printf 'none  %s  fuse.pxeimagesfs  config=%s,allow_other  0 0\n' "$MP" "$CONF" >"$FSTAB"

# checks_mounted HOW: the view at $MP is mounted, served by one daemon; sets DAEMON
checks_mounted() {
	local how=$1 got pids
	[ "$(views_at "$MP")" = 1 ] ||
		fail "$how: want one fuse.pxeimagesfs mount at $MP in mountinfo, have: '$(mounts_at "$MP")'"
	mounts_at "$MP" | grep -qE '[ ,]allow_other(,|$)' ||
		fail "$how: allow_other not among the mount's options: $(mounts_at "$MP")"
	got=$(sha "$WIM")
	[ "$got" = "$WIM_SHA" ] || fail "$how: $WIM reads wrong (sha256 '$got', want $WIM_SHA)"
	timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups cat "$WIM" 2>/dev/null |
		sha256sum | grep -q "^$WIM_SHA " ||
		fail "$how: user 65534 cannot read $WIM through the view (allow_other not passed through?)"
	pids=$(our_daemons)
	[ "$(echo "$pids" | grep -c .)" = 1 ] || fail "$how: want one daemon for $CONF, have: '$pids'"
	DAEMON=$pids
	[ -s "$STATUS" ] && grep -q "\"pid\": *$DAEMON\b" "$STATUS" ||
		fail "$how: no status file $STATUS naming pid $DAEMON"
	timeout 10 "$BIN" status -c "$CONF" >"$T/status.out" 2>&1 ||
		fail "$how: pxeimagesfs status exited $?: $(cat "$T/status.out")"
}

# checks_umount HOW: umount $MP unmounts it and the daemon exits
checks_umount() {
	local how=$1 t0
	t0=$(now_ms)
	timeout 20 umount "$MP" 2>"$T/umount.err" || fail "$how: umount $MP exited $?: $(cat "$T/umount.err")"
	[ "$(views_at "$MP")" = 0 ] || fail "$how: still mounted after umount: $(mounts_at "$MP")"
	wait_gone "$DAEMON" 10 || fail "$how: the daemon (pid $DAEMON) still runs 10 s after umount"
	[ ! -e "$STATUS" ] || fail "$how: the daemon left its status file $STATUS behind"
	[ -z "$(our_daemons)" ] || fail "$how: a daemon for $CONF still runs: $(our_daemons)"
	echo "# $how: unmounted, daemon gone after $(($(now_ms) - t0)) ms"
}

# -- 1. mount -t fuse.pxeimagesfs -o config=...,allow_other none MP
t0=$(now_ms)
timeout 30 mount -t fuse.pxeimagesfs -o "config=$CONF,allow_other" none "$MP" >"$T/mount.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "mount -t fuse.pxeimagesfs exited $rc: $(cat "$T/mount.out")"
echo "# mount -t fuse.pxeimagesfs returned after $(($(now_ms) - t0)) ms: $(head -c 300 "$T/mount.out")"
checks_mounted "mount -t"
ok "mount -t fuse.pxeimagesfs -o config=FILE,allow_other none MP: mounted, daemonized (pid $DAEMON), serves the drive (also to another user), status file written"

# -- 2. a second mount of the same mountpoint, by either form, is refused
FIRST=$DAEMON
for form in t T; do
	if [ "$form" = t ]; then
		timeout 30 mount -t fuse.pxeimagesfs -o "config=$CONF,allow_other" none "$MP" >"$T/again.out" 2>&1
	else
		timeout 30 mount -T "$FSTAB" "$MP" >"$T/again.out" 2>&1
	fi
	rc=$?
	msg=$(cat "$T/again.out")
	[ "$rc" != 0 ] || fail "a second mount -$form of $MP exited 0 ($msg)"
	grep -qF "already mounted" <<<"$msg" && grep -qF "$MP" <<<"$msg" ||
		fail "a second mount -$form of $MP: exit $rc without a clear message naming $MP: '$msg'"
	echo "# second mount -$form: exit $rc: $msg"
	checks_mounted "after the refused mount -$form"
	[ "$DAEMON" = "$FIRST" ] || fail "after the refused mount -$form the daemon is $DAEMON, was $FIRST"
done
ok "a second mount of $MP (mount -t and mount -T FSTAB) is refused with 'already mounted', the first view still serves"

# -- 3. umount: unmounted, the daemon exits
checks_umount "umount"
ok "umount MP: unmounted, the daemon exited and removed its status file"

# -- 4. the fstab line itself: mount -T FSTAB MP (what `mount /srv/pxeimages` does)
t0=$(now_ms)
timeout 30 mount -T "$FSTAB" "$MP" >"$T/mount.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "mount -T $FSTAB $MP exited $rc: $(cat "$T/mount.out")"
echo "# mount -T FSTAB returned after $(($(now_ms) - t0)) ms"
checks_mounted "mount -T FSTAB"
checks_umount "umount after mount -T"
ok "the fstab line ($(tr -s ' ' <"$FSTAB")) mounts through mount(8) and umount ends it"
echo "fstab: all checks passed"
