#!/bin/bash
# status_file.sh -- `pxeimagesfs status` treats the status file as data from the disk.
#
# With a view mounted and serving (healthy), its status file is replaced by hostile versions:
# truncated, garbage, empty, NUL bytes, trailing text, nested 100000 deep, 2 MiB of spaces,
# "pid" 0, -1, "abc", 1.5 or above the kernel's limit, "healthy" the string "false", "healthy"
# true beside degraded reasons, another mountpoint's status, counters that are not counts, a
# FIFO, a symlink to /dev/zero, a folder. Each must give exit 3 and "is corrupt" within 5 s
# (never "healthy", never a hang), saying that a view is mounted there; --json prints a JSON
# object then ("status": "unknown"). The real file back gives exit 0 again; a dead pid gives 2 ("is gone").
# Two views whose mountpoints differ only in '/' versus '-' (.../srv/pxe-images, degraded, and
# .../srv/pxe/images, healthy) share one run directory: each `status` shows its own view, and
# after the first stops cleanly the second is still reported serving.
# `status MOUNTPOINT` without any configuration file finds a view whose status file is in the
# default run directory (/run/pxeimagesfs).
# Runs in a private mount namespace (unshare) with a tmpfs over /run, so nothing shows on the
# host. Needs root, /dev/fuse, unshare, python3; exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2015 # `a && b || bad` is meant: bad unless both hold
# shellcheck disable=SC2317 # functions called from traps
set -u
BIN=${1:?usage: status_file.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

# ---- outside: prerequisites, the temporary directory, a private mount namespace -------------
if [ -z "${PXE_STATUS_INNER:-}" ]; then
	need_root_fuse
	need_tools unshare:util-linux timeout:coreutils python3:python3 mkfifo:coreutils
	[ -x "$BIN" ] || fail "$BIN: not an executable"
	BIN=$(readlink -f "$BIN")
	unshare --mount --propagation private true 2>/dev/null ||
		need "cannot create a mount namespace (unshare --mount: $(unshare --mount true 2>&1))"
	T=$(mktemp -d /tmp/pxeimagesfs-status.XXXXXX) || fail "mktemp"
	trap 'rm -rf --one-file-system "$T"' EXIT
	PXE_STATUS_INNER=$T timeout 300 unshare --mount --propagation private -- "$BASH" "$0" "$BIN"
	exit $?
fi

# ---- inside the private mount namespace ------------------------------------------------------
T=$PXE_STATUS_INNER
IMG=RemoteInstall/SMSImages/SMSPKG
PIDS=() # daemons started here
BAD=0
bad() { echo "FAIL: $*" >&2; BAD=$((BAD + 1)); }

cleanup() {
	local pid i m
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
	done
	for m in $(awk -v p="$T/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}
trap cleanup EXIT

mount -t tmpfs -o size=16m,mode=755 pxe-run /run || fail "cannot mount a tmpfs over /run"
mkdir -p "$T/c" "$T/srv/pxe-images" "$T/srv/pxe/images" "$T/offline" "$T/run" || fail mkdir
mount -t tmpfs -o size=16m pxe-c "$T/c" || fail "cannot mount tmpfs"
mkdir -p "$T/c/$IMG/PKG1" && echo image >"$T/c/$IMG/PKG1/boot.wim" || fail "fixture"

# start_view NAME MOUNTPOINT EXTRA_DRIVE_SECTION [RUN_DIRECTORY_LINE]: mount -f in the
# background (pid in VIEW), waiting up to 10 s for the mount and a status file naming it
start_view() {
	local name=$1 mp=$2 extra=$3 runline=${4-"    run directory = $T/run"} dir i
	dir=$(sed -n 's/^ *run directory = //p' <<<"$runline")
	cat >"$T/$name.conf" <<CONF
[global]
    mountpoint = $mp
    state directory = $T/state-$name
    mount timeout = 0
    rescan interval = 0
$runline
[drive:C]
    path = $T/c
$extra
[share]
    samba = none
CONF
	"$BIN" mount -f -c "$T/$name.conf" >"$T/$name.log" 2>&1 &
	VIEW=$!
	PIDS+=("$VIEW")
	for ((i = 0; i < 200; i++)); do
		grep -q " $mp .* - fuse.pxeimagesfs " /proc/self/mountinfo &&
			grep -qlF "\"$mp\"" "${dir:-/run/pxeimagesfs}"/*.json 2>/dev/null && return 0
		kill -0 "$VIEW" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/$name.log" >&2
	fail "the view $name did not mount at $mp"
}
stop_view() { # PID: SIGTERM, wait up to 10 s
	kill -TERM "$1"
	timeout 10 tail -s 0.05 --pid="$1" -f /dev/null || fail "mount -f $1 still running 10 s after SIGTERM"
}

# st NAME ARGS...: `pxeimagesfs status ARGS` (5 s at most), output in $T/NAME.out/.err, RC
st() {
	local name=$1
	shift
	timeout 5 "$BIN" status "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	RC=$?
}
show() { sed 's/^/# /' "$T/$1.out" "$T/$1.err" | head -n 12; }

# ---- one view, its status file made hostile --------------------------------------------------
MP=$T/srv/pxe/images
start_view b "$MP" ""
VB=$VIEW
F=$(ls "$T"/run/*.json)
cp "$F" "$T/good.json"
echo "# status file: $F"
st good -c "$T/b.conf"
[ "$RC" = 0 ] && grep -q "pxeimagesfs on $MP: healthy" "$T/good.out" ||
	{ bad "the real status file: exit $RC, want 0 and healthy"; show good; }

# edit PYTHON-STATEMENT: the good status as s, changed, written to F
edit() {
	python3 -c "import json,sys; s=json.load(open(sys.argv[1])); $1; open(sys.argv[2],'w').write(json.dumps(s))" \
		"$T/good.json" "$F" || fail "python3: $1"
}
# corrupt NAME WHY-REGEX: status exits 3 within 5 s, says corrupt and why, and that the view
# is mounted; never healthy; --json prints a JSON object: "status" "unknown", healthy false
corrupt() {
	st "$1" -c "$T/b.conf"
	if [ "$RC" != 3 ] || ! grep -q "is corrupt: " "$T/$1.err" ||
		! grep -qE -- "$2" "$T/$1.err" || ! grep -q "a pxeimagesfs view is mounted there" "$T/$1.err" ||
		grep -q healthy "$T/$1.out"; then
		bad "$1: exit $RC (124: hung), want 3 with 'is corrupt: ' and /$2/:"
		show "$1"
		return
	fi
	st "$1-json" -c "$T/b.conf" --json
	[ "$RC" = 3 ] && python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["status"] == "unknown" and s["healthy"] is False else 1)' "$T/$1-json.out" ||
		bad "$1: --json exited $RC or did not print {status: unknown, healthy: false}"
	ok "$1: $(sed 's/.*is corrupt: //' "$T/$1.err")"
}
restore() { rm -rf "$F" && cp "$T/good.json" "$F"; }

head -c 200 "$T/good.json" >"$F"
corrupt truncated "truncated"
head -c 3000 /dev/urandom | tr -d '\0' >"$F"
corrupt garbage "."
: >"$F"
corrupt empty "empty"
printf '{"schema": 1,\0 "pid": 1}' >"$F"
corrupt nul "NUL"
{ cat "$T/good.json"; echo "garbage"; } >"$F"
corrupt trailing "follows the JSON"
python3 -c "print('[' * 100000 + ']' * 100000)" >"$F"
corrupt deep "."
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$F"
corrupt huge "more than a status file"
edit 's["pid"] = 0'
corrupt pid-0 '"pid" 0 is not a process id'
edit 's["pid"] = -1'
corrupt pid-minus-1 '"pid" -1 is not a process id'
edit 's["pid"] = "abc"'
corrupt pid-abc '"pid" is string, not int'
edit 's["pid"] = 1.5'
corrupt pid-double '"pid" is double, not int'
edit 's["pid"] = 99999999'
corrupt pid-huge 'not a process id'
edit 's["healthy"] = "false"'
corrupt healthy-string '"healthy" is string, not boolean'
edit 's["degraded_reasons"] = ["drive X offline"]'
corrupt healthy-and-degraded 'disagrees'
edit 's["mountpoint"] = "/srv/pxe-images"'
corrupt other-mountpoint 'the status of /srv/pxe-images'
edit 's["counters"]["opens"] = -5'
corrupt counters 'not a count'
edit 'del s["schema"]'
corrupt no-schema '"schema" is missing'
rm -f "$F" && mkfifo "$F"
corrupt fifo "not a regular file but a FIFO"
rm -f "$F" && ln -s /dev/zero "$F"
corrupt symlink-dev-zero "not a regular file but a symbolic link"
rm -f "$F" && mkdir "$F"
corrupt folder "not a regular file but a folder"
restore
st restored -c "$T/b.conf"
[ "$RC" = 0 ] && grep -q healthy "$T/restored.out" || { bad "restored: exit $RC, want 0"; show restored; }
edit 's["pid"] = 4194300' # (almost surely) no such process
st dead -c "$T/b.conf"
[ "$RC" = 2 ] && grep -q "pid 4194300 is gone" "$T/dead.err" ||
	{ bad "a dead pid: exit $RC, want 2 'is gone'"; show dead; }
restore
ok "hostile status files are reported corrupt (exit 3), never healthy, never a hang"

# ---- two mountpoints that differ only in '/' versus '-' --------------------------------------
MPA=$T/srv/pxe-images
start_view a "$MPA" "[drive:E]
    path = $T/offline"
VA=$VIEW
FILES=$(find "$T/run" -name '*.json' -printf '%f ')
[ "$(find "$T/run" -name '*.json' | wc -l)" = 2 ] || bad "two views, status file(s): $FILES"
st a -c "$T/a.conf"
[ "$RC" = 1 ] && grep -q "pxeimagesfs on $MPA: degraded" "$T/a.out" ||
	{ bad "status $MPA (E offline): exit $RC, want 1 degraded"; show a; }
st b -c "$T/b.conf"
[ "$RC" = 0 ] && grep -q "pxeimagesfs on $MP: healthy" "$T/b.out" ||
	{ bad "status $MP: exit $RC, want 0 healthy"; show b; }
stop_view "$VA"
st b-after -c "$T/b.conf"
[ "$RC" = 0 ] && grep -q "pxeimagesfs on $MP: healthy" "$T/b-after.out" ||
	{ bad "status $MP after $MPA stopped: exit $RC, want 0 healthy"; show b-after; }
st a-after -c "$T/a.conf"
[ "$RC" = 2 ] || { bad "status $MPA after it stopped: exit $RC, want 2"; show a-after; }
ok "$MPA and $MP have a status file each: $FILES"
stop_view "$VB"

# ---- status MOUNTPOINT without a configuration file -----------------------------------------
MPN=$T/srv/pxe/images
start_view n "$MPN" "" ""
NAME=$(ls /run/pxeimagesfs/)
PXEIMAGESFS_CONFIG='' st noconf "$MPN"
[ "$RC" = 0 ] && grep -q "pxeimagesfs on $MPN: healthy" "$T/noconf.out" ||
	{ bad "status MOUNTPOINT, no config file: exit $RC, want 0 healthy"; show noconf; }
PXEIMAGESFS_CONFIG=$T/missing.conf st noconf-env "$MPN"
[ "$RC" = 0 ] || { bad "status MOUNTPOINT, \$PXEIMAGESFS_CONFIG missing: exit $RC, want 0"; show noconf-env; }
echo "bad line" >"$T/broken.conf"
PXEIMAGESFS_CONFIG=$T/broken.conf st noconf-broken "$MPN"
[ "$RC" = 0 ] && grep -q "has errors; looking in the default run directory" "$T/noconf-broken.err" ||
	{ bad "status MOUNTPOINT, broken default config: exit $RC, want 0 and a note"; show noconf-broken; }
PXEIMAGESFS_CONFIG=$T/missing.conf st noconf-nomp
[ "$RC" = 2 ] || { bad "status without MOUNTPOINT nor config: exit $RC, want 2"; show noconf-nomp; }
ok "status MOUNTPOINT without a configuration file reads /run/pxeimagesfs/$NAME"
stop_view "$VIEW"

[ "$BAD" = 0 ] || fail "status_file.sh: $BAD check(s) failed"
echo "status_file.sh: all checks passed"
