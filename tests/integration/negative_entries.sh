#!/bin/bash
# negative_entries.sh -- a name missing from a watched folder is cached by the kernel for the
# long timeout (60 s, fs/dirwatch.c); it must show as soon as it exists, however it comes to
# exist. Each check first asks for the name through the view twice (the miss is cached), then
# makes it exist and wants `stat` through the view to find it within BOUND_MS (1 s; polled every
# 10 ms): created on drive C, on drive D (the other copy of the merged folder), renamed into the
# folder on a drive, made through the view (create, mkdir, symlink, link, rename, mknod: at
# once), in another spelling (FOO.WIM missed, foo.wim made: the case rule), a folder appearing
# on the other drive, a drive coming online (E, bind-mounted with the name), a race of creates
# on the drives against lookups of the same names (STRESS_N names, at most STRESS_S seconds; in
# a folder listed first, and in one never listed, indexed by the lookups' own misses), the
# drives' cases again where other names missed first made the view index each folder by its
# misses (BURST), and a folder watch whose event queue overflows
# (fs.inotify.max_queued_events = 1 while the view starts, under flock /tmp/pxe-it.lock unless
# a process above the test holds it). Both passthrough modes. Needs root, /dev/fuse and sysctl;
# exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: negative_entries.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3 flock:util-linux mkfifo:coreutils
QUEUE=/proc/sys/fs/inotify/max_queued_events
[ -w "$QUEUE" ] || need "cannot change fs.inotify.max_queued_events"

BOUND_MS=${PXE_NEG_BOUND_MS:-1000}
ONLINE_MS=${PXE_NEG_ONLINE_MS:-5000} # a drive coming online: the live thread's mount-table poll
STRESS_N=${PXE_NEG_STRESS_N:-2000}
STRESS_S=${PXE_NEG_STRESS_S:-20}
[ "${PXE_TEST_SHORT:-0}" = 1 ] && STRESS_N=${PXE_NEG_STRESS_N:-500}

OLD_QUEUE=
restore_queue() {
	[ -n "$OLD_QUEUE" ] && echo "$OLD_QUEUE" >"$QUEUE"
	OLD_QUEUE=
}
view_sandbox negative
trap 'restore_queue; grep -q " $T/e " /proc/self/mountinfo && umount "$T/e"; view_cleanup' EXIT
mkdir -p "$T/e" "$T/store" || fail "mkdir"
E=$T/store/e/$IMG
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20" "E:$T/e:5"

# BURST=1: before each name is missed, three other names are missed in its folder, so that the
# view indexes the folder by its misses (fs/node.c, node_miss_index) and answers the next ones
# from that index: a name made afterwards must show as when the folder was never indexed
BURST=0 N_BURST=0
eval "lib_$(declare -f miss)"
miss() {
	local i
	for ((i = 0; BURST == 1 && i < 3; i++)); do
		N_BURST=$((N_BURST + 1))
		stat "${1%/*}/burst$N_BURST.wim" >/dev/null 2>&1 && fail "${1%/*}/burst$N_BURST.wim exists"
	done
	lib_miss "$1"
}

# within WHAT MS PATH...: every PATH is found through the view within MS ms of now
within() {
	local what=$1 ms=$2 t0 p
	shift 2
	t0=$(now_ms)
	for p in "$@"; do
		until stat "$p" >/dev/null 2>&1; do
			(($(now_ms) - t0 <= ms)) || fail "$what: $p not found through the view $ms ms after it was made (a stale negative entry)"
			sleep 0.01
		done
	done
	ok "$what: found after $(($(now_ms) - t0)) ms"
}
# at_once WHAT PATH: found right away (the kernel's own entry after an operation of the view)
at_once() { stat "$2" >/dev/null 2>&1 || fail "$1: $2 not found right after the view made it"; ok "$1: found at once"; }

