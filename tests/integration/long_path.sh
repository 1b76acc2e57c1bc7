#!/bin/bash
# long_path.sh -- a tree deeper than PATH_MAX below the images folder works through the view as
# it does natively, and its walk is as safe as a short one.
#
# Drives: C (tmpfs, the primary, priority 30) and D (tmpfs, `read only = yes`, 20). A chain of
# LEVELS folders of 240-byte names (about 4,800 bytes, more than PATH_MAX) is reached by a
# client that chdir's into it level by level and then uses short names:
#  1. posix_checks inside the view (its long-path check: open, write, read, chmod, chown,
#     truncate, ftruncate, link, symlink, mkfifo, mknod, mkdir, rename, utimensat, xattrs,
#     statfs, readdir, unlink, rmdir);
#  2. a file D holds at the bottom of a deep chain is read, then written: copied up to C at the
#     same depth, D unchanged;
#  3. the folder watch at depth: a name made on C directly in a deep folder the view listed
#     shows in the view within 5 s;
#  4. a symlink swapped into C's deep chain on the drive (a folder renamed away, a symlink to an
#     outside tree holding a secret in its place; once in the first PATH_MAX bytes, once beyond)
#     is never followed: from a working directory below it, the secret's name is not found,
#     not listed, and a create there lands nowhere outside;
#  5. a tree deeper than the old 64 KiB limit (DEEP = 300 levels, about 72 KB below the images
#     folder): posix_checks -l 300 at its bottom (every operation above from the deep cwd), a
#     file of D 300 levels deep copied up to C at its depth, and find(1) with a stat of every
#     entry over the whole chain through the view;
#  6. the bound (README: 1 MiB below the images folder): in a chain of 4,400 levels made on C
#     directly, a client chdir's through the view down to level 4,350 (1,048,349 bytes) and gets
#     ENAMETOOLONG for level 4,351 (1,048,590 bytes), and the daemon goes on serving (with
#     passthrough only: the walk is the same in both modes, and each level costs a walk from
#     the images folder; not in a sanitizer build, where that takes minutes).
# Run with passthrough as the kernel offers it, then with PXEIMAGESFS_PASSTHROUGH=no.
# Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: long_path.sh PXEIMAGESFS_BINARY POSIX_CHECKS}
PC=${2:?usage: long_path.sh PXEIMAGESFS_BINARY POSIX_CHECKS}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_*

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3
view_sandbox longpath
chmod 755 "$T"
LEVELS=20
DEEP=300

DRIVES="[drive:C]
    path = $T/c
    priority = 30
[drive:D]
    path = $T/d
    priority = 20
    read only = yes"

# py CODE ARGS... -- Python with helpers: chain(top, tag) is the list of the chain's names,
# into(top, tag, n) chdir's n levels down (making the folders when MAKE is set).
py() {
	local code=$1
	shift
	timeout "${PY_TIMEOUT:-60}" python3 - "$@" <<PY
import os, sys, errno, time
LEVELS = $LEVELS
def chain(tag):
    return [("%s%02d-" % (tag, i)).ljust(240, "L") for i in range(LEVELS)]
def into(top, tag, n=LEVELS, make=False):
    os.chdir(top)
    for c in chain(tag)[:n]:
        if make:
            os.mkdir(c)
        os.chdir(c)
$code
PY
}

deep_copyup() { # TAG
	py '
into(sys.argv[1], sys.argv[2], make=True)
open("leaf.wim", "w").write("from D\n")
' "$D" "$1" || fail "copy-up: cannot make D's chain"
	py '
into(sys.argv[1], sys.argv[4])
assert open("leaf.wim").read() == "from D\n", "read"
with open("leaf.wim", "a") as f:
    f.write("through the view\n")
assert open("leaf.wim").read() == "from D\nthrough the view\n", "read back"
into(sys.argv[2], sys.argv[4])
assert open("leaf.wim").read() == "from D\nthrough the view\n", "not on C"
into(sys.argv[3], sys.argv[4])
assert open("leaf.wim").read() == "from D\n", "D changed"
' "$V" "$C" "$D" "$1" || fail "copy-up: a deep file of D was not copied up to C at its depth"
	ok "copy-up: a file of the read-only drive $LEVELS levels (> PATH_MAX) deep"
}

deep_watch() { # TAG (a chain deep_copyup made)
	py '
into(sys.argv[1], sys.argv[3])
before = os.listdir(".")
assert "outside.wim" not in before, before
into(sys.argv[2], sys.argv[3])
open("outside.wim", "w").write("made on C\n")
into(sys.argv[1], sys.argv[3])
for i in range(100):
    if "outside.wim" in os.listdir(".") and os.path.exists("outside.wim"):
        break
    time.sleep(0.05)
else:
    sys.exit("outside.wim never showed")
' "$V" "$C" "$1" || fail "watch: a name made on the drive in a deep folder did not show"
	ok "watch: a name made on the drive $LEVELS levels deep shows in the view"
}

