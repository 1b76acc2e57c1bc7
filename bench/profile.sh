#!/bin/bash
# profile.sh -- where a FUSE workload's time goes: dbench (Debian's, its file I/O backend) on
# the native directory, pxeimagesfs (one drive, passthrough and daemon-served) and mergerfs,
# each counted by the kernel's own FUSE tracepoints (fuse:fuse_request_send/_end, filtered to
# that one mount's connection): requests by opcode, requests per dbench operation, the mean
# time from a request's send to its end (the round trip: queueing, the daemon's work, both
# wake-ups) and the daemon's CPU time per request (/proc/PID/stat, which also counts the
# worker threads that have ended). If the daemon's CPU per request is a small part of the
# round trip, the rest is the kernel's transport, which every FUSE filesystem pays alike
# (mergerfs is the reference); if it is most of it, the daemon is the bottleneck.
#
# The floor for a daemon-served load: "pll", libfuse's own minimal passthrough daemon
# (passthrough_ll.c from the examples libfuse3-dev ships, built against the libfuse the view
# uses, build-bench/libfuse/install), with one change: like the view it reads requests without
# splicing (see fs/fs.c op_init; libfuse's splice needs CAP_SYS_RESOURCE, which this
# machine's root and containers lack). It does each request's syscall on the backing
# directory and nothing else: no drives, no case folding, no checks.
#
#   bash bench/profile.sh [SECONDS [CLIENTS]]      (as root; defaults 8 s, 8 clients)
#
# Each system runs dbench twice: untraced (its MB/s and the daemon's CPU per request, counting
# the requests of the traced run's rate) and traced (the counts and the round trips). Everything
# is made in one mktemp -d /tmp/pxeimagesfs-prof.XXXXXX and a private tracing instance, both
# removed at exit; only the daemons it started are stopped, by PID. PXEIMAGESFS_BIN selects the
# binary (default: build-bench/cli/pxeimagesfs, as bench/run.sh builds it).
set -u -o pipefail
SECS=${1:-8} CLIENTS=${2:-8}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${PXEIMAGESFS_BIN:-$HERE/../build-bench/cli/pxeimagesfs}
LOAD=/usr/share/dbench/client.txt
PLL_SRC=/usr/share/doc/libfuse3-dev/examples
LF=$HERE/../build-bench/libfuse/install
IMG=RemoteInstall/SMSImages/SMSPKG
TR=/sys/kernel/tracing
die() { echo "profile.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (mounts, tracing)"
[ -x "$BIN" ] || die "$BIN is missing: build it (bash bench/run.sh --only 1 --quick builds build-bench) or set PXEIMAGESFS_BIN"
for t in dbench mergerfs python3; do command -v $t >/dev/null || die "$t is missing: apt-get install $t"; done
[ -r "$LOAD" ] || die "$LOAD is missing: apt-get install dbench"
[ -r "$PLL_SRC/passthrough_ll.c" ] || die "$PLL_SRC/passthrough_ll.c is missing: apt-get install libfuse3-dev"
[ -f "$LF/lib/libfuse3.a" ] || die "$LF has no libfuse3.a: build build-bench first (bash bench/run.sh --only 1 --quick)"

T=$(mktemp -d /tmp/pxeimagesfs-prof.XXXXXX) || die "mktemp"
INST=$TR/instances/pxeimagesfs-prof-$$
declare -A PID
TR_MOUNTED=
cleanup() {
	local s
	for s in "${!PID[@]}"; do kill "${PID[$s]}" 2>/dev/null; done
	for s in "${!PID[@]}"; do timeout 20 tail --pid="${PID[$s]}" -f /dev/null; done
	for m in "$T"/mnt/*; do grep -qF " $m " /proc/self/mountinfo && umount "$m"; done
	grep -qF " $T/c " /proc/self/mountinfo && umount "$T/c"
	[ -d "$INST" ] && rmdir "$INST"
	[ -n "$TR_MOUNTED" ] && umount $TR
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# tracefs: mounted here for the run when it is not (and unmounted at exit)
if [ ! -d $TR/events ] && grep -qw tracefs /proc/filesystems; then
	mount -t tracefs nodev $TR || die "cannot mount tracefs at $TR"
	TR_MOUNTED=1
fi
[ -d $TR/events/fuse ] || die "this kernel has no fuse tracepoints in $TR/events/fuse"
mkdir -p "$T/c" "$T/mnt/pxe" "$T/mnt/pxed" "$T/mnt/mfs" "$T/mnt/pll" "$T/conf" || die "mkdir"
# passthrough_ll, requests read with read(2) as the view reads them
sed '0,/struct lo_data \*lo = (struct lo_data\*) userdata;/s//&\n\tconn->want \&= ~FUSE_CAP_SPLICE_READ;/' \
	"$PLL_SRC/passthrough_ll.c" >"$T/pll.c" || die "cannot copy passthrough_ll.c"
grep -q 'want &= ~FUSE_CAP_SPLICE_READ' "$T/pll.c" || die "cannot patch passthrough_ll.c's lo_init"
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -O2 -w -I"$PLL_SRC" -I"$LF/include/fuse3" -o "$T/pll" "$T/pll.c" "$LF/lib/libfuse3.a" \
	-lpthread -ldl $(pkg-config --libs liburing 2>/dev/null) $([ -e /usr/include/numa.h ] && echo -lnuma) ||
	die "cannot build passthrough_ll.c"
mount -t tmpfs -o size=2g prof-c "$T/c" || die "cannot mount a tmpfs"
mkdir -p "$T/c/$IMG" || die "mkdir"
mkdir "$INST" || die "cannot create the tracing instance $INST"
echo 65536 >"$INST/buffer_size_kb"

conf() { # NAME PASSTHROUGH
	mkdir -p "$T/state/$1" "$T/run/$1"
	printf '[global]\n    mountpoint = %s\n    images path = RemoteInstall\\SMSImages\\SMSPKG\n' "$T/mnt/$1"
	printf '    state directory = %s\n    run directory = %s\n' "$T/state/$1" "$T/run/$1"
	printf '    mount timeout = 0\n    passthrough = %s\n[drive:C]\n    path = %s\n[share]\n    samba = none\n' "$2" "$T/c"
}
start() { # SYSTEM -> PID[SYSTEM], ROOT: the folder dbench runs in
	local s=$1
	case $s in
	pxe | pxed)
		conf "$s" "$([ "$s" = pxe ] && echo yes || echo no)" >"$T/conf/$s.conf"
		env -u PXEIMAGESFS_PASSTHROUGH "$BIN" mount -f -c "$T/conf/$s.conf" >"$T/$s.log" 2>&1 &
		PID[$s]=$! ROOT=$T/mnt/$s/$IMG ;;
	mfs) # minfreespace: creates only (mergerfs's default, 4 GiB, is more than the tmpfs has)
		mergerfs -f -o allow_other,minfreespace=0,fsname=mfsprof "$T/c/$IMG" "$T/mnt/mfs" >"$T/$s.log" 2>&1 &
		PID[$s]=$! ROOT=$T/mnt/mfs ;;
	pll) # its default cache (1 s entry and attribute timeouts), no writeback cache
		"$T/pll" -f -o source="$T/c/$IMG",max_idle_threads=8 "$T/mnt/pll" >"$T/$s.log" 2>&1 &
		PID[$s]=$! ROOT=$T/mnt/pll ;;
	esac
	for _ in $(seq 200); do
		grep -qF " $T/mnt/$s " /proc/self/mountinfo && [ -d "$ROOT" ] && return 0
		sleep 0.05
	done
	die "$s did not mount: $(tail -3 "$T/$s.log")"
}
cpu_ticks() { # PID -> utime+stime of the process, in clock ticks: /proc/PID/stat counts the
	# threads that have ended too (libfuse ends idle workers; /proc/PID/task/*/stat does not)
	sed 's/^.*) //' /proc/"$1"/stat 2>/dev/null | awk '{ print $12 + $13 } END { if (NR == 0) print 0 }'
}
run_dbench() { # DIR -> dbench's output
	local d=$1/prof-$RANDOM
	mkdir "$d" && (cd "$d" && dbench -c "$LOAD" -D "$d" -t "$SECS" "$CLIENTS" 2>&1)
	rm -rf "$d"
}
mbs() { sed -n 's/^Throughput \([0-9.]*\) MB\/sec.*/\1/p'; }
ops() { awk '$1 ~ /^[A-Z][A-Za-z]+$/ && $2 ~ /^[0-9]+$/ && NF == 4 { n += $2 } END { print n + 0 }'; }

