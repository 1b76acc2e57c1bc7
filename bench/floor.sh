#!/bin/bash
# floor.sh -- how much of a FUSE request's time is the daemon's, and how much the kernel's
# round trip that every FUSE daemon pays: cases 4 cold (find+stat of 10,000 files in 50
# folders on a fresh mount), 5 (open+read+close of 1,000 files of 4 KiB, warm, 5 times per
# round) and 6 (first lookups of missing names, 10,000 per round) of bench/run.sh, on the
# native directory (case 4: its caches warm, as in run.sh), pxeimagesfs (one drive;
# passthrough, and daemon-served), mergerfs, and floorfs (bench/floorfs.c): a FUSE daemon
# that does no I/O at all and answers from arithmetic, set up as pxeimagesfs sets up its
# threads. floorfs's times are the floor for any FUSE filesystem on
# this machine; what pxeimagesfs takes above it is its own work. Prints, per case and system,
# the median time per item, its ratio to native and to floorfs, and the daemon's CPU per item
# (/proc/PID/stat, every thread, ended ones too; case 4 from the fresh mount's first request
# on, its start-up left out). Every system is mounted afresh before each round's case 4.
#
# Cases 1 and 3 (the first read of a 1 GiB file, and 8 readers of another 1 GiB file at once;
# both FUSE cache cold, right after case 4 on the fresh mount): the floor under a daemon-served
# read. floorfs copies each reply from one static buffer; pxeimagesfs daemon-served ("pxed")
# reads it from the drive into its buffer first, so it pays one more copy than the floor by
# design; the passthrough view ("pxe") and native need no daemon. Each FUSE mount's read-ahead
# is 1 MiB (the view raises its own; floor.sh raises floorfs's and mergerfs's alike).
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
mount -t tmpfs -o size=2400m floor-c "$T/c" || die "cannot mount a tmpfs"
mkdir -p "$T/c/$IMG/neg" || die "mkdir"
"$H" mktree "$T/c/$IMG/small" 10 100 4096 >/dev/null || die "cannot make the small files"
"$H" mktree "$T/c/$IMG/tree4" 50 200 0 >/dev/null || die "cannot make case 4's tree"
BIGMIB=1024
for f in big storm; do
	dd if=/dev/zero of="$T/c/$IMG/$f" bs=1M count=$BIGMIB status=none || die "cannot make $f"
done

for s in pxe pxed; do
	mkdir -p "$T/state/$s" "$T/run/$s"
	printf '[global]\n    mountpoint = %s\n    images path = RemoteInstall\\SMSImages\\SMSPKG\n' "$T/mnt/$s" >"$T/$s.conf"
	printf '    state directory = %s\n    run directory = %s\n    mount timeout = 0\n' "$T/state/$s" "$T/run/$s" >>"$T/$s.conf"
	printf '    passthrough = %s\n[drive:C]\n    path = %s\n[share]\n    samba = none\n' \
		"$([ $s = pxe ] && echo yes || echo no)" "$T/c" >>"$T/$s.conf"
	ROOT[$s]=$T/mnt/$s/$IMG
done
ROOT[mfs]=$T/mnt/mfs ROOT[floor]=$T/mnt/floor ROOT[native]=$T/c/$IMG
start_sys() { # SYSTEM: mount it, wait until it answers
	local s=$1 probe=${ROOT[$1]}/tree4
	case $s in
	native) return 0 ;;
	pxe | pxed) env -u PXEIMAGESFS_PASSTHROUGH "$BIN" mount -f -c "$T/$s.conf" >>"$T/$s.log" 2>&1 & ;;
	mfs) mergerfs -f -o allow_other,minfreespace=0,fsname=floormfs "$T/c/$IMG" "$T/mnt/mfs" >>"$T/mfs.log" 2>&1 & ;;
	floor) "$T/floorfs" "$T/mnt/floor" 50 200 $BIGMIB >>"$T/floor.log" 2>&1 & probe=$T/mnt/floor/d000 ;;
	esac
	PID[$s]=$!
	for _ in $(seq 200); do
		if grep -qF " $T/mnt/$s " /proc/self/mountinfo && [ -d "$probe" ]; then
			dev=$(mountpoint -d "$T/mnt/$s") && echo 1024 >"/sys/class/bdi/$dev/read_ahead_kb"
			return 0
		fi
		kill -0 "${PID[$s]}" 2>/dev/null || break
		sleep 0.05
	done
	die "$s did not mount: $(tail -3 "$T/$s.log")"
}
stop_sys() { # SYSTEM: unmount it, wait for its daemon (by PID)
	local s=$1
	[ -n "${PID[$s]:-}" ] || return 0
	grep -qF " $T/mnt/$s " /proc/self/mountinfo && umount "$T/mnt/$s"
	timeout 20 tail --pid="${PID[$s]}" -f /dev/null || kill "${PID[$s]}"
	wait "${PID[$s]}" 2>/dev/null
	unset "PID[$s]"
}

