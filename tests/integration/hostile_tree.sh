#!/bin/bash
# hostile_tree.sh -- a drive whose owner plays tricks cannot take the view out of its images
# folder, and nobody can put a file under the daemon's reserved temporary names.
#
# Drives: B, a folder bind-mounted from a tmpfs H that also holds an outside tree (priority 30,
# the primary); C, a tmpfs with an outside tree beside its images path (20); D, a tmpfs whose
# images path has a symlink component (10). Every outside tree mirrors the images path and
# holds files a view must never read, change or add to.
#  1. static: RemoteInstall, SMSImages or SMSPKG on D is a symlink to the outside: D does not
#     hold the images (`resolve` says why) and nothing of its outside tree shows or changes;
#  2. race: on B and C a loop renames RemoteInstall, SMSImages or SMSPKG away, puts a symlink
#     to the outside tree in its place and restores it (RACE_N rounds, at most RACE_SECS s)
#     while a client reads, creates, mkdirs, chmods and truncates through the view; afterwards
#     the outside trees are unchanged (checksums, modes, sizes, no new names, atimes: never
#     read) and no read through the view returned a secret;
#  3. reserved names: rename (file, folder), link, symlink, mknod, mkfifo, mkdir and create into
#     .pxeimagesfs-tmp.* (any case) are refused and leave nothing on the drives.
# Run with passthrough as the kernel offers it, then with PXEIMAGESFS_PASSTHROUGH=no.
# Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: hostile_tree.sh PXEIMAGESFS_BINARY}
RACE_SECS=${RACE_SECS:-4}
RACE_N=${RACE_N:-20000}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_*

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3 sha256sum:coreutils

view_sandbox hostile
RACERS=()
cleanup() {
	local p m
	for p in "${RACERS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	view_stop_or_kill # never fails: the rest of the cleanup runs
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -u "$T/view" 2>/dev/null
	for m in "$T/b" "$T/h"; do grep -q " $m " /proc/self/mountinfo && umount "$m"; done
	view_cleanup
}
trap cleanup EXIT
mkdir -p "$T/h" "$T/b" || fail "mkdir"
mount -t tmpfs -o size=64m pxe-h "$T/h" || fail "cannot mount tmpfs"
mkdir -p "$T/h/drive" && mount --bind "$T/h/drive" "$T/b" || fail "cannot bind-mount"
B=$T/b/$IMG
mkdir -p "$B" "$T/d/keep"
rmdir "$D" "$T/d/RemoteInstall/SMSImages" "$T/d/RemoteInstall"