HZ=$(getconf CLK_TCK)
printf 'dbench %s clients, %s s per run; tracing instance %s\n\n' "$CLIENTS" "$SECS" "$INST"
out=$(run_dbench "$T/c/$IMG")
printf '%-6s %10s\n' native "$(echo "$out" | mbs) MB/s, $(echo "$out" | ops) dbench ops"
for s in pxe pxed pll mfs; do
	start "$s"
	root=$ROOT
	dev=$(stat -c %d "$T/mnt/$s")
	run_dbench "$root" >/dev/null # warm-up
	c0=$(cpu_ticks "${PID[$s]}")
	out=$(run_dbench "$root")
	c1=$(cpu_ticks "${PID[$s]}")
	for e in fuse_request_send fuse_request_end; do
		echo "connection == $dev" >"$INST/events/fuse/$e/filter"
		echo 1 >"$INST/events/fuse/$e/enable"
	done
	: >"$INST/trace"
	cat "$INST/trace_pipe" >"$T/trace-$s" &
	tp=$!
	tout=$(run_dbench "$root")
	for e in fuse_request_send fuse_request_end; do echo 0 >"$INST/events/fuse/$e/enable"; done
	sleep 0.5
	kill $tp 2>/dev/null
	wait $tp 2>/dev/null
	python3 - "$s" "$T/trace-$s" "$(echo "$out" | mbs)" "$(echo "$out" | ops)" \
		"$(echo "$tout" | ops)" "$(( (c1 - c0) ))" "$HZ" "$SECS" <<'PY'
