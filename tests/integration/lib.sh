#!/bin/bash
# lib.sh -- helpers the integration scripts source: how a check fails, skips or passes; a view's
# drives, config and mount (drive_sections, view_conf, view_start); a Samba of the test's own
# (smb_private_conf, smbd_start). A helper that cannot do its work fails the test (fail), so it
# is called in the script's own shell, never in a $(...).
# A missing prerequisite skips (exit 77, ctest's SKIP_RETURN_CODE) except under CI=true, where
# it fails: CI must run every integration test.

fail() { echo "FAIL: $*" >&2; exit 1; }
need() {
	if [ "${CI:-}" = true ]; then fail "$* (CI=true: a missing prerequisite is a failure)"; fi
	echo "SKIPPED: $*" >&2; exit 77
}
ok() { echo "ok - $*"; }

# need_root_fuse -- root (to mount tmpfs and FUSE) and /dev/fuse
need_root_fuse() {
	[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs and FUSE"
	[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
}

# need_tools TOOL:PACKAGE... -- each TOOL on PATH, else need() naming its Debian package
need_tools() {
	local tool
	for tool in "$@"; do
		command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
	done
}

# Two tmpfs drives and a view, for the scripts that need nothing more:
# view_sandbox NAME -- T (mktemp -d), IMG, V (the view's images folder), C and D (the drives'),
# tmpfs mounted at $T/c and $T/d, everything undone at exit.
view_sandbox() {
	T=$(mktemp -d "/tmp/pxeimagesfs-$1.XXXXXX") || fail "mktemp"
	IMG=RemoteInstall/SMSImages/SMSPKG
	V=$T/view/$IMG C=$T/c/$IMG D=$T/d/$IMG
	VIEW_PID=
	trap view_cleanup EXIT
	mkdir -p "$T/c" "$T/d" "$T/view" || fail "mkdir"
	mount -t tmpfs -o size=256m pxe-c "$T/c" && mount -t tmpfs -o size=256m pxe-d "$T/d" ||
		fail "cannot mount tmpfs"
	mkdir -p "$C" "$D"
}
# A daemon that does not stop (hung, stopped) must not end the cleanup half-way: view_stop's
# failure is reported, then the view's FUSE connection is aborted, the daemon killed, and the
# mounts undone (lazily when busy); nothing below a mount left in place is removed.
view_cleanup() {
	local m
	view_stop_or_kill
	grep -q " $T/view " /proc/self/mountinfo && { fusermount3 -u "$T/view" 2>/dev/null || fusermount3 -uz "$T/view"; }
	for m in "$T/c" "$T/d"; do grep -q " $m " /proc/self/mountinfo && { umount "$m" 2>/dev/null || umount -l "$m"; }; done
	rm -rf --one-file-system "$T"
}
# view_stop_or_kill -- view_stop for a cleanup (never fails): a daemon that does not stop is
# reported, its FUSE connection aborted and the daemon killed
view_stop_or_kill() {
	[ -n "$VIEW_PID" ] || return 0
	if ! (view_stop); then
		view_abort
		kill -KILL "$VIEW_PID" 2>/dev/null
		kill -CONT "$VIEW_PID" 2>/dev/null
		timeout 10 tail -s 0.05 --pid="$VIEW_PID" -f /dev/null
	fi
	VIEW_PID=
}
# view_abort -- aborts the FUSE connection of the view at $T/view (every request waiting on it
# fails at once)
view_abort() {
	local majmin
	majmin=$(awk -v mp="$T/view" '$5 == mp { print $3; exit }' /proc/self/mountinfo)
	[ -n "$majmin" ] && [ -w "/sys/fs/fuse/connections/${majmin#*:}/abort" ] &&
		echo 1 >"/sys/fs/fuse/connections/${majmin#*:}/abort"
	return 0
}
# drive_sections VAR NAME:PATH[:PRIORITY[:ro|:rw]]... -- sets VAR to the [drive:NAME] sections
# of a config, in order: the path, the priority when given, and `read only = yes` (ro) or `no`
# (rw) when given. A bad SPEC fails the test (VAR, not a $(...), so that the failure is not lost
# in a subshell).
drive_sections() {
	local var=$1 spec name path prio ro rest text=
	shift
	for spec in "$@"; do
		IFS=: read -r name path prio ro rest <<<"$spec"
		[ -n "$name" ] && [ -n "$path" ] && [ -z "$rest" ] ||
			fail "drive_sections: '$spec' is not NAME:PATH[:PRIORITY[:ro|:rw]]"
		text+="[drive:$name]"$'\n'"    path = $path"$'\n'
		[ -z "$prio" ] || text+="    priority = $prio"$'\n'
		case $ro in
		ro) text+="    read only = yes"$'\n' ;;
		rw) text+="    read only = no"$'\n' ;;
		"") ;;
		*) fail "drive_sections: '$ro' in '$spec' is neither ro nor rw" ;;
		esac
	done
	printf -v "$var" '%s' "${text%$'\n'}"
}
# view_conf DRIVE_SECTIONS [GLOBAL_LINES [SHARE_LINES]] -- writes $T/pxe.conf: the view at
# $T/view, its state and run directories under $T, GLOBAL_LINES, the drives, and [share] with
# SHARE_LINES (default `samba = none`)
view_conf() {
	cat >"$T/pxe.conf" <<CONF || fail "cannot write $T/pxe.conf"
[global]
    mountpoint = $T/view
    state directory = $T/state
    run directory = $T/run
${2:-}
$1
[share]
${3:-    samba = none}
CONF
}
# view_start BIN DRIVE_SECTIONS [GLOBAL_LINES [ENV=VALUE...]] -- view_conf (union, no rescan;
# the [share] lines in VIEW_SHARE, default samba = none), then view_mount BIN ENV...
view_start() {
	local bin=$1 drives=$2 extra=${3:-}
	shift 3 2>/dev/null || shift $#
	view_conf "$drives" "    mode = union
    rescan interval = 0
$extra" "${VIEW_SHARE:-}"
	view_mount "$bin" "$@"
}
# view_mount BIN [ENV=VALUE...] -- mount -f of $T/pxe.conf in the background, in the
# environment's passthrough mode (tests/run.sh runs the suite once with
# PXEIMAGESFS_PASSTHROUGH=no) unless ENV says otherwise (a test of both modes passes
# PXEIMAGESFS_PASSTHROUGH=yes for "as the kernel offers it"); waits up to 10 s
# (VIEW_MOUNT_SECONDS) for the mount and its status file
view_mount() {
	local bin=$1 i
	shift
	env "$@" "$bin" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
	VIEW_PID=$!
	for ((i = 0; i < ${VIEW_MOUNT_SECONDS:-10} * 20; i++)); do
		grep -q " $T/view .* - fuse.pxeimagesfs " /proc/self/mountinfo &&
			[ -n "$(view_status_file)" ] && return 0
		kill -0 "$VIEW_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/log" >&2
	fail "the view did not mount"
}
# loop_attach IMAGE [LOSETUP OPTIONS...] -- LOOP: a loop device of IMAGE (need() when there is
# none); loop_detach -- for a cleanup: unmounts $T/e (where the tests mount it) and detaches LOOP
LOOP=
loop_attach() {
	LOOP=$(losetup -f --show "${@:2}" "$1" 2>"$T/losetup.err") || need "no loop device: $(cat "$T/losetup.err")"
}
loop_detach() {
	grep -q " $T/e " /proc/self/mountinfo && umount "$T/e"
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	LOOP=
}
# mounts_under -- the mount points under $T, in mount order (everything there was mounted by
# the test)
mounts_under() { awk -v p="$T/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo; }
# mounts_at MP -- "FSTYPE SOURCE SUPER_OPTIONS" of every mount at exactly MP
mounts_at() {
	awk -v mp="$1" '$5 == mp { for (i = 7; i < NF; i++) if ($i == "-") {
		print $(i + 1), $(i + 2), $(i + 3); break } }' /proc/self/mountinfo
}
view_mounted() { mounts_at "$1" | grep -q '^fuse\.pxeimagesfs '; }
# wait_mounted MP [PID] -- up to 10 s for a pxeimagesfs mount at MP (PID: give up if it exits);
# 1 when there is none (the caller says what failed)
wait_mounted() {
	local i
	for ((i = 0; i < 200; i++)); do
		view_mounted "$1" && return 0
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then return 1; fi
		sleep 0.05
	done
	return 1
}
# view_stop -- SIGTERM, and up to 10 s for the daemon to exit (tail -s 0.05 --pid: checked every
# 50 ms; tail's default second was most of every stop's time)
view_stop() {
	kill "$VIEW_PID" 2>/dev/null
	timeout 10 tail -s 0.05 --pid="$VIEW_PID" -f /dev/null || {
		local t
		for t in /proc/"$VIEW_PID"/task/*; do
			echo "# thread ${t##*/} $(cat "$t/comm" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null): $(tr '\n' ' ' <"$t/stack" 2>/dev/null | cut -c1-300)" >&2
		done
		fail "mount -f still running 10 s after SIGTERM"
	}
	VIEW_PID=
}
# threads_take_stop_signals PID -- prints the threads of PID, other than its main thread, that
# do not block SIGINT and SIGTERM. libfuse's handler runs in whichever thread the kernel picks
# and only the main thread's wait is woken by it: a stop signal taken by another thread leaves
# the daemon running until the next FUSE request.
threads_take_stop_signals() {
	local t blk
	for t in /proc/"$1"/task/*; do
		[ "${t##*/}" = "$1" ] && continue
		blk=$(awk '/^SigBlk:/ { print $2 }' "$t/status" 2>/dev/null) || continue
		[ -n "$blk" ] || continue
		(((0x$blk & 0x4002) == 0x4002)) || echo "${t##*/}($(cat "$t/comm" 2>/dev/null))"
	done
}
# stop_checked -- view_stop, then the daemon's log must hold no sanitizer report
stop_checked() {
	view_stop
	! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/log" ||
		fail "the daemon's sanitizers reported: $(grep -E -m3 -A8 'Sanitizer|runtime error:' "$T/log")"
}
# view_forget -- make the kernel forget every unused name and inode of the view, and see that
# it did: the daemon's node count falls to the images path's own folders at most (MODE names
# the run in the failure)
view_forget() {
	local n i
	for ((i = 0; i < 20; i++)); do
		sync
		echo 2 >/proc/sys/vm/drop_caches
		n=$(view_status "s['counters']['nodes']")
		[ "$n" -le 3 ] && return 0
		sleep 0.1
	done
	fail "${MODE:-}: the kernel did not forget the view's entries (the daemon still has $n nodes)"
}
# both_modes FN -- FN MODE ENV for each data path, the suite's own (PXEIMAGESFS_PASSTHROUGH)
# first: "passthrough PXEIMAGESFS_PASSTHROUGH=yes" and "no-passthrough ...=no"
both_modes() {
	if [ "${PXEIMAGESFS_PASSTHROUGH:-}" = no ]; then
		"$1" no-passthrough PXEIMAGESFS_PASSTHROUGH=no
		"$1" passthrough PXEIMAGESFS_PASSTHROUGH=yes
	else
		"$1" passthrough PXEIMAGESFS_PASSTHROUGH=yes
		"$1" no-passthrough PXEIMAGESFS_PASSTHROUGH=no
	fi
}
# now_ms -- the wall clock in milliseconds
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# miss PATH: the view says PATH is missing, twice (the second answer from the kernel's cache)
miss() {
	stat "$1" >/dev/null 2>&1 && fail "$1 exists before the check made it"
	stat "$1" >/dev/null 2>&1 && fail "$1 exists before the check made it"
	return 0
}
# stop_pid PID -- SIGTERM, up to 5 s, then SIGKILL (a process the test started)
stop_pid() {
	local i
	kill "$1" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	kill -KILL "$1" 2>/dev/null
}
view_status_file() { ls "$T"/run/*.json 2>/dev/null | head -1; }
# view_status EXPR -- a fresh status file (SIGUSR1 rewrites it), then the Python expression
# EXPR over it as `s`
view_status() {
	local f i
	f=$(view_status_file)
	rm -f "$f"
	kill -USR1 "$VIEW_PID"
	for ((i = 0; i < 100; i++)); do [ -f "$f" ] && break; sleep 0.02; done
	python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($1)" "$f"
}

# ---- Samba of the test's own ----------------------------------------------------------------
# listening PORT -- something accepts TCP connections on 127.0.0.1:PORT
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# smb_private_conf FILE DIR [GLOBAL_LINES] -- writes FILE, the [global] of an smb.conf that keeps
# Samba inside DIR (pid, lock, state, cache, private, ncalrpc and binddns directories, made
# here; passdb and log), a standalone server without printers, then GLOBAL_LINES; the caller
# appends its shares. Never the system's smb.conf.
smb_private_conf() {
	local file=$1 dir=$2 extra=${3:-}
	mkdir -p "$dir"/{pid,lock,state,cache,private,ncalrpc,bind-dns} || fail "mkdir $dir/..."
	cat >"$file" <<CONF || fail "cannot write $file"
[global]
	server role = standalone server
	pid directory = $dir/pid
	lock directory = $dir/lock
	state directory = $dir/state
	cache directory = $dir/cache
	private dir = $dir/private
	ncalrpc dir = $dir/ncalrpc
	binddns dir = $dir/bind-dns
	passdb backend = tdbsam:$dir/private/passdb.tdb
	log file = $dir/log.smbd
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
$extra
CONF
}
# smbd_start CONF PORT LOG -- smbd on CONF in the background (SMBD_PID; the caller stops it), in
# a session of its own (smbd signals its whole process group as it exits, which must not be
# ours); waits up to 20 s for 127.0.0.1:PORT, else fails with LOG (smbd's output). A PORT that
# already listens fails at once: another server there (a leftover of an earlier run) would
# answer for ours, which cannot bind, and the test would talk to the wrong smbd.
smbd_start() {
	local i
	! listening "$2" || fail "127.0.0.1:$2 is already in use (a leftover smbd? $(ss -Hltnp "sport = :$2" 2>/dev/null | grep -o 'users:.*'))"
	setsid smbd --foreground --no-process-group --configfile="$1" </dev/null >"$3" 2>&1 &
	SMBD_PID=$!
	for ((i = 0; i < 400; i++)); do
		listening "$2" && return 0
		kill -0 "$SMBD_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$3" >&2
	fail "smbd on $1 does not listen on 127.0.0.1:$2"
}
# private_smbd_kill -- the private smbd of the view's daemon (samba = private, state directory
# $T/state), by its pid file: only for a cleanup after the daemon failed to stop it. The file
# outlives an smbd killed with -9 and its pid can be anyone's by now: only a process whose
# command line names our private smb.conf is signalled.
private_smbd_kill() {
	local pid
	pid=$(cat "$T/state/samba/pid/smbd.pid" 2>/dev/null) && [[ $pid =~ ^[1-9][0-9]*$ ]] || return 0
	tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" |
		grep -qxF -- "--configfile=$T/state/samba/smb.conf" && kill "$pid" 2>/dev/null
	return 0
}
# our_samba -- the Samba processes running on a config under $T (smbd, and the samba-dcerpcd
# and rpcd_* helpers smbd starts on demand, which leave its process group): pids, helpers first
our_samba() {
	local p cmd args
	for p in /proc/[0-9]*; do
		{ mapfile -d '' args <"$p/cmdline"; } 2>/dev/null || continue # no fork per process
		cmd="${args[*]} "
		case "$cmd" in
		"smbd "*" --configfile=$T/"*) echo "9 ${p#/proc/}" ;;
		*" --configfile=$T/"*) echo "1 ${p#/proc/}" ;;
		esac
	done | sort -n | cut -d' ' -f2
}
# nginx_start DIR INCLUDE PORT WORKERS -- nginx in the foreground on DIR/nginx.conf (written
# here: pid, logs and temporaries in DIR, run as www-data, INCLUDE inside http {}), its pid in
# NGINX_PID and appended to PIDS (the caller's cleanup stops it); fails unless it listens on
# 127.0.0.1:PORT within 5 s
nginx_start() {
	local dir=$1 include=$2 port=$3 workers=$4 i
	mkdir -p "$dir/tmp" || fail "mkdir $dir/tmp"
	cat >"$dir/nginx.conf" <<CONF || fail "cannot write $dir/nginx.conf"
daemon off;
user www-data;
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log off;
	default_type application/octet-stream;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	include $include;
}
CONF
	nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$dir/out" 2>&1 &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	for ((i = 0; i < 100; i++)); do listening "$port" && break; sleep 0.05; done
	listening "$port" && kill -0 "$NGINX_PID" 2>/dev/null ||
		fail "nginx does not listen on 127.0.0.1:$port: $(cat "$dir/out" "$dir/error.log")"
}
# lock_held_by_ancestor FILE -- a process above this script holds an flock on FILE (the test
# runs under `flock FILE ctest ...`): taking it again would wait 10 minutes for ourselves
lock_held_by_ancestor() {
	local ino holder p
	ino=$(stat -c %i "$1" 2>/dev/null) || return 1
	for holder in $(awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, f, ":"); if (f[n] == ino) print $5 }' /proc/locks); do
		for ((p = $$; p > 1; )); do
			[ "$p" = "$holder" ] && return 0
			p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
			[ -n "$p" ] || break
		done
	done
	return 1
}
# it_lock -- fd 9 holds an flock on /tmp/pxe-it.lock (the lock of tests that change system-wide
# state, here a sysctl), unless a process above this script holds it already (the test runs
# under `flock /tmp/pxe-it.lock ctest ...`: taking it again would wait 10 minutes for itself);
# the caller closes fd 9 when done
it_lock() {
	exec 9>/tmp/pxe-it.lock
	lock_held_by_ancestor /tmp/pxe-it.lock || flock -w 600 9 ||
		need "/tmp/pxe-it.lock held by others for 10 minutes"
}
