#!/bin/bash
# passthrough.sh -- kernel FUSE passthrough (issue 7), and the daemon-served fallback.
# Two tmpfs drives: C (priority 10, read only = yes) holds boot.wim, D (priority 20) is the
# primary. With passthrough on: reads, writes and mmap through the view are right and reach
# the daemon as no READ request at all (the status counters: reads stays 0, passthrough_opens
# grows); a copy-up while the file is open on C leaves the old handle on C's copy, new opens
# (a new node id, the same st_ino) on D's. Then the same with passthrough forced off
# (PXEIMAGESFS_PASSTHROUGH=no, and `passthrough = no`): every read is a READ request, status
# says why passthrough is off. Needs root, /dev/fuse, python3 and a kernel that offers
# passthrough (Linux 6.9+); exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2015 # `a && b || fail` is meant: fail unless both hold
set -u
BIN=${1:?usage: passthrough.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools python3:python3 sha256sum:coreutils timeout:coreutils fusermount3:fuse3
# a build against libfuse older than 3.17 has only the daemon-served path: checked below
BUILT_IN=yes
"$BIN" --version | grep -q 'kernel passthrough: built in' || BUILT_IN=no

view_sandbox pt
head -c 64M /dev/urandom >"$C/boot.wim"
SUM=$(sha256sum <"$C/boot.wim")
drive_sections DRIVES "C:$T/c:10:ro" "D:$T/d:20"
# "" = as the kernel offers it, whatever the suite's PXEIMAGESFS_PASSTHROUGH
start() { if [ $# -le 1 ]; then view_start "$BIN" "$DRIVES" "${1:-}" PXEIMAGESFS_PASSTHROUGH=yes; else view_start "$BIN" "$DRIVES" "$@"; fi; }
stop() { view_stop; }
status() { view_status "$@"; }

# ro.bin and handle_ops: a file opened for reading keeps the lookup's O_PATH descriptor (as its
# backing file where the kernel takes one, passthrough.o_path: Linux 6.12, stable kernels from
# 6.9.x; served by the daemon, until its first READ): what the daemon does on such a handle
# itself (fsync, lseek SEEK_DATA and SEEK_HOLE, fgetxattr, and a getxattr by path while it is
# open) answers as on the drive; a second reader and a writer join it
python3 - "$D/ro.bin" <<'PY' || fail "o_path: cannot make ro.bin on D"
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"R" * 8192)
    f.truncate(4 << 20)  # a hole after the first 8 KiB
os.setxattr(sys.argv[1], "user.pxe", b"dosattrib")
PY
handle_ops='
import os, sys
p = sys.argv[1]
r = os.open(p, os.O_RDONLY)
out = [os.fsync(r), os.lseek(r, 0, os.SEEK_DATA), os.lseek(r, 0, os.SEEK_HOLE), os.getxattr(r, "user.pxe"),
       os.getxattr(p, "user.pxe"), os.fstat(r).st_size, os.pread(r, 4, 0)]
r2 = os.open(p, os.O_RDONLY)
w = os.open(p, os.O_WRONLY)
os.pwrite(w, b"W", 1)
os.fsync(w)
out += [os.pread(r, 4, 0), os.pread(r2, 4, 0)]
os.pwrite(w, b"R", 1)
for fd in (w, r2, r):
    os.close(fd)
print(out)
'

# ---- passthrough on ------------------------------------------------------------------------
if [ $BUILT_IN = yes ]; then
start ""
active=$(status 's["passthrough"]["active"]')
if [ "$active" != True ]; then
	why=$(status 's["passthrough"].get("reason")')
	case $why in
	*kernel*) need "passthrough not offered here: $why" ;;
	*) fail "passthrough not active: $why" ;;
	esac
fi
ok "status: passthrough active"

[ "$(sha256sum <"$V/boot.wim")" = "$SUM" ] || fail "boot.wim read through the view differs"
reads=$(status 's["counters"]["reads"]')
pt=$(status 's["counters"]["passthrough_opens"]')
[ "$reads" = 0 ] || fail "passthrough read: the daemon served $reads READ requests"
[ "$pt" -ge 1 ] || fail "passthrough read: passthrough_opens is $pt"
ok "64 MiB read in passthrough: right data, 0 READ requests, $pt passthrough open(s)"

# writes, a parallel reader and mmap, all on the primary's file
head -c 8M /dev/urandom >"$T/w.bin"
cp "$T/w.bin" "$V/new.bin" || fail "cp into the view"
cmp -s "$T/w.bin" "$D/new.bin" || fail "a file written through the view differs on D"
cmp -s "$T/w.bin" "$V/new.bin" || fail "a file written through the view reads back wrong"
python3 - "$V/new.bin" "$D/new.bin" <<'PY' || fail "mmap through the view"
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    old = m[4096:4100]
    m[4096:4100] = b"PXE!"
    m.flush()
    m.close()
with open(sys.argv[2], "rb") as f:
    f.seek(4096)
    assert f.read(4) == b"PXE!", "an mmap write did not reach the drive"
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    assert m[4096:4100] == b"PXE!", "an mmap read is stale"
PY
[ "$(status 's["counters"]["reads"]')" = 0 ] || fail "writes and mmap made READ requests"
ok "write, read back and mmap through the view in passthrough: 0 READ requests"