import re, sys
name, path, mbs, ops, tops, ticks, hz, secs = sys.argv[1:]
ops, tops, ticks, hz = int(ops), int(tops), int(ticks), int(hz)
send, count, lat = {}, {}, {}
pat = re.compile(r'\s(\d+\.\d+): (fuse_request_send|fuse_request_end): connection \d+ req (\d+) (?:opcode \d+ \((\w+)\)|len)')
for line in open(path, errors='replace'):
    m = pat.search(line)
    if not m:
        continue
    ts, ev, req, op = float(m.group(1)), m.group(2), m.group(3), m.group(4)
    if ev == 'fuse_request_send':
        send[req] = (ts, op)
    elif req in send:
        t0, op = send.pop(req)
        op = op.replace('FUSE_', '')
        count[op] = count.get(op, 0) + 1
        lat[op] = lat.get(op, 0.0) + (ts - t0)
reqs = sum(count.values())
per_op = reqs / tops if tops else 0
# the untraced run's requests: its dbench operations times the traced run's requests per operation
ureqs = ops * per_op
cpu_us = ticks / hz * 1e6 / ureqs if ureqs else 0
rt_us = sum(lat.values()) / reqs * 1e6 if reqs else 0
print(f"{name:6} {mbs} MB/s, {ops} dbench ops; {per_op:.2f} FUSE requests per op; "
      f"round trip {rt_us:.1f} us mean; daemon CPU {cpu_us:.1f} us per request "
      f"({100 * cpu_us / rt_us if rt_us else 0:.0f}% of the round trip)")
top = sorted(count, key=lambda o: -count[o])[:10]
print("       " + ", ".join(f"{o} {100 * count[o] / reqs:.0f}% ({1e6 * lat[o] / count[o]:.0f} us)" for o in top))
PY
	kill "${PID[$s]}"
	timeout 20 tail --pid="${PID[$s]}" -f /dev/null
	unset "PID[$s]"
	grep -qF " $T/mnt/$s " /proc/self/mountinfo && umount "$T/mnt/$s"
done
exit 0
