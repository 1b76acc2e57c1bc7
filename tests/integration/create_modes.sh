#!/bin/bash
# create_modes.sh -- entries made through the view get the mode, owner and ACLs the drive gives
# them when made there directly: an unprivileged user (uid and gid 65534, no other groups)
# makes files, folders, FIFOs and sockets with 9 modes (set-user-ID, set-group-ID and sticky
# among them) under 6 umasks, in a plain, a sticky, two set-group-ID (a group the maker is
# in, and one it is not) and four default-ACL folders (a named user, a minimal ACL, a narrow
# one, one in a set-group-ID folder), through the view and on a tmpfs, and every entry's
# mode, owner and ACLs are compared. (Before: the set-ID bits of files and FIFOs made in a
# default-ACL folder were lost, cleared by the view's chown of the new entry.) Then a race: the
# default ACL of a folder set and removed in a loop while files are made in it through the
# view: each file must get a mode it can get natively.
# Needs root, /dev/fuse, python3. Exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: create_modes.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools python3:python3 chgrp:coreutils
create_py() { cat <<'PYEOF'
# ROOT: as uid/gid 65534 (no supplementary groups), make files, folders,
# FIFOs and sockets in each folder under ROOT with several modes and umasks; print each entry's
# mode, owner and ACLs (sorted), to compare the view with a tmpfs.
import errno, os, socket, stat, sys
root = sys.argv[1]
folders = sorted(os.listdir(root))
os.setgroups([]); os.setgid(65534); os.setuid(65534)
modes = [0o666, 0o600, 0o4755, 0o2775, 0o6777, 0o1777, 0o777, 0o640, 0o2770]
umasks = [0o000, 0o022, 0o077, 0o777, 0o027, 0o002]
def acl(p, n):
    try:
        return os.getxattr(p, n, follow_symlinks=False).hex()
    except OSError as e:
        return errno.errorcode.get(e.errno)
res = []
for f in folders:
    for um in umasks:
        os.umask(um)
        for m in modes:
            base = f"{root}/{f}/u{um:o}m{m:o}"
            for kind in ("f", "d", "p"):
                p = f"{base}.{kind}"
                try:
                    if kind == "f":
                        os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, m))
                    elif kind == "d":
                        os.mkdir(p, m)
                    else:
                        os.mkfifo(p, m)
                except OSError as e:
                    res.append(f"{f}/{os.path.basename(p)}: {errno.errorcode.get(e.errno)}")
                    continue
        p = f"{root}/{f}/u{um:o}.s"
        s = socket.socket(socket.AF_UNIX)
        try:
            s.bind(p)
        except OSError as e:
            res.append(f"{f}/{os.path.basename(p)}: {errno.errorcode.get(e.errno)}")
        s.close()
os.umask(0o022)
for f in folders:
    for n in sorted(os.listdir(f"{root}/{f}")):
        p = f"{root}/{f}/{n}"
        st = os.lstat(p)
        res.append(f"{f}/{n}: {stat.filemode(st.st_mode)} {st.st_mode & 0o7777:04o} {st.st_uid}:{st.st_gid} a={acl(p, 'system.posix_acl_access')} d={acl(p, 'system.posix_acl_default')}")
print("\n".join(sorted(res)))
PYEOF
}
# defacl DIR SPEC: set DIR's default ACL (system.posix_acl_default) to SPEC, entries
# "tag:id:perm" with tag u, g, m or o, id empty for the owner, owning group, mask and other,
# perm a number (rwx = 7)
defacl() {
	python3 - "$@" <<'PY'
import os, struct, sys
tags = {"u": (0x01, 0x02), "g": (0x04, 0x08), "m": (0x10, 0x10), "o": (0x20, 0x20)}
ents = []
for e in sys.argv[2].split(","):
    t, i, p = e.split(":")
    ents.append((tags[t][1 if i else 0], int(p), int(i) if i else 0xFFFFFFFF))
ents.sort(key=lambda x: (x[0], x[2]))
os.setxattr(sys.argv[1], "system.posix_acl_default",
            struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *x) for x in ents))
