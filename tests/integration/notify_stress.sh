#!/bin/bash
# notify_stress.sh -- the folder watch never names a node the kernel forgot and the daemon
# reused (fs/dirwatch.c): files and folders are made and removed on a drive directly while
# clients look them up and list them through the view, and the kernel forgets inodes all the
# while (echo 2 > /proc/sys/vm/drop_caches). A notification naming a freed node id that was
# given to another node is refused by the kernel and logged as "fuse: writing device: ...";
# the daemon's log must have none. Bounded: NOTIFY_STRESS_SECONDS (20) of load. Needs root
# and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: notify_stress.sh PXEIMAGESFS_BINARY}
SECS=${NOTIFY_STRESS_SECONDS:-20}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils python3:python3
[ -w /proc/sys/vm/drop_caches ] || need "/proc/sys/vm/drop_caches is not writable"

view_sandbox notify-stress
mkdir -p "$C/w" "$D/w" "$T/e"
trap 'grep -q " $T/e " /proc/self/mountinfo && umount -l "$T/e"; view_cleanup' EXIT
mount -t tmpfs -o size=16m pxe-e "$T/e" && mkdir -p "$T/e/$IMG/w" || fail "cannot mount tmpfs"
echo file >"$T/e/$IMG/w/x"
mkdir -p "$C/w/x"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20" "E:$T/e:30"
view_start "$BIN" "$DRIVES" ""

# on the drives directly: folders with a file each, and files, made and removed; through the
# view: list, stat and read what is there; the kernel told to forget unused inodes; and a
# third drive mounted and unmounted (each view change invalidates every node)
cat >"$T/load.py" <<'PY'
import os, subprocess, sys, time
role, path, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.monotonic() + secs
i = 0
while time.monotonic() < end:
    i += 1
    try:
        if role == "churn":
            os.mkdir(f"{path}/k{i}")
            for name in (f"{path}/k{i}/f", f"{path}/f{i}"):
                with open(name, "w") as f:
                    f.write(str(i))
            if i > 4:
                os.unlink(f"{path}/k{i - 4}/f")
                os.rmdir(f"{path}/k{i - 4}")
                os.unlink(f"{path}/f{i - 4}")
        elif role == "look":
            for e in os.listdir(path):
                p = f"{path}/{e}"
                try:
                    if os.stat(p).st_mode & 0o40000:
                        os.stat(f"{p}/f")
                        os.listdir(p)
                    else:
                        open(p).read()
                except OSError:
                    pass
        elif role == "forget" and i % 20 == 0:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("2")
        elif role == "drive" and i % 100 == 0:
            # drive E comes and goes: every view change invalidates every node
            if os.path.ismount(path):
                subprocess.run(["umount", "-l", path], check=False)
            else:
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "pxe-e", path], check=False)
                os.makedirs(f"{path}/RemoteInstall/SMSImages/SMSPKG/w", exist_ok=True)
                with open(f"{path}/RemoteInstall/SMSImages/SMSPKG/w/x", "w") as f:
                    f.write("file")
    except OSError:
        pass
    if role in ("forget", "drive"):
        time.sleep(0.002)
PY
pids=()
python3 "$T/load.py" churn "$D/w" "$SECS" & pids+=($!)
python3 "$T/load.py" churn "$C/w" "$SECS" & pids+=($!)
python3 "$T/load.py" churn "$C/w/x" "$SECS" & pids+=($!)
python3 "$T/load.py" look "$V/w/x" "$SECS" & pids+=($!)
python3 "$T/load.py" look "$V/w" "$SECS" & pids+=($!)
python3 "$T/load.py" look "$V/w" "$SECS" & pids+=($!)
python3 "$T/load.py" forget /proc "$SECS" & pids+=($!)
python3 "$T/load.py" drive "$T/e" "$SECS" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done

events=$(view_status "s['counters']['folder_events']")
[ "${events:-0}" -ge 1000 ] 2>/dev/null || fail "only ${events:-no} folder events: the watch did not see the churn"
[ -d "$V/w" ] || fail "the view lost its folder"
view_stop
n=$(grep -c "writing device" "$T/log")
[ "$n" = 0 ] || { grep "writing device" "$T/log" | sort | uniq -c >&2; fail "$n notifications named a node the kernel did not know as such"; }
ok "$SECS s of churn on the drives with the kernel forgetting inodes: no notification refused ($events folder events)"
