#!/bin/bash
# floor.sh -- how much of a FUSE request's time is the daemon's, and how much the kernel's
# round trip that every FUSE daemon pays: cases 5 (open+read+close of 1,000 files of 4 KiB,
# warm, 5 times per round) and 6 (first lookups of missing names, 10,000 per round) of
# bench/run.sh, on the native directory, pxeimagesfs (one drive; passthrough, and daemon-served), mergerfs, and floorfs
# (bench/floorfs.c): a FUSE daemon that does no I/O at all and answers from arithmetic, set up
# as pxeimagesfs sets up its threads. floorfs's times are the floor for any FUSE filesystem on
# this machine; what pxeimagesfs takes above it is its own work. Prints, per case and system,
# the median time per file or name, its ratio to native and to floorfs, and the daemon's CPU
# per file or name (/proc/PID/stat, every thread, ended ones too).
#
#   bash bench/floor.sh [REPS]      (as root; default 7 measured rounds after one warm-up)
#
# Each round measures every system in turn, after waiting (at most 30 s) for the CPUs to be
# at most 10% busy. Everything is made in one mktemp -d /tmp/pxeimagesfs-floor.XXXXXX, removed
# at exit; only the daemons it started are stopped, by PID. PXEIMAGESFS_BIN selects the binary
# (default: build-bench/cli/pxeimagesfs, as bench/run.sh builds it); floorfs is built against
# the same libfuse (build-bench/libfuse/install).
set -u -o pipefail
REPS=${1:-7}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${PXEIMAGESFS_BIN:-$HERE/../build-bench/cli/pxeimagesfs}
LF=$HERE/../build-bench/libfuse/install
IMG=RemoteInstall/SMSImages/SMSPKG
SYSTEMS=(native floor pxe pxed mfs)
die() { echo "floor.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (mounts)"
[[ $REPS =~ ^[1-9][0-9]?$ ]] || die "REPS must be a number from 1 to 99"
[ -x "$BIN" ] || die "$BIN is missing: build it (bash bench/run.sh --only 1 --quick builds build-bench) or set PXEIMAGESFS_BIN"
[ -f "$LF/lib/libfuse3.a" ] || die "$LF has no libfuse3.a: build build-bench first (bash bench/run.sh --only 1 --quick)"
for t in gcc mergerfs pkg-config; do command -v $t >/dev/null || die "$t is missing: apt-get install $t"; done

T=$(mktemp -d /tmp/pxeimagesfs-floor.XXXXXX) || die "mktemp"
declare -A PID ROOT
cleanup() {
	local s m
	for s in "${!PID[@]}"; do kill "${PID[$s]}" 2>/dev/null; done
	for s in "${!PID[@]}"; do timeout 20 tail --pid="${PID[$s]}" -f /dev/null; done
	for m in "$T"/mnt/*; do grep -qF " $m " /proc/self/mountinfo && umount "$m"; done
	grep -qF " $T/c " /proc/self/mountinfo && umount "$T/c"
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T/c" "$T/mnt/floor" "$T/mnt/pxe" "$T/mnt/pxed" "$T/mnt/mfs" || die "mkdir"
gcc -O2 -Wall -Wextra -o "$T/bhelper" "$HERE/bhelper.c" || die "cannot build bench/bhelper.c"
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -O2 -Wall -Wextra -I"$LF/include/fuse3" -o "$T/floorfs" "$HERE/floorfs.c" "$LF/lib/libfuse3.a" \
	-lpthread -ldl $(pkg-config --libs liburing 2>/dev/null) $([ -e /usr/include/numa.h ] && echo -lnuma) ||
	die "cannot build bench/floorfs.c"
H=$T/bhelper
mount -t tmpfs -o size=256m floor-c "$T/c" || die "cannot mount a tmpfs"
mkdir -p "$T/c/$IMG/neg" || die "mkdir"
"$H" mktree "$T/c/$IMG/small" 10 100 4096 >/dev/null || die "cannot make the small files"

wait_mount() { # SYSTEM DIR
	for _ in $(seq 200); do
		grep -qF " $T/mnt/$1 " /proc/self/mountinfo && [ -d "$2" ] && return 0
		kill -0 "${PID[$1]}" 2>/dev/null || break
		sleep 0.05
	done
	die "$1 did not mount: $(tail -3 "$T/$1.log")"
}
for s in pxe pxed; do
	mkdir -p "$T/state/$s" "$T/run/$s"
	printf '[global]\n    mountpoint = %s\n    images path = RemoteInstall\\SMSImages\\SMSPKG\n' "$T/mnt/$s" >"$T/$s.conf"
	printf '    state directory = %s\n    run directory = %s\n    mount timeout = 0\n' "$T/state/$s" "$T/run/$s" >>"$T/$s.conf"
	printf '    passthrough = %s\n[drive:C]\n    path = %s\n[share]\n    samba = none\n' \
		"$([ $s = pxe ] && echo yes || echo no)" "$T/c" >>"$T/$s.conf"
	env -u PXEIMAGESFS_PASSTHROUGH "$BIN" mount -f -c "$T/$s.conf" >"$T/$s.log" 2>&1 &
	PID[$s]=$!
	ROOT[$s]=$T/mnt/$s/$IMG
	wait_mount $s "${ROOT[$s]}/small"
done
mergerfs -f -o allow_other,minfreespace=0,fsname=floormfs "$T/c/$IMG" "$T/mnt/mfs" >"$T/mfs.log" 2>&1 &
PID[mfs]=$! ROOT[mfs]=$T/mnt/mfs
wait_mount mfs "${ROOT[mfs]}/small"
"$T/floorfs" "$T/mnt/floor" >"$T/floor.log" 2>&1 &
PID[floor]=$!
wait_mount floor "$T/mnt/floor"
ROOT[native]=$T/c/$IMG ROOT[floor]=$T/mnt/floor

cpu() { [ -n "${PID[$1]:-}" ] && sed 's/^.*) //' /proc/"${PID[$1]}"/stat | awk '{ print $12 + $13 }' || echo 0; }
HZ=$(getconf CLK_TCK)
for ((r = 0; r <= REPS; r++)); do
	for s in "${SYSTEMS[@]}"; do
		small=${ROOT[$s]}/small neg=${ROOT[$s]}/neg
		[ $s = floor ] && small=$T/mnt/floor neg=$T/mnt/floor
		"$H" idle 10 30000 >/dev/null || true
		c0=$(cpu $s) t5=0
		for _ in 1 2 3 4 5; do # 5,000 opens: enough clock ticks of the daemon's CPU
			o5=$("$H" openread "$small" 10 100) || die "case 5 on $s failed"
			t5=$((t5 + ${o5#* }))
		done
		c1=$(cpu $s)
		"$H" idle 10 30000 >/dev/null || true
		o6=$("$H" neg "$neg" 10000 "r$r") || die "case 6 on $s failed"
		c2=$(cpu $s)
		[ $r = 0 ] || echo "$s $t5 $((c1 - c0)) ${o6#* } $((c2 - c1))" >>"$T/samples"
	done
done
python3 - "$T/samples" "$HZ" "$REPS" <<'PY'
import statistics as st, sys
path, hz, reps = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(path):
    s, t5, c5, t6, c6 = line.split()
    rows.setdefault(s, []).append((int(t5) / 5000, int(c5), int(t6) / 10000, int(c6)))
# ns per file or name; the daemon's CPU in us per file or name
med = {s: (st.median(r[0] for r in v), st.median(r[1] for r in v) / hz * 1e6 / 5000,
           st.median(r[2] for r in v), st.median(r[3] for r in v) / hz * 1e6 / 10000)
       for s, v in rows.items()}
names = {"native": "native directory", "floor": "floorfs (no I/O)", "pxe": "pxeimagesfs, passthrough",
         "pxed": "pxeimagesfs, daemon-served", "mfs": "mergerfs, defaults"}
print(f"medians of {reps} rounds; time per file (case 5) or name (case 6); daemon CPU per file or name")
print("| system | case 5 | vs native | vs floorfs | daemon CPU | case 6 | vs native | vs floorfs | daemon CPU |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
n, f = med["native"], med["floor"]
for s in ["native", "floor", "pxe", "pxed", "mfs"]:
    m = med[s]
    cpu5 = f"{m[1]:.1f} us" if s != "native" else "-"
    cpu6 = f"{m[3]:.1f} us" if s != "native" else "-"
    print(f"| {names[s]} | {m[0] / 1000:.1f} us | {m[0] / n[0]:.2f}x | {m[0] / f[0]:.2f}x | {cpu5} "
          f"| {m[2] / 1000:.1f} us | {m[2] / n[2]:.2f}x | {m[2] / f[2]:.2f}x | {cpu6} |")
PY