PY
}
view_sandbox modes
drive_sections DRIVES "D:$T/d:20"
mkfolders() { # ROOT
	local r=$1
	mkdir -p "$r"
	mkdir -m 0777 "$r/plain"
	mkdir -m 1777 "$r/sticky"
	mkdir "$r/sgid" && chgrp 1234 "$r/sgid" && chmod 2777 "$r/sgid"
	mkdir "$r/sgidin" && chgrp 65534 "$r/sgidin" && chmod 2777 "$r/sgidin"
	mkdir -m 0777 "$r/acl" && defacl "$r/acl" u::7,g::7,o::7,u:1234:7,m::7
	mkdir -m 0777 "$r/aclmin" && defacl "$r/aclmin" u::7,g::5,o::0
	mkdir -m 0777 "$r/aclnarrow" && defacl "$r/aclnarrow" u::6,g::0,o::0
	mkdir -m 0777 "$r/aclsgid" && chgrp 1234 "$r/aclsgid" && chmod 2777 "$r/aclsgid" && defacl "$r/aclsgid" u::7,g::7,o::5
}
chmod 755 "$T"
mkfolders "$T/c/native" || fail "cannot make the folders on the tmpfs"
mkfolders "$D/PKGZ0001" || fail "cannot make the folders on the drive"
view_start "$BIN" "$DRIVES"
python3 <(create_py) "$T/c/native" >"$T/out.native" 2>&1 || fail "on the drive: $(tail -3 "$T/out.native")"
python3 <(create_py) "$V/PKGZ0001" >"$T/out.view" 2>&1 || fail "through the view: $(tail -3 "$T/out.view")"
n=$(wc -l <"$T/out.native")
[ "$n" -ge 1000 ] || fail "only $n entries made on the drive"
if ! diff "$T/out.native" "$T/out.view" >"$T/out.diff"; then
	echo "< made on the drive, > made through the view:" >&2
	head -40 "$T/out.diff" >&2
	fail "$(grep -c '^>' "$T/out.diff") of $n entries made through the view differ from those made on the drive"
fi
ok "$n entries (files, folders, FIFOs, sockets; 9 modes, 6 umasks; plain, sticky, set-group-ID and default-ACL folders) made through the view as on the drive"

# race: a folder's default ACL (u::rwx,g::rwx,o::rwx) set and removed on the drive in a loop
# (RACE_S seconds) while uid 65534 with umask 077 makes files 0666 through the view (at most
# 20,000): each must come out as natively, 0666 (the ACL was there: the umask ignored) or 0600
# (it was not). (Before: the view looked for the ACL, then made the file; an ACL gone in
# between left the daemon's own umask: 0644, open to all.)
mkdir -m 0777 "$D/PKGZ0001/race" || fail "race: mkdir"
got=$(python3 - "$V/PKGZ0001/race" "$D/PKGZ0001/race" "${RACE_S:-4}" <<'PY'
import collections, os, struct, sys, time
view_dir, drive_dir, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, 7, 0xFFFFFFFF) for t in (0x01, 0x04, 0x20))
flipper = os.fork()
if flipper == 0:
    end = time.time() + secs
    while time.time() < end:
        os.setxattr(drive_dir, "system.posix_acl_default", acl)
        os.removexattr(drive_dir, "system.posix_acl_default")
    os._exit(0)
maker = os.fork()
if maker == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534); os.umask(0o077)
    end = time.time() + secs
    i = 0
    while time.time() < end and i < 20000:
        os.close(os.open(f"{view_dir}/x{i}", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        i += 1
    os._exit(0)
for pid in (maker, flipper):
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit(f"a child failed: {status}")
modes = collections.Counter(oct(os.lstat(f"{drive_dir}/{n}").st_mode & 0o777) for n in os.listdir(drive_dir))
print(" ".join(f"{m}={c}" for m, c in sorted(modes.items())))
PY
) || fail "race: $got"
other=$(tr ' ' '\n' <<<"$got" | grep -v '^0o600=\|^0o666=')
[ -z "$other" ] || fail "race: files made through the view while the folder's default ACL came and went: $got (natively only 0o600 and 0o666)"
[[ $got == *0o6* ]] || fail "race: no file made ($got)"
ok "race: files made while the folder's default ACL came and went got a native mode ($got)"
view_stop
echo "create_modes: all checks passed"