# a copy-up while open: the old handle drains on C's copy, new opens get D's
ino=$(stat -c %i "$V/boot.wim")
out=$(cd "$V" && python3 - <<'PY'
import os
r = os.open("boot.wim", os.O_RDONLY)            # on C (read-only drive)
old = os.pread(r, 16, 0)
w = os.open("boot.wim", os.O_RDWR)              # copies up to D
os.pwrite(w, b"COPIED-UP-ON-D!!", 0)
print(os.pread(r, 16, 0) == old, os.pread(w, 16, 0), open("boot.wim", "rb").read(16))
os.close(r)
os.close(w)
PY
) || fail "copy-up while open: $out"
[ "$out" = "True b'COPIED-UP-ON-D!!' b'COPIED-UP-ON-D!!'" ] || fail "copy-up while open: $out"
[ "$(head -c 16 "$D/boot.wim")" = "COPIED-UP-ON-D!!" ] || fail "the copy on D lacks the write"
[ "$(sha256sum <"$C/boot.wim")" = "$SUM" ] || fail "the read-only drive's copy changed"
[ "$(stat -c %i "$V/boot.wim")" = "$ino" ] || fail "st_ino changed across the copy-up"
stale=$(status 's["counters"]["stale_opens"]')
[ "$stale" -ge 1 ] || fail "the open that copied up was not sent back for a new node ($stale)"
[ "$(status 's["counters"]["reads"]')" = 0 ] || fail "copy-up made READ requests"
ok "copy-up while open: old handle on C, new opens on D, st_ino kept ($stale open(s) re-looked-up)"

native=$(python3 -c "$handle_ops" "$D/ro.bin" 2>&1) || fail "o_path: on the drive: $native"
view=$(python3 -c "$handle_ops" "$V/ro.bin" 2>&1) || fail "o_path: through the view: $view"
[ "$view" = "$native" ] || fail "o_path: a read-only handle through the view: $view; on the drive: $native"
opath=$(status 's["passthrough"].get("o_path")')
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
[ "$opath" = True ] || [ "$kv" -lt 6012 ] ||
	fail "o_path: Linux $(uname -r) takes O_PATH backing files, the view says $opath"
[ "$(status 's["counters"]["reads"]')" = 0 ] || fail "o_path: the handles made READ requests"
ok "o_path: a read-only handle (O_PATH backing file: $opath) answers fsync, lseek, fgetxattr as the drive; readers and a writer share it"

# a small file read again, unchanged, in a watched folder is read from the kernel's page cache
# (no backing file registered, no READ after the first cached open: fs_int.h PT_CACHED_MAX);
# a bigger one is always passed through; a change of the drive's file, even one that keeps its
# size and sets its mtime back, and a write through the view, are read at once
mkdir -p "$D/sm" && head -c 4096 /dev/urandom >"$D/sm/s.bin" && head -c 2M /dev/urandom >"$D/sm/big.bin" ||
	fail "small files: cannot make them on D"
counts() { status 's["counters"]["passthrough_opens"], s["counters"]["reads"]' | tr -d '(),'; }
steps=""
for i in 1 2 3 4; do
	read -r p0 r0 <<<"$(counts)"
	cmp -s "$D/sm/s.bin" "$V/sm/s.bin" || fail "small files: read $i of s.bin differs"
	read -r p1 r1 <<<"$(counts)"
	steps="$steps $((p1 - p0))/$((r1 - r0))"
done
# 1: passed through (nothing known of it); 2: cached, read once by the daemon; 3, 4: the cache
[ "$steps" = " 1/0 0/1 0/0 0/0" ] ||
	fail "small files: passthrough opens/READs per read of s.bin:$steps (want 1/0 0/1 0/0 0/0)"
read -r p0 r0 <<<"$(counts)"
for i in 1 2 3; do cmp -s "$D/sm/big.bin" "$V/sm/big.bin" || fail "small files: big.bin read $i differs"; done
read -r p1 r1 <<<"$(counts)"
[ $((p1 - p0)) = 3 ] && [ "$r1" = "$r0" ] ||
	fail "small files: 3 reads of a 2 MiB file made $((p1 - p0)) passthrough opens and $((r1 - r0)) READs"