# outside TREE: the images path below TREE with packages PKGB, PKGC, PKGD of secret files
outside() {
	local p
	for p in PKGB PKGC PKGD; do
		mkdir -p "$1/$IMG/$p" || fail "mkdir $1"
		echo "SECRET $1 $p" >"$1/$IMG/$p/r.wim"
		echo "SECRET $1 $p mode" >"$1/$IMG/$p/m.wim"
		head -c 100 /dev/zero >"$1/$IMG/$p/t.wim"
		chmod 644 "$1/$IMG/$p"/*.wim
	done
}
OUTSIDE=("$T/h/outside" "$T/c/outside" "$T/d/outside")
for o in "${OUTSIDE[@]}"; do outside "$o"; done
for p in PKGB:"$B" PKGC:"$C"; do
	mkdir -p "${p#*:}/${p%%:*}"
	for f in r m t; do echo "public ${p%%:*}" >"${p#*:}/${p%%:*}/$f.wim"; done
done

# snapshot: every name, type, mode, size and checksum of the outside trees (atimes apart)
snapshot() {
	local o
	for o in "${OUTSIDE[@]}"; do
		find "$o" -printf '%p %y %m %s\n' | sort
		find "$o" -type f -print0 | sort -z | xargs -0 sha256sum
	done
}
ATIME=946684800 # 2000-01-01: any read of a file after this is seen (relatime updates it)
atimes() { find "${OUTSIDE[@]}" -type f -printf '%p %A@\n' | sort; }
age() { find "${OUTSIDE[@]}" -type f -exec touch -a -d "@$ATIME" {} +; }
BEFORE=$(snapshot)
age
ATIMES=$(atimes)
outside_unchanged() {
	local now
	now=$(atimes)
	[ "$now" = "$ATIMES" ] || fail "$1: a file outside the images folder was read:
$(diff <(echo "$ATIMES") <(echo "$now") | head -20)"
	now=$(snapshot)
	[ "$now" = "$BEFORE" ] || fail "$1: the outside trees changed:
$(diff <(echo "$BEFORE") <(echo "$now") | head -20)"
	age # the snapshot read them
	if grep -rl SECRET "$T/b/RemoteInstall" "$T/c/RemoteInstall" 2>/dev/null; then
		fail "$1: a secret was copied into an images folder"
	fi
	ok "$1: nothing outside the images folders was read, changed or added"
}

drive_sections DRIVES "B:$T/b:30" "C:$T/c:20" "D:$T/d:10"

# d_link COMPONENT: D's images path with COMPONENT (1, 2 or 3) a symlink to D's outside tree
d_link() {
	local parts=(RemoteInstall SMSImages SMSPKG) path=$T/d i
	rm -rf "$T/d/RemoteInstall"
	for ((i = 0; i < $1 - 1; i++)); do path=$path/${parts[i]}; done
	mkdir -p "$path"
	path=$path/${parts[$1 - 1]}
	ln -s "$T/d/outside/${path#"$T/d/"}" "$path" || fail "ln -s"
}

static_cases() {
	local i out
	for i in 1 2 3; do
		d_link "$i"
		out=$("$BIN" resolve -c "$T/pxe.conf" 2>&1)
		grep -q "is a symlink (never followed)" <<<"$out" ||
			fail "static $i: resolve does not say D's symlink is never followed:
$out"
		[ "$(view_status '[d["holds_images"] for d in s["view"]["drives"] if d["name"] == "D"][0]')" = False ] ||
			fail "static $i: the view takes D's images path through a symlink"
		! ls "$V" | grep -q PKGD || fail "static $i: the view lists D's outside PKGD"
		if cat "$V/PKGD/r.wim" 2>/dev/null; then fail "static $i: read D's outside secret"; fi
		if chmod 600 "$V/PKGD/m.wim" 2>/dev/null; then fail "static $i: chmod outside"; fi
		if truncate -s 0 "$V/PKGD/t.wim" 2>/dev/null; then fail "static $i: truncate outside"; fi
		if touch "$V/PKGD/new" 2>/dev/null; then fail "static $i: created in outside PKGD"; fi
		mkdir "$V/PKGD" && rmdir "$V/PKGD" || fail "static $i: mkdir+rmdir PKGD on the primary"
	done
	rm -rf "$T/d/RemoteInstall"
	outside_unchanged "static symlinks at RemoteInstall, SMSImages, SMSPKG"
}

# racer DRIVE_ROOT OUTSIDE_TREE SECONDS ROUNDS: swap components for symlinks and back
racer() {
	python3 - "$@" <<'PY'
import os, sys, time
root, out, secs, rounds = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
comps = ["RemoteInstall", "RemoteInstall/SMSImages", "RemoteInstall/SMSImages/SMSPKG"]
end, i, made = time.time() + secs, 0, 0
def restore(path, away):
    global made
    if os.path.islink(path):
        os.unlink(path)
    try:
        os.rename(away, path)
    except OSError:  # the daemon made the images folder anew meanwhile: keep it aside
        made += 1
        os.rename(path, "%s.made%d.%d" % (path, os.getpid(), made))
        os.rename(away, path)
while i < rounds and time.time() < end:
    path = os.path.join(root, comps[i % 3])
    away = path + ".away"
    os.rename(path, away)
    try:
        os.symlink(os.path.join(out, comps[i % 3]), path)
        time.sleep(0.002)
    except FileExistsError:  # the daemon made the images folder anew at once
        pass
    finally:
        restore(path, away)
    time.sleep(0.001)
    i += 1
print(i)
PY
}

# client VIEW SECONDS: through the view, again and again: read, chmod, truncate, create, mkdir
client() {
	python3 - "$@" <<'PY'
import os, sys, time
v, secs = sys.argv[1], float(sys.argv[2])
end, n, ops, bad = time.time() + secs, 0, 0, []
def attempt(f, *a):
    global ops
    try:
        r = f(*a)
        ops += 1
        return r
    except OSError:
        return None
def read(p):
    with open(p, "rb") as f:
        return f.read()
def create(p):
    fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"new\n")
    os.close(fd)
while time.time() < end:
    for pkg in ("PKGB", "PKGC"):
        d = os.path.join(v, pkg)
        data = attempt(read, os.path.join(d, "r.wim"))
        if data and b"SECRET" in data:
            bad.append(data)
        attempt(os.chmod, os.path.join(d, "m.wim"), 0o600 if n % 2 else 0o644)
        attempt(os.truncate, os.path.join(d, "t.wim"), 0)
        attempt(create, os.path.join(d, "new-%d" % n))
        attempt(os.mkdir, os.path.join(d, "dir-%d" % n))
        attempt(os.makedirs, os.path.join(v, "NEW%d" % n, "sub"))
    n += 1
print(n, ops)
for b in bad[:3]:
    print("SECRET READ:", b)
sys.exit(1 if bad else 0)
PY
}

race() {
	local out rb rc cl i
	racer "$T/b" "$T/h/outside" "$RACE_SECS" "$RACE_N" >"$T/race-b" &
	RACERS=($!)
	racer "$T/c" "$T/c/outside" "$RACE_SECS" "$RACE_N" >"$T/race-c" &
	RACERS+=($!)
	out=$(client "$V" "$RACE_SECS")
	cl=$?
	wait "${RACERS[0]}" || fail "race: the racer on B failed"
	wait "${RACERS[1]}" || fail "race: the racer on C failed"
	RACERS=()
	[ $cl = 0 ] || fail "race: a read through the view returned a secret: $out"
	read -r rounds ops <<<"$out"
	rb=$(cat "$T/race-b") rc=$(cat "$T/race-c")
	[ "$rb" -gt 20 ] && [ "$rc" -gt 20 ] && [ "$rounds" -gt 20 ] && [ "$ops" -gt 0 ] ||
		fail "race: too little happened (swaps B $rb, C $rc; client rounds $rounds, calls that succeeded $ops)"
	outside_unchanged "race ($1): $rb swaps on B, $rc on C, $rounds client rounds, $ops calls that succeeded"
	# the drives are whole again: after a rescan (the view's rescans are off here, and the last
	# folder event may have come while a drive was still swapped out) the view serves them and
	# takes writes within 10 s
	kill -USR1 "$VIEW_PID"
	for ((i = 0; i < 500; i++)); do
		[ -f "$V/PKGC/r.wim" ] && touch "$V/PKGB/probe" 2>/dev/null && rm "$V/PKGB/probe" && break
		sleep 0.02
	done
	((i < 500)) || fail "race ($1): the view did not serve B and C again 10 s after the race and a rescan"
	ok "race ($1): the view serves both drives again after $((i * 20)) ms"
}

# reserved NAME: every way into it through the view is refused
reserved() {
	local d=$V/PKGB n=$1 out
	echo x >"$d/f" && mkdir -p "$d/sub/inner" || fail "reserved: setup"
	if ln "$d/f" "$d/$n" 2>/dev/null; then fail "reserved: link to $n"; fi
	if ln -s f "$d/$n" 2>/dev/null; then fail "reserved: symlink $n"; fi
	if mkdir "$d/$n" 2>/dev/null; then fail "reserved: mkdir $n"; fi
	if mkfifo "$d/$n" 2>/dev/null; then fail "reserved: mkfifo $n"; fi
	if python3 -c 'import os,stat,sys; os.mknod(sys.argv[1], stat.S_IFREG | 0o644)' "$d/$n" 2>/dev/null; then
		fail "reserved: mknod $n"
	fi
	if (: >"$d/$n") 2>/dev/null; then fail "reserved: create $n"; fi
	if mv -T "$d/f" "$d/$n" 2>/dev/null; then fail "reserved: rename of a file to $n"; fi
	if mv -T "$d/sub" "$d/$n" 2>/dev/null; then fail "reserved: rename of a folder to $n"; fi
	if mv -T "$d/sub" "$V/$n" 2>/dev/null; then fail "reserved: rename of a folder to /$n"; fi
	out=$(find "$T/b" "$T/c" -iname '.pxeimagesfs-tmp.*' -print)
	[ -z "$out" ] || fail "reserved: on the drives: $out"
	[ "$(cat "$d/f")" = x ] && [ -d "$d/sub/inner" ] || fail "reserved: f or sub went away"
	rm "$d/f" && rmdir "$d/sub/inner" "$d/sub" || fail "reserved: cannot remove f and sub"
	ok "reserved: link, symlink, mkdir, mkfifo, mknod, create, rename (file, folder) into $n refused"
}

for mode in default no; do
	if [ $mode = default ]; then
		view_start "$BIN" "$DRIVES" "" PXEIMAGESFS_PASSTHROUGH=yes
	else
		view_start "$BIN" "$DRIVES" "" PXEIMAGESFS_PASSTHROUGH=no
	fi
	echo "# $mode: passthrough $(view_status 's["passthrough"]["active"]')"
	[ -f "$V/PKGB/r.wim" ] && [ -f "$V/PKGC/r.wim" ] || fail "$mode: the view lacks PKGB or PKGC"
	static_cases
	race "$mode"
	reserved .pxeimagesfs-tmp.x
	reserved .PXEIMAGESFS-TMP.y
	reserved .PxeImagesFS-tmp.
	view_stop
	! grep -E "AddressSanitizer|runtime error|LeakSanitizer" "$T/log" || fail "$mode: the daemon's sanitizers reported"
done