# deep_symlink TAG LEVEL -- C's chain folder at LEVEL swapped for a symlink to an outside
# folder that holds the rest of the chain with a secret at its bottom
deep_symlink() {
	local out=$T/c/out-$1
	mkdir -p "$out" || fail "symlink: mkdir"
	py '
into(sys.argv[1], sys.argv[3], make=True)
open("leaf.wim", "w").write("inside\n")
os.chdir(sys.argv[2])
for c in chain(sys.argv[3])[int(sys.argv[4]) + 1:]:
    os.mkdir(c)
    os.chdir(c)
open("leaf.wim", "w").write("SECRET\n")
open("secret.wim", "w").write("SECRET\n")
' "$C" "$out" "$1" "$2" || fail "symlink: setup"
	py '
lvl = int(sys.argv[4])
into(sys.argv[1], sys.argv[3])
assert open("leaf.wim").read() == "inside\n", "leaf before"
os.listdir(".")
fd = os.open(sys.argv[2], os.O_RDONLY | os.O_DIRECTORY)
for c in chain(sys.argv[3])[:lvl]:
    nfd = os.open(c, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
    os.close(fd)
    fd = nfd
c = chain(sys.argv[3])[lvl]
os.rename(c, "moved-away", src_dir_fd=fd, dst_dir_fd=fd)
os.symlink(sys.argv[5], c, dir_fd=fd)
bad = []
for i in range(3):
    try:
        os.stat("secret.wim")
        bad.append("stat found the secret")
    except OSError as e:
        if e.errno not in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ESTALE):
            bad.append("stat: %s" % e)
    try:
        if "secret.wim" in os.listdir("."):
            bad.append("listed the secret")
    except OSError:
        pass
    try:
        if "SECRET" in open("leaf.wim").read():
            bad.append("read the secret")
    except OSError:
        pass
    try:
        open("new%d.wim" % i, "w").write("x")
    except OSError:
        pass
    time.sleep(0.3)
os.chdir("/")
os.unlink(c, dir_fd=fd)
os.rename("moved-away", c, src_dir_fd=fd, dst_dir_fd=fd)
if bad:
    sys.exit(", ".join(sorted(set(bad))))
' "$V" "$C" "$1" "$2" "$out" || fail "symlink: level $2: the walk followed the swapped-in symlink"
	out_now=$(find "$out" -name 'new*' | head -3)
	[ -z "$out_now" ] || fail "symlink: level $2: a create landed outside: $out_now"
	[ "$(find "$out" -type f | wc -l)" = 2 ] || fail "symlink: level $2: the outside tree changed"
	ok "symlink: a symlink swapped in at level $2 of a deep chain is never followed"
}

# deep_far TAG -- the checks of item 5, DEEP levels down
deep_far() {
	local LEVELS=$DEEP top n out rc
	out=$(timeout 600 "$PC" -l "$DEEP" "$V" 2>&1)
	rc=$?
	printf '# %s\n' "${out//$'\n'/$'\n'# }"
	[ "$rc" = 0 ] || fail "far: posix_checks -l $DEEP (about $((DEEP * 241)) bytes deep) failed"
	ok "far: posix_checks at the bottom of a $DEEP-level (about $((DEEP * 241)) bytes) tree"
	deep_copyup "$1"
	top=$(py 'print(chain(sys.argv[1])[0])' "$1") || fail "far: chain name"
	out=$(cd "$V" && timeout 300 find "$top" -printf '%y %s\n' 2>&1)
	rc=$?
	n=$(printf '%s\n' "$out" | grep -c '^[df] ')
	[ "$rc" = 0 ] && [ "$n" = $((DEEP + 1)) ] ||
		fail "far: find over the $DEEP-level chain: rc $rc, $n entries (want $((DEEP + 1))): $(printf '%s\n' "$out" | grep -v '^[df] ' | head -c 300)"
	ok "far: find(1) stats all $((DEEP + 1)) entries of the $DEEP-level chain"
}

# deep_bound TAG -- item 6
deep_bound() {
	local LEVELS=4400 PY_TIMEOUT=300 t0=$SECONDS
	py '
into(sys.argv[1], sys.argv[3], make=True)
os.chdir(sys.argv[2])
names = chain(sys.argv[3])
t0 = time.time()
depth = 0
for i, c in enumerate(names):
    assert (i + 1) * 241 - 1 == len("/".join(names[:i + 1]))
    try:
        os.chdir(c)
    except OSError as e:
        if e.errno != errno.ENAMETOOLONG:
            sys.exit("level %d: %s" % (i + 1, e))
        break
    depth = i + 1
if depth != 4350:
    sys.exit("deepest level reached: %d, want 4350" % depth)
print("# %.1f s down the chain through the view" % (time.time() - t0))
os.chdir(sys.argv[2])
os.stat(names[0])
' "$C" "$V" "$1" || fail "bound: the 1 MiB bound is not where the README says, or the view broke"
	kill -0 "$VIEW_PID" || fail "bound: the daemon died"
	ok "bound: 4,350 levels (1,048,349 bytes) deep work, level 4,351 gives ENAMETOOLONG ($((SECONDS - t0)) s)"
}

for mode in default no; do
	if [ "$mode" = default ]; then
		view_start "$BIN" "$DRIVES" "" PXEIMAGESFS_PASSTHROUGH=yes
	else
		view_start "$BIN" "$DRIVES" "" PXEIMAGESFS_PASSTHROUGH=no
	fi
	echo "# passthrough=$mode"
	out=$(timeout 300 "$PC" "$V" 2>&1)
	rc=$?
	printf '# %s\n' "${out//$'\n'/$'\n'# }"
	[ "$rc" = 0 ] || fail "$mode: posix_checks failed"
	ok "$mode: posix_checks inside the view (long-path among them)"
	deep_copyup "ro$mode"
	deep_watch "ro$mode"
	deep_symlink "sa$mode" 5
	deep_symlink "sb$mode" 18
	deep_far "far$mode"
	if [ "$mode" = no ]; then
		: # the same walk in both modes: once is enough
	elif grep -qa __asan_init "$BIN"; then
		echo "# bound: not under a sanitizer (each of 4,350 levels walks its whole path: minutes)"
	else
		deep_bound "bd$mode"
	fi
	view_stop
done