bad=$(python3 - "$D/sm/s.bin" "$V/sm/s.bin" <<'PY'
import os, sys
drive, view = sys.argv[1], sys.argv[2]
bad = []
for i in range(40):
    for _ in range(2):  # cached from the second read on
        open(view, "rb").read()
    st = os.stat(drive)
    new = os.urandom(4096)
    if i % 2:  # through the view, in place
        with open(view, "r+b") as f:
            f.write(new)
        os.utime(view, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:  # on the drive, in place, its mtime set back
        with open(drive, "r+b") as f:
            f.write(new)
        os.utime(drive, ns=(st.st_atime_ns, st.st_mtime_ns))
    if open(view, "rb").read() != new:
        bad.append(i)
print(len(bad), bad[:5])
PY
) || fail "small files: rewrite rounds: $bad"
[ "${bad%% *}" = 0 ] || fail "small files: a rewritten file read back old data through the view (rounds: $bad)"
ok "small files: read again from the page cache (passthrough opens/READs per read:$steps); a 2 MiB file always passed through; 40 same-size rewrites (view, drive with mtime set back) read at once"
stop

# a daemon short of descriptors (RLIMIT_NOFILE 96: every handle real at once; 4200: handles
# kept O_PATH, each keeping one descriptor free for its real one): opens may fail with EMFILE,
# as natively, but an lseek or fsync of a handle that opened never does (before: an O_PATH
# handle made its real fd at its first lseek or fsync, and that failed with EMFILE)
mkdir -p "$D/many" && for i in $(seq 0 4399); do echo "$i" >"$D/many/f$i"; done || fail "fd limit: cannot make the files"
for lim in 96 4200; do
	printf '#!/bin/sh\nulimit -n %s || exit 1\nexec "%s" "$@"\n' "$lim" "$BIN" >"$T/nofile.sh" && chmod +x "$T/nofile.sh" ||
		fail "fd limit: cannot write $T/nofile.sh"
	view_start "$T/nofile.sh" "$DRIVES" "" PXEIMAGESFS_PASSTHROUGH=yes
	got=$( (ulimit -n 8192 && python3 - "$V/many" <<'PY') 2>&1
import collections, errno, os, sys
res, fds = collections.Counter(), []
for i in range(4400):
    try:
        fds.append(os.open(f"{sys.argv[1]}/f{i}", os.O_RDONLY))
    except OSError as e:
        res["open " + errno.errorcode[e.errno]] += 1
for fd in fds:
    for name, call in (("lseek", lambda: os.lseek(fd, 0, os.SEEK_DATA)), ("fsync", lambda: os.fsync(fd))):
        try:
            call()
        except OSError as e:
            res[name + " " + errno.errorcode.get(e.errno, str(e.errno))] += 1
for fd in fds:
    os.close(fd)
print(len(fds), " ".join(f"{k}={v}" for k, v in sorted(res.items())) or "-")
PY
	) || fail "fd limit $lim: $got"
	opened=${got%% *} errs=${got#* }
	[[ $errs != *lseek* && $errs != *fsync* ]] || fail "fd limit $lim: $opened handles opened; on them: $errs"
	[ "$opened" -ge $((lim / 2 - 40)) ] || fail "fd limit $lim: only $opened handles opened ($errs)"
	[ -f "$V/many/f0" ] || fail "fd limit $lim: the view no longer answers"
	view_stop
	ok "fd limit $lim: $opened files open at once, every lseek and fsync of them answered ($errs)"
done
rm -rf "$D/many"
rm -f "$D/boot.wim" "$D/new.bin"
fi

# ---- passthrough forced off (or not in this build) -----------------------------------------
hows="env config"
[ $BUILT_IN = yes ] || hows=build
for how in $hows; do
	case $how in
	env) start "" PXEIMAGESFS_PASSTHROUGH=no; want="turned off" ;;
	config) start "    passthrough = no"; want="turned off" ;;
	build) start ""; want="older than 3.17" ;;
	esac
	[ "$(status 's["passthrough"]["active"]')" = False ] || fail "$how: passthrough still active"
	why=$(status 's["passthrough"]["reason"]')
	case $why in *"$want"*) ;; *) fail "$how: status gives no reason ('$want'): $why" ;; esac
	[ "$(sha256sum <"$V/boot.wim")" = "$SUM" ] || fail "$how: boot.wim read through the view differs"
	reads=$(status 's["counters"]["reads"]')
	[ "$reads" -gt 0 ] || fail "$how: a read served by the daemon counted no READ request"
	[ "$(status 's["counters"]["passthrough_opens"]')" = 0 ] || fail "$how: passthrough opens"
	out=$(cd "$V" && python3 -c '
import os
r = os.open("boot.wim", os.O_RDONLY); old = os.pread(r, 16, 0)
w = os.open("boot.wim", os.O_RDWR); os.pwrite(w, b"COPIED-UP-ON-D!!", 0)
print(os.pread(r, 16, 0) == old, open("boot.wim", "rb").read(16))') ||
		fail "$how: copy-up while open: $out"
	[ "$out" = "True b'COPIED-UP-ON-D!!'" ] || fail "$how: copy-up while open: $out"
	native=$(python3 -c "$handle_ops" "$D/ro.bin" 2>&1) || fail "$how: o_path: on the drive: $native"
	view=$(python3 -c "$handle_ops" "$V/ro.bin" 2>&1) || fail "$how: o_path: through the view: $view"
	[ "$view" = "$native" ] || fail "$how: a read-only handle through the view: $view; on the drive: $native"
	ok "passthrough off ($how): \"$why\"; $reads READ requests; copy-up while open right; a read-only handle answers fsync, lseek, fgetxattr as the drive"
	stop
	rm -f "$D/boot.wim"
done
echo "passthrough: all checks passed"