fresh_drives() {
	rm -rf "${C:?}"/* "${D:?}"/* "$T/store/e"
	mkdir -p "$C/PKG" "$D/PKG" "$C/CONLY" "$E/PKG" || fail "mkdir"
	echo x >"$C/PKG/present.wim"
}

check_outside() {
	local P=$V/PKG
	miss "$P/c1.wim"
	echo c >"$C/PKG/c1.wim"
	within "created on drive C" "$BOUND_MS" "$P/c1.wim"
	miss "$P/d1.wim"
	echo d >"$D/PKG/d1.wim"
	within "created on drive D (the merge's other copy)" "$BOUND_MS" "$P/d1.wim"
	miss "$P/r1.wim"
	echo r >"$T/c/outside.tmp" && mv "$T/c/outside.tmp" "$C/PKG/r1.wim"
	within "renamed into the folder on drive C" "$BOUND_MS" "$P/r1.wim"
	miss "$P/r2.wim"
	echo r >"$D/PKG/.r2.tmp" && mv "$D/PKG/.r2.tmp" "$D/PKG/r2.wim"
	within "renamed within the folder on drive D" "$BOUND_MS" "$P/r2.wim"
	miss "$P/CASE.WIM" && miss "$P/Case.Wim"
	echo k >"$C/PKG/case.wim"
	within "FOO.WIM and Foo.Wim missed, foo.wim created on C" "$BOUND_MS" "$P/CASE.WIM" "$P/Case.Wim"
	miss "$P/SUB/X.WIM" && miss "$P/sub"
	mkdir -p "$D/PKG/sub" && echo s >"$D/PKG/sub/x.wim"
	within "folder made on D with the name in it" "$BOUND_MS" "$P/SUB/X.WIM"
	miss "$V/CONLY/y.wim"
	mkdir -p "$D/CONLY" && echo y >"$D/CONLY/y.wim"
	within "a folder of C appearing on D, with the name in it" "$BOUND_MS" "$V/CONLY/y.wim"
	miss "$V/conly/Z.WIM"
	mkdir -p "$D/conly" && echo z >"$D/conly/z.wim"
	within "a folder of C appearing on D in another spelling" "$BOUND_MS" "$V/conly/Z.WIM"
}

check_view_ops() {
	local P=$V/PKG
	miss "$P/v1.wim" && : >"$P/v1.wim" && at_once "created through the view" "$P/v1.wim"
	miss "$P/v2" && mkdir "$P/v2" && at_once "mkdir through the view" "$P/v2"
	miss "$P/v3" && ln -s v1.wim "$P/v3" && at_once "symlink through the view" "$P/v3"
	miss "$P/v4.wim" && ln "$P/v1.wim" "$P/v4.wim" && at_once "link through the view" "$P/v4.wim"
	: >"$P/v5.tmp" && miss "$P/v5.wim" && mv "$P/v5.tmp" "$P/v5.wim" &&
		at_once "rename through the view" "$P/v5.wim"
	miss "$P/v6" && mkfifo "$P/v6" && at_once "mknod through the view" "$P/v6"
	miss "$P/V7.WIM" && : >"$P/v7.wim"
	within "V7.WIM missed, v7.wim created through the view" "$BOUND_MS" "$P/V7.WIM"
	miss "$P/V8.WIM" && : >"$P/v8.tmp" && mv "$P/v8.tmp" "$P/v8.wim"
	within "V8.WIM missed, v8.wim renamed into place through the view" "$BOUND_MS" "$P/V8.WIM"
}

check_online() {
	miss "$V/PKG/e1.wim"
	echo e >"$E/PKG/e1.wim"
	mount --bind "$T/store/e" "$T/e" || fail "cannot bind-mount drive E"
	within "drive E came online with the name" "$ONLINE_MS" "$V/PKG/e1.wim"
	umount "$T/e"
}

# Creates on drives C and D (alternately, lower case) race lookups of the same names (as
# created and in upper case) from two threads; every name must then be found within BOUND_MS.
# check_stress DIR list: the folder is listed first (its index is the listing's); nolist: it
# never is (the lookups' misses index it, again after each create)
check_stress() {
	local dir=$1 how=$2
	mkdir -p "$C/$dir" "$D/$dir" || fail "mkdir $dir"
	[ "$how" = nolist ] || ls "$V/$dir" >/dev/null || fail "cannot list $V/$dir"
	python3 - "$V/$dir" "$C/$dir" "$D/$dir" "$STRESS_N" "$STRESS_S" "$BOUND_MS" "$how" <<'PY' ||
import os, sys, threading, time
view, c, d = sys.argv[1:4]
n, secs, bound = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]) / 1000.0
names = ["s%05d.wim" % i for i in range(n)]
made = [0]
stop = [False]
def look():
    while not stop[0]:
        k = made[0]
        for j in range(max(0, k - 2), min(n, k + 3)):
            for sp in (names[j], names[j].upper()):
                try:
                    os.stat(os.path.join(view, sp))
                except FileNotFoundError:
                    pass
lookers = [threading.Thread(target=look) for _ in range(2)]
for t in lookers:
    t.start()
end = time.monotonic() + secs
for i in range(n):
    if time.monotonic() > end:
        break
    with open(os.path.join((c, d)[i % 2], names[i]), "w"):
        pass
    made[0] = i + 1
    if i % 7 == 0:
        time.sleep(0.0005)
stop[0] = True
for t in lookers:
    t.join()
# one pass over every spelling; those missing then get BOUND_MS from the pass's end
t0 = time.monotonic()
left = [sp for nm in names[:made[0]] for sp in (nm, nm.upper())]
left = [sp for sp in left if not os.path.exists(os.path.join(view, sp))]
t1 = time.monotonic()
while left and time.monotonic() - t1 <= bound:
    left = [sp for sp in left if not os.path.exists(os.path.join(view, sp))]
    if left:
        time.sleep(0.01)
if made[0] < n // 10:
    sys.exit("only %d of %d names made in %g s" % (made[0], n, secs))
if left:
    sys.exit("%d of %d spellings not found %g s after the last create: %s"
             % (len(left), 2 * made[0], bound, " ".join(left[:5])))
print("ok - stress (%s): %d names made on C and D against lookups, all found (%.0f ms after the last)"
      % (sys.argv[7], made[0], (time.monotonic() - t0) * 1000))
PY
		fail "stress ($how): creates raced with lookups left names missing (above)"
}

# The view starts with a one-event inotify queue: the creates overflow it, and the watch drops
# every cached name, negative ones too.
check_overflow() {
	local mode=$1 i names=()
	it_lock
	OLD_QUEUE=$(cat "$QUEUE")
	echo 1 >"$QUEUE" || fail "cannot lower fs.inotify.max_queued_events"
	view_start "$BIN" "$DRIVES" "    mount timeout = 0" PXEIMAGESFS_PASSTHROUGH="$mode"
	restore_queue
	exec 9>&-
	for i in 1 2 3 50 100 199 200; do names+=("$V/PKG/o$i.wim"); miss "$V/PKG/o$i.wim"; done
	(cd "$C/PKG" && touch o{1..200}.wim) || fail "touch"
	within "200 names made on C at once with an overflowing watch" "$BOUND_MS" "${names[@]}"
	grep -q 'event queue overflowed' "$T/log" || fail "overflow: the watch's queue never overflowed"
	stop_checked
}

modes=no
"$BIN" --version | grep -q 'kernel passthrough: built in' && modes="yes no"
for mode in $modes; do
	echo "# passthrough=$mode"
	fresh_drives
	view_start "$BIN" "$DRIVES" "    mount timeout = 0" PXEIMAGESFS_PASSTHROUGH="$mode"
	[ -f "$V/PKG/present.wim" ] || fail "the view shows no PKG/present.wim"
	check_outside
	check_view_ops
	check_online
	check_stress STRESS list
	check_stress STRESS2 nolist
	fresh_drives
	BURST=1
	miss "$V/PKG/b1.wim"
	stat "$V/PKG/PRESENT.WIM" >/dev/null 2>&1 ||
		fail "PKG indexed by its misses: present.wim not found as PRESENT.WIM"
	check_outside
	check_view_ops
	check_online
	BURST=0
	stop_checked
	fresh_drives
	check_overflow "$mode"
done
echo "negative_entries: all checks passed"