cpu() { [ -n "${PID[$1]:-}" ] && sed 's/^.*) //' /proc/"${PID[$1]}"/stat | awk '{ print $12 + $13 }' || echo 0; }
HZ=$(getconf CLK_TCK)
for ((r = 0; r <= REPS; r++)); do
	for s in "${SYSTEMS[@]}"; do
		small=${ROOT[$s]}/small neg=${ROOT[$s]}/neg tree=${ROOT[$s]}/tree4
		[ $s = floor ] && small=$T/mnt/floor neg=$T/mnt/floor tree=$T/mnt/floor
		stop_sys $s
		start_sys $s
		sleep 0.3 # the other daemons rescan on the mount-table change; let them settle
		"$H" idle 10 30000 >/dev/null || true
		c0=$(cpu $s)
		o4=$("$H" walk "$tree") || die "case 4 on $s failed"
		c1=$(cpu $s)
		[ "${o4% *}" = 10050 ] || die "case 4 on $s: $o4 (10,050 entries expected)"
		big=${ROOT[$s]}/big storm=${ROOT[$s]}/storm
		"$H" idle 10 30000 >/dev/null || true
		c5=$(cpu $s)
		o1=$("$H" read "$big") || die "case 1 on $s failed"
		c6=$(cpu $s)
		[ "${o1% *}" = $((BIGMIB << 20)) ] || die "case 1 on $s: $o1 ($((BIGMIB << 20)) bytes expected)"
		"$H" idle 10 30000 >/dev/null || true
		o3=$("$H" storm 8 "$storm") || die "case 3 on $s failed"
		c7=$(cpu $s)
		[ "${o3% *}" = $((8 * (BIGMIB << 20))) ] || die "case 3 on $s: $o3 (8 x $BIGMIB MiB expected)"
		"$H" idle 10 30000 >/dev/null || true
		c2=$(cpu $s) t5=0
		for _ in 1 2 3 4 5; do # 5,000 opens: enough clock ticks of the daemon's CPU
			o5=$("$H" openread "$small" 10 100) || die "case 5 on $s failed"
			t5=$((t5 + ${o5#* }))
		done
		c3=$(cpu $s)
		"$H" idle 10 30000 >/dev/null || true
		o6=$("$H" neg "$neg" 10000 "r$r") || die "case 6 on $s failed"
		c4=$(cpu $s)
		[ $r = 0 ] || echo "$s ${o4#* } $((c1 - c0)) $t5 $((c3 - c2)) ${o6#* } $((c4 - c3)) ${o1#* } $((c6 - c5)) ${o3#* } $((c7 - c6))" >>"$T/samples"
	done
done
python3 - "$T/samples" "$HZ" "$REPS" "$BIGMIB" <<'PY'
import statistics as st, sys
path, hz, reps, mib = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
# entries walked, files opened, names looked up, MiB read (case 1, case 3) per sample
ITEMS = (10050, 5000, 10000, mib, 8 * mib)
rows = {}
for line in open(path):
    s, *v = line.split()
    rows.setdefault(s, []).append([int(x) for x in v])
# per case: (median ns per item, median daemon CPU in us per item)
med = {s: [(st.median(r[2 * c] for r in v) / ITEMS[c],
            st.median(r[2 * c + 1] for r in v) / hz * 1e6 / ITEMS[c]) for c in range(5)]
       for s, v in rows.items()}
names = {"native": "native directory", "floor": "floorfs (no I/O)", "pxe": "pxeimagesfs, passthrough",
         "pxed": "pxeimagesfs, daemon-served", "mfs": "mergerfs, defaults"}
print(f"medians of {reps} rounds; time per entry (case 4), file (case 5) or name (case 6) and the "
      "daemon's CPU per item")
for c, title in enumerate(("case 4 cold: find+stat of 10,050 entries on a fresh mount",
                           "case 5: open+read+close of a 4 KiB file, warm",
                           "case 6: first lookup of a missing name")):
    print(f"\n{title}\n")
    print("| system | time | vs native | vs floorfs | daemon CPU |")
    print("|---|---:|---:|---:|---:|")
    n, f = med["native"][c][0], med["floor"][c][0]
    for s in ["native", "floor", "pxe", "pxed", "mfs"]:
        t, cpu = med[s][c]
        cpu = f"{cpu:.1f} us" if s != "native" else "-"
        print(f"| {names[s]} | {t / 1000:.2f} us | {t / n:.2f}x | {t / f:.2f}x | {cpu} |")
for c, title in ((3, f"case 1: first read of a {mib} MiB file, FUSE cache cold"),
                 (4, f"case 3: 8 readers of one {mib} MiB file at once, FUSE cache cold (aggregate)")):
    print(f"\n{title}\n")
    print("| system | MB/s | vs native | vs floorfs | daemon CPU per MiB |")
    print("|---|---:|---:|---:|---:|")
    n, f = med["native"][c][0], med["floor"][c][0]
    for s in ["native", "floor", "pxe", "pxed", "mfs"]:
        t, cpu = med[s][c]
        cpu = f"{cpu:.0f} us" if s != "native" else "-"
        print(f"| {names[s]} | {(1 << 20) / t * 1000:,.0f} | {n / t:.2f}x | {f / t:.2f}x | {cpu} |")
PY
