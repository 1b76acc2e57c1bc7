#!/bin/bash
# run.sh -- the benchmark: pxeimagesfs against the native directory and mergerfs, one command.
#
#   bash bench/run.sh [--quick] [--only CASES] [--keep]
#
# Builds the product into build-bench/ (RelWithDebInfo) unless PXEIMAGESFS_BIN names a binary,
# installs mergerfs/samba/smbclient when missing, creates everything under one mktemp -d
# directory, measures every case on every system in the same run over the same backing
# directory, and writes bench/RESULTS.md (--quick: fewer, smaller runs into RESULTS.quick.md;
# --only 1,6: just those cases, into RESULTS.partial.md; --keep: set everything up, print where
# it is, and wait for Ctrl-C, to profile by hand). Everything it mounts or starts is unmounted or
# stopped, by its own PID, at exit. Needs root.
#
# Environment: PXEIMAGESFS_BIN (binary to measure), BENCH_BACKING=tmpfs|rootfs (default tmpfs:
# the backing store is a tmpfs at $T/c; rootfs: a directory on the root filesystem bind-mounted
# at $T/c), BENCH_REPS (measured repetitions per case, default 5; --quick 3), BENCH_PORT (the
# private smbd, default 44591), BENCH_IDLE_WAIT (seconds to wait for an idle machine at start,
# default 120), BENCH_GATE_S (the same before each run, default 30), BENCH_PXE_OPTS (-o options
# for every pxeimagesfs mount, e.g. io_uring with a binary built against libfuse 3.18: the bench
# then sets /sys/module/fuse/parameters/enable_uring to Y and restores it at exit),
# BENCH_SMB_VIEW_OPTS (smb.conf lines, one per line, to try a share setting before
# export/share.c generates it: case 10 then also runs on a share "pxe1x", the one-drive view
# with those lines added, beside the view's own share in the same run), BENCH_IO_URING=1 (two
# more systems in the same run, pxe1u and pxe1du: pxe1 and pxe1d with `fuse transport =
# io_uring`; enable_uring is set to Y for the run and restored at exit; case 11 runs on them too).
# Every sample of a pxeimagesfs system also records the daemon's CPU time (utime + stime of the
# process, clock ticks) as case CASEcpu.
set -u -o pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(dirname "$BENCH")
QUICK=0 KEEP=0 ONLY=''
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--only) ONLY=${2:-}; shift ;;
	-h | --help) sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1' (usage: bash bench/run.sh [--quick] [--only 1,2,...] [--keep])" >&2; exit 2 ;;
	esac
	shift
done
case ",${ONLY:-1}," in
*[!0-9b,]*) echo "run.sh: --only takes case numbers 1..11 and 6b, e.g. --only 1,6,6b" >&2; exit 2 ;;
esac
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

BACKING=${BENCH_BACKING:-tmpfs}
PORT=${BENCH_PORT:-44591}
READERS=8
if [ $QUICK = 1 ]; then
	REPS=${BENCH_REPS:-3}
	BIG_MIB=256 STORM_MIB=128
	T4_DIRS=50 T4_PER=40 T9_PER=400 # 2,000 and 20,000 files
	SMALL_DIRS=10 SMALL_PER=100     # 1,000 files of 4 KiB
	NEG=2000
	SMB_N=300 SMB_REPS=2 # case 10: 300 gets of small files and 300 missing names, 2 measured runs
	DB_T=5 DB_REPS=1     # case 11: dbench seconds per measured run, measured runs
	OUT=$BENCH/RESULTS.quick.md
else
	REPS=${BENCH_REPS:-5}
	BIG_MIB=2048 STORM_MIB=1024
	T4_DIRS=50 T4_PER=200 T9_PER=2000 # 10,000 and 100,000 files in 50 directories
	SMALL_DIRS=10 SMALL_PER=500       # 5,000 files of 4 KiB
	NEG=10000
	SMB_N=2000 SMB_REPS=3
	DB_T=30 DB_REPS=2
	OUT=$BENCH/RESULTS.md
fi
[ -n "$ONLY" ] && OUT=$BENCH/RESULTS.partial.md
# pxe1, pxe2: kernel passthrough (when the kernel offers it); pxe1d, pxe2d: passthrough = no
SYSTEMS=(native pxe1 pxe2 pxe1d pxe2d mfsdef mfspart)
FUSE_SYSTEMS=(pxe1 pxe2 pxe1d pxe2d mfsdef mfspart)
# case 11 writes about 100 MiB per run: not through the unions, whose primary is the 64 MiB drive D;
# mergerfs-default is the FUSE reference, with its minfreespace (4 GiB by default, more than the
# backing tmpfs has free) set to 0 at run time for this case only (it governs creates only)
DB_SYSTEMS=(native pxe1 pxe1d mfsdef)
# case 10 is metadata only: the daemon-served views would repeat the passthrough ones
SMB_SYSTEMS=(native pxe1 pxe2 mfsdef)
if [ -n "${BENCH_SMB_VIEW_OPTS:-}" ]; then # the one-drive view's share with those lines added
	SMB_SYSTEMS+=(pxe1x)
fi
# pxe1u, pxe1du: pxe1 and pxe1d over FUSE over io_uring (BENCH_IO_URING=1)
PXE_SYSTEMS=(pxe1 pxe2 pxe1d pxe2d)
if [ "${BENCH_IO_URING:-0}" = 1 ]; then
	SYSTEMS=(native pxe1 pxe1u pxe2 pxe1d pxe1du pxe2d mfsdef mfspart)
	FUSE_SYSTEMS=(pxe1 pxe1u pxe2 pxe1d pxe1du pxe2d mfsdef mfspart)
	PXE_SYSTEMS=(pxe1 pxe1u pxe2 pxe1d pxe1du pxe2d)
	DB_SYSTEMS=(native pxe1 pxe1u pxe1d pxe1du mfsdef)
fi
DB_CLIENTS=8
PXE_OPTS=${BENCH_PXE_OPTS:-}
URING=/sys/module/fuse/parameters/enable_uring URING_OLD=''
IMG='RemoteInstall/SMSImages/SMSPKG'
MFS_DEF_OPTS='allow_other'
MFS_PART_OPTS='allow_other,cache.files=partial,dropcacheonclose=true'

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

# ---------------------------------------------------------------- prerequisites, build

[ "$(id -u)" = 0 ] || die "needs root (it mounts tmpfs, bind mounts and FUSE filesystems)"
[ -c /dev/fuse ] || die "no /dev/fuse"
. "$SRC/packaging/deps.sh"
pxe_install mergerfs samba smbclient dbench fuse3 python3 gcc libc6-dev util-linux ||
	die "cannot install the packages the benchmark needs"
BUILD=$SRC/build-bench
mkdir -p "$BUILD"
if [ -n "${PXEIMAGESFS_BIN:-}" ]; then
	BIN=$(readlink -f "$PXEIMAGESFS_BIN")
	[ -x "$BIN" ] || die "PXEIMAGESFS_BIN=$PXEIMAGESFS_BIN is not an executable"
else
	log "building pxeimagesfs into $BUILD (RelWithDebInfo)"
	pxe_install "${PXE_BUILD_DEPS[@]}" || die "cannot install the build dependencies"
	pxe_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPXE_TESTS=OFF || die "build failed"
	BIN=$BUILD/cli/pxeimagesfs
fi
# what was measured: the source tree's commit, and whether the product's sources differ from it
SOURCE="$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "$(git -C "$SRC" status --porcelain -- config resolver fs export cli CMakeLists.txt 2>/dev/null)" ]; then
	SOURCE="$SOURCE + uncommitted changes (config/ resolver/ fs/ export/ cli/)"
fi
if [ -n "${PXEIMAGESFS_BIN:-}" ]; then
	SOURCE="binary given by PXEIMAGESFS_BIN, built $(date -u -r "$BIN" +%Y-%m-%dT%H:%MZ); source tree at $SOURCE"
else
	SOURCE="built by run.sh from $SOURCE"
fi
HELPER=$BUILD/bhelper
gcc -O2 -Wall -Wextra -o "$HELPER" "$BENCH/bhelper.c" || die "cannot build bench/bhelper.c"

# ---------------------------------------------------------------- the sandbox and its cleanup

T=$(mktemp -d /tmp/pxeimagesfs-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$T" # smbd serves guests as nobody, who must traverse it
declare -A PID=() MNT=() ROOT=()
SMBD_PID='' SLEEP_PID=''
STARTED=$(date +%s)

cleanup() {
	local s p
	set +e
	[ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
	if [ -n "$SMBD_PID" ]; then
		kill -TERM -- "-$SMBD_PID" 2>/dev/null
		wait "$SMBD_PID" 2>/dev/null
	fi
	# samba-dcerpcd and its workers leave smbd's process group; ours name our smb.conf
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "--configfile=$T/smb/smb.conf" &&
			kill -TERM "${p#/proc/}" 2>/dev/null
	done
	for s in "${FUSE_SYSTEMS[@]}" floor; do
		[ -n "${PID[$s]:-}" ] && stop_sys "$s"
	done
	for p in "$T/d" "$T/c"; do
		mountpoint -q "$p" 2>/dev/null && { umount "$p" || umount -l "$p"; }
	done
	if [ -n "$URING_OLD" ]; then
		echo "$URING_OLD" >"$URING" || log "cleanup: cannot restore $URING to $URING_OLD"
	fi
	if grep -qF " $T/" /proc/self/mountinfo; then
		log "cleanup: something is still mounted under $T; left it in place"
	else
		rm -rf --one-file-system "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- systems

ROOT[native]=$T/c/$IMG
for s in "${FUSE_SYSTEMS[@]}"; do
	MNT[$s]=$T/mnt/$s
	mkdir -p "${MNT[$s]}"
done
for s in "${PXE_SYSTEMS[@]}"; do
	ROOT[$s]=${MNT[$s]}/$IMG
done
ROOT[mfsdef]=${MNT[mfsdef]}
ROOT[pxe1x]=${ROOT[pxe1]}
ROOT[mfspart]=${MNT[mfspart]}

write_pxe_conf() { # NAME PASSTHROUGH(yes|no) TRANSPORT(dev|io_uring) [D]
	local name=$1 pt=$2 tr=$3; shift 3
	mkdir -p "$T/conf" "$T/state/$name" "$T/run/$name"
	{
		printf '[global]\n    mountpoint = %s\n' "${MNT[$name]}"
		printf '    images path = RemoteInstall\\SMSImages\\SMSPKG\n    mode = union\n'
		printf '    state directory = %s\n    run directory = %s\n' "$T/state/$name" "$T/run/$name"
		printf '    mount timeout = 0\n    passthrough = %s\n' "$pt"
		printf '    fuse transport = %s\n' "$tr"
		printf '[drive:C]\n    path = %s\n    priority = 10\n' "$T/c"
		if [ "${1:-}" = D ]; then
			printf '[drive:D]\n    path = %s\n    priority = 20\n' "$T/d"
		fi
		printf '[share]\n    samba = none\n'
	} >"$T/conf/$name.conf"
}

start_sys() { # SYSTEM: mount it, wait until its images folder answers
	local s=$1
	case $s in
	pxe*) env -u PXEIMAGESFS_PASSTHROUGH "$BIN" mount -f -c "$T/conf/$s.conf" ${PXE_OPTS:+-o "$PXE_OPTS"} \
		>>"$T/log/$s.log" 2>&1 & ;;
	mfsdef) mergerfs -f -o "$MFS_DEF_OPTS,fsname=mfsdef" "$T/c/$IMG" "${MNT[$s]}" >>"$T/log/$s.log" 2>&1 & ;;
	mfspart) mergerfs -f -o "$MFS_PART_OPTS,fsname=mfspart" "$T/c/$IMG" "${MNT[$s]}" >>"$T/log/$s.log" 2>&1 & ;;
	esac
	PID[$s]=$!
	for _ in $(seq 500); do
		if grep -qF " ${MNT[$s]} " /proc/self/mountinfo && [ -d "${ROOT[$s]}/tree4" ]; then
			return 0
		fi
		kill -0 "${PID[$s]}" 2>/dev/null || break
		sleep 0.02
	done
	cat "$T/log/$s.log" >&2
	die "$s did not come up at ${MNT[$s]}"
}

stop_sys() { # SYSTEM: unmount it, wait for its daemon (by PID)
	local s=$1
	if grep -qF " ${MNT[$s]} " /proc/self/mountinfo; then
		umount "${MNT[$s]}" 2>/dev/null || umount -l "${MNT[$s]}"
	fi
	for _ in $(seq 250); do
		kill -0 "${PID[$s]}" 2>/dev/null || break
		sleep 0.02
	done
	kill -0 "${PID[$s]}" 2>/dev/null && kill -TERM "${PID[$s]}"
	wait "${PID[$s]}" 2>/dev/null
	PID[$s]=
}

# A fresh mount: the FUSE mount's page cache, dentries and attributes are gone, the lower
# page cache (tmpfs, or the warmed root filesystem) is untouched. Native: nothing to drop.
cold() {
	local s=$1
	[ "$s" = native ] && return 0
	stop_sys "$s"
	start_sys "$s"
	sleep 0.3 # the other daemons rescan on the mount-table change; let them settle
}

# rootfs backing: mergerfs dropcacheonclose evicts the lower page cache; warm it again.
warm_lower() {
	[ "$BACKING" = rootfs ] || return 0
	cat "$T/c/$IMG/BIG00001/boot.BIG00001.wim" "$T/c/$IMG/BIG00002/boot.BIG00002.wim" >/dev/null
}

# ---------------------------------------------------------------- recording

RAW=$T/results.tsv
printf 'case\tsystem\trep\tcount\tns\tbusy\n' >"$RAW"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$BUSY" >>"$RAW"; }

PREFIX=() # taskset -c 0 for the pinned runs
# cpu_ticks SYSTEM -- utime + stime of a pxeimagesfs daemon (exited threads included), or nothing
cpu_ticks() {
	case $1 in pxe*) [ -n "${PID[$1]:-}" ] && awk '{ print $14 + $15 }' "/proc/${PID[$1]}/stat" 2>/dev/null ;; esac
}
sample() { # CASE SYSTEM REP HELPER-ARGS...: run, record "count ns" (and CASEcpu: "count ticks")
	local c=$1 s=$2 r=$3 out t0 t1
	shift 3
	gate
	t0=$(cpu_ticks "$s")
	out=$("${PREFIX[@]}" "$HELPER" "$@") || die "$c on $s failed: $HELPER $*"
	t1=$(cpu_ticks "$s")
	record "$c" "$s" "$r" "${out% *}" "${out#* }"
	[ -z "$t0" ] || [ -z "$t1" ] || record "${c}cpu" "$s" "$r" "${out% *}" $((t1 - t0))
}

meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- the backing store and data

mkdir -p "$T/c" "$T/d" "$T/log"
if [ "$BACKING" = tmpfs ]; then
	mount -t tmpfs -o "size=$((BIG_MIB + STORM_MIB + 1024))m,mode=755" bench-c "$T/c" ||
		die "cannot mount a tmpfs"
elif [ "$BACKING" = rootfs ]; then
	mkdir -p "$T/store"
	mount --bind "$T/store" "$T/c" || die "cannot bind-mount $T/store"
else
	die "BENCH_BACKING must be tmpfs or rootfs"
fi
mount -t tmpfs -o size=64m,mode=755 bench-d "$T/d" || die "cannot mount a tmpfs"
I=$T/c/$IMG
log "data in $I ($BACKING): ${BIG_MIB} MiB + ${STORM_MIB} MiB files, trees of" \
	"$((T4_DIRS * T4_PER)), $((T4_DIRS * T9_PER)) and $((SMALL_DIRS * SMALL_PER)) files"
mkdir -p "$I/BIG00001" "$I/BIG00002" "$T/d/$IMG/DEM00002"
"$HELPER" fill "$I/BIG00001/boot.BIG00001.wim" $((BIG_MIB << 20)) || die "fill failed"
"$HELPER" fill "$I/BIG00002/boot.BIG00002.wim" $((STORM_MIB << 20)) || die "fill failed"
"$HELPER" mktree "$I/tree4" "$T4_DIRS" "$T4_PER" 0 || die "mktree failed"
"$HELPER" mktree "$I/tree9" "$T4_DIRS" "$T9_PER" 0 || die "mktree failed"
"$HELPER" mktree "$I/small" "$SMALL_DIRS" "$SMALL_PER" 4096 || die "mktree failed"
# the second drive of the union: its own images folder with a few other files
"$HELPER" fill "$T/d/$IMG/DEM00002/boot.DEM00002.wim" $((4 << 20)) || die "fill failed"
"$HELPER" mktree "$T/d/$IMG/DEM00002/sources" 2 10 4096 || die "mktree failed"
if [ "$BACKING" = rootfs ]; then
	sync
	warm_lower
fi
BIGREL=BIG00001/boot.BIG00001.wim
STORMREL=BIG00002/boot.BIG00002.wim

# ---------------------------------------------------------------- the private smbd (case 7)

smb_conf() {
	local d=$T/smb s
	mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc,bind-dns}
	cat <<-EOF
		# the bench's private smbd: the [global] and share settings of pxeimagesfs's own
		# private smbd (export/share.c), one share per system
		[global]
		    server role = standalone server
		    workgroup = WORKGROUP
		    netbios name = PXEBENCH
		    smb ports = $PORT
		    interfaces = 127.0.0.1
		    bind interfaces only = yes
		    private dir = $d/private
		    lock directory = $d/lock
		    state directory = $d/state
		    cache directory = $d/cache
		    pid directory = $d/pid
		    ncalrpc dir = $d/ncalrpc
		    binddns dir = $d/bind-dns
		    passdb backend = tdbsam:$d/private/passdb.tdb
		    log file = $d/log.smbd
		    log level = 1
		    map to guest = Bad User
		    guest account = nobody
		    server min protocol = SMB2_02
		    load printers = no
		    printing = bsd
		    printcap name = /dev/null
		    disable spoolss = yes
		    disable netbios = yes
		    usershare path =
		    registry shares = no
		    config backend = file
	EOF
	for s in "${SYSTEMS[@]}" ${BENCH_SMB_VIEW_OPTS:+pxe1x} ${PID[floor]:+floor}; do
		cat <<-EOF
			[$s]
			    path = ${ROOT[$s]}
			    read only = no
			    guest ok = yes
			    kernel oplocks = no
			    kernel share modes = no
			    posix locking = no
			    ea support = no
			    store dos attributes = yes
		EOF
		[ "$s" = pxe1x ] && printf '%s\n' "$BENCH_SMB_VIEW_OPTS" | sed 's/^[[:space:]]*/    /'
	done
	return 0
}

start_smbd() {
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is in use (set BENCH_PORT)"
	mkdir -p "$T/smb"
	smb_conf >"$T/smb/smb.conf.tmp" && mv "$T/smb/smb.conf.tmp" "$T/smb/smb.conf"
	setsid smbd --foreground --no-process-group "--configfile=$T/smb/smb.conf" </dev/null \
		>"$T/log/smbd.log" 2>&1 &
	SMBD_PID=$!
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		kill -0 "$SMBD_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/log/smbd.log" >&2
	die "smbd did not come up on 127.0.0.1:$PORT"
}

# ---------------------------------------------------------------- is the machine idle?

# Other work on the machine skews every figure. Before each measured run, wait (up to
# BENCH_GATE_S seconds, default 30) until the CPUs were at most 10% busy over 200 ms; the busy
# figure goes into the raw samples, and the report counts the runs taken on a busy machine.
BUSY=0
gate() { BUSY=$("$HELPER" idle 10 $((${BENCH_GATE_S:-30} * 1000))) || BUSY=-1; }
busy_now() { "$HELPER" idle 100 0; }

# ---------------------------------------------------------------- mount everything

if [[ ",$PXE_OPTS," == *,io_uring,* ]] || [ "${BENCH_IO_URING:-0}" = 1 ]; then
	[ -w "$URING" ] || die "io_uring asked for, but $URING is missing (Linux 6.14 or newer)"
	URING_OLD=$(cat "$URING") || die "cannot read $URING"
	echo Y >"$URING" || die "cannot set $URING"
	log "$URING: Y (was $URING_OLD; restored at exit)"
fi
write_pxe_conf pxe1 yes dev
write_pxe_conf pxe2 yes dev D
write_pxe_conf pxe1d no dev
write_pxe_conf pxe2d no dev D
if [ "${BENCH_IO_URING:-0}" = 1 ]; then
	write_pxe_conf pxe1u yes io_uring
	write_pxe_conf pxe1du no io_uring
fi
for s in "${FUSE_SYSTEMS[@]}"; do
	start_sys "$s"
done
# case 10's floor: floorfs (bench/floorfs.c, no I/O at all) shared by the same smbd, its tree
# case 4's (T4_DIRS x T4_PER files of 4 KiB at its root; every other name missing), listings
# and misses kept by the kernel as the view's watched folders let it keep them, every xattr
# answered ENODATA by the daemon; built against the libfuse the product bundles, else the system's
if want 10; then
	MNT[floor]=$T/mnt/floor ROOT[floor]=$T/mnt/floor
	mkdir -p "${MNT[floor]}"
	if [ -f "$BUILD/libfuse/install/lib/libfuse3.a" ]; then
		# shellcheck disable=SC2046 # pkg-config's flags are words
		gcc -O2 -Wall -Wextra -I"$BUILD/libfuse/install/include/fuse3" -o "$BUILD/floorfs" "$BENCH/floorfs.c" \
			"$BUILD/libfuse/install/lib/libfuse3.a" -lpthread -ldl $(pkg-config --libs liburing 2>/dev/null) \
			$([ -e /usr/include/numa.h ] && echo -lnuma)
	else
		# shellcheck disable=SC2046
		gcc -O2 -Wall -Wextra $(pkg-config --cflags fuse3) -o "$BUILD/floorfs" "$BENCH/floorfs.c" $(pkg-config --libs fuse3)
	fi || die "cannot build bench/floorfs.c (case 10's floor)"
	"$BUILD/floorfs" "${MNT[floor]}" "$T4_DIRS" "$T4_PER" >>"$T/log/floor.log" 2>&1 &
	PID[floor]=$!
	for _ in $(seq 250); do
		grep -qF " ${MNT[floor]} " /proc/self/mountinfo && [ -d "${MNT[floor]}/d000" ] && break
		kill -0 "${PID[floor]}" 2>/dev/null || break
		sleep 0.02
	done
	[ -d "${MNT[floor]}/d000" ] || { cat "$T/log/floor.log" >&2; die "floorfs did not come up at ${MNT[floor]}"; }
	dev=$(mountpoint -d "${MNT[floor]}") && echo 1024 >"/sys/class/bdi/$dev/read_ahead_kb"
fi
sleep 0.5
# what each pxeimagesfs mount says of passthrough and its transport (its status file)
PT_STATE=$T/passthrough.tsv
for s in "${PXE_SYSTEMS[@]}"; do
	printf '%s\t%s\n' "$s" "$(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
p, t = s["passthrough"], s.get("transport", {"name": "dev"})
print(("active" if p["active"] else "off: " + p.get("reason", "?")) + "; transport " +
      t["name"] + (" (" + t["reason"] + ")" if "reason" in t else ""))' "$T"/run/"$s"/*.json)"
done >"$PT_STATE"
log "passthrough: $(tr '\t\n' ': ' <"$PT_STATE")"
log "waiting for an idle machine (at most ${BENCH_IDLE_WAIT:-120} s)"
BUSY_START=$("$HELPER" idle 10 $((${BENCH_IDLE_WAIT:-120} * 1000)))
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

if [ $KEEP = 1 ]; then
	start_smbd
	{
		echo "run.sh --keep: everything is up; Ctrl-C (or SIGTERM to $$) unmounts and removes it."
		for s in "${SYSTEMS[@]}"; do
			printf '  %-8s %s%s\n' "$s" "${ROOT[$s]}" "${PID[$s]:+  (daemon pid ${PID[$s]})}"
		done
		echo "  smbd     //127.0.0.1/{$(IFS=,; echo "${SYSTEMS[*]}")} -p $PORT -N  (pid $SMBD_PID)"
		echo "  files    $BIGREL, $STORMREL, tree4/ (cases 4, 6), tree9/, small/ (case 5)"
		echo "  helper   $HELPER (read FILE | storm N FILE | walk DIR | openread DIR NDIRS NPER | neg DIR N TAG)"
	} >&2
	sleep infinity &
	SLEEP_PID=$!
	wait "$SLEEP_PID"
	exit 0
fi

# ---------------------------------------------------------------- cases 1, 2 and 8

if want 1 || want 2 || want 8; then
	log "cases 1, 2, 8: ${BIG_MIB} MiB file, FUSE cache cold then warm re-read ($REPS + warm-up)"
	for r in $(seq 0 "$REPS"); do
		for s in "${SYSTEMS[@]}"; do
			warm_lower
			cold "$s"
			c0=$(meminfo_kb Cached)
			sample c1 "$s" "$r" read "${ROOT[$s]}/$BIGREL"
			out=$("$HELPER" read "${ROOT[$s]}/$BIGREL") || die "c2 on $s failed"
			record c2 "$s" "$r" "${out% *}" "${out#* }"
			c1=$(meminfo_kb Cached)
			record c8cache "$s" "$r" 1 $(((c1 - c0) * 1024))
			if [ "$s" != native ]; then
				record c8rss "$s" "$r" 1 $(($(status_kb "${PID[$s]}" VmRSS) * 1024))
				record c8hwm "$s" "$r" 1 $(($(status_kb "${PID[$s]}" VmHWM) * 1024))
			fi
		done
	done
fi

# ---------------------------------------------------------------- case 3

if want 3; then
	log "case 3: $READERS parallel readers of one ${STORM_MIB} MiB file, FUSE cache cold"
	for r in $(seq 0 "$REPS"); do
		for s in "${SYSTEMS[@]}"; do
			warm_lower
			cold "$s"
			sample c3 "$s" "$r" storm "$READERS" "${ROOT[$s]}/$STORMREL"
		done
	done
fi

# ---------------------------------------------------------------- cases 4 and 9, cold

if want 4 || want 9; then
	log "cases 4, 9 cold: find + stat of $((T4_DIRS * T4_PER)) and $((T4_DIRS * T9_PER)) files on a fresh mount"
	for r in $(seq 0 "$REPS"); do
		for s in "${SYSTEMS[@]}"; do
			if want 4; then
				cold "$s"
				sample c4cold "$s" "$r" walk "${ROOT[$s]}/tree4"
			fi
			if want 9; then
				cold "$s"
				sample c9cold "$s" "$r" walk "${ROOT[$s]}/tree9"
			fi
		done
	done
fi

# ---------------------------------------------------------------- cases 4, 9 warm; 5; 6

# case 6: NEG names never asked before; 6b: the same names again right after (recorded as
# CASEb; no idle wait in between, which would let a short negative timeout expire)
neg_twice() { # CASE SYSTEM REP TAG
	local c=$1 s=$2 r=$3 tag=$4 out
	want 6 || want 6b || return 0
	if want 6; then
		sample "$c" "$s" "$r" neg "${ROOT[$s]}/tree4/d000" "$NEG" "$tag"
	else
		gate
		"${PREFIX[@]}" "$HELPER" neg "${ROOT[$s]}/tree4/d000" "$NEG" "$tag" >/dev/null ||
			die "$c on $s failed"
	fi
	want 6b || return 0
	out=$("${PREFIX[@]}" "$HELPER" neg "${ROOT[$s]}/tree4/d000" "$NEG" "$tag") || die "${c}b on $s failed"
	record "${c}b" "$s" "$r" "${out% *}" "${out#* }"
}

if want 4 || want 9 || want 5 || want 6 || want 6b; then
	log "cases 4, 9 warm, 5 (open+read+close of $((SMALL_DIRS * SMALL_PER)) x 4 KiB), 6 and 6b ($NEG missing names, twice)"
	for s in "${SYSTEMS[@]}"; do
		for r in $(seq 0 "$REPS"); do
			want 4 && sample c4warm "$s" "$r" walk "${ROOT[$s]}/tree4"
		done
		for r in $(seq 0 "$REPS"); do
			want 9 && sample c9warm "$s" "$r" walk "${ROOT[$s]}/tree9"
		done
		for r in $(seq 0 "$REPS"); do
			want 5 && sample c5 "$s" "$r" openread "${ROOT[$s]}/small" "$SMALL_DIRS" "$SMALL_PER"
		done
		for r in $(seq 0 "$REPS"); do
			neg_twice c6 "$s" "$r" "$s$r"
		done
	done
fi

# ---------------------------------------------------------------- cases 4 warm, 5, 6 on one CPU

# A FUSE request costs two wake-ups; on a VM, waking a task on the other (halted) vCPU costs
# tens of microseconds, and where the scheduler puts the client and the daemon's threads varies
# from run to run. With everything on CPU 0 the metadata cases measure the work per request.
pin() { # SYSTEM CPULIST: every thread of the system's daemon
	[ -n "${PID[$1]:-}" ] && taskset -a -p -c "$2" "${PID[$1]}" >/dev/null
	return 0
}
if want 4 || want 5 || want 6 || want 6b; then
	log "cases 4 warm, 5, 6, 6b again with the client and every daemon on CPU 0"
	PREFIX=(taskset -c 0)
	for s in "${SYSTEMS[@]}"; do
		pin "$s" 0
		for r in $(seq 0 "$REPS"); do
			want 4 && sample p4warm "$s" "$r" walk "${ROOT[$s]}/tree4"
		done
		for r in $(seq 0 "$REPS"); do
			want 5 && sample p5 "$s" "$r" openread "${ROOT[$s]}/small" "$SMALL_DIRS" "$SMALL_PER"
		done
		for r in $(seq 0 "$REPS"); do
			neg_twice p6 "$s" "$r" "p$s$r"
		done
		pin "$s" "0-$(($(nproc) - 1))"
	done
	PREFIX=()
fi

# ---------------------------------------------------------------- case 7: SMB end to end

SMBPROTO=
if want 7; then
	log "case 7: smbclient get of the ${BIG_MIB} MiB file from a private smbd on 127.0.0.1:$PORT"
	[ -n "$SMBD_PID" ] || start_smbd
	for s in "${SYSTEMS[@]}"; do
		for r in $(seq 0 "$REPS"); do
			warm_lower
			gate
			t0=$(date +%s%N)
			out=$(smbclient "//127.0.0.1/$s" -p "$PORT" -N -c "get $BIGREL /dev/null" 2>&1) ||
				{ printf '%s\n' "$out" >&2; die "smbclient get from [$s] failed"; }
			t1=$(date +%s%N)
			size=$(printf '%s\n' "$out" | sed -n 's/.* of size \([0-9]*\) as .*/\1/p')
			[ "$size" = $((BIG_MIB << 20)) ] || { printf '%s\n' "$out" >&2; die "short SMB read from [$s]"; }
			record c7 "$s" "$r" "$size" $((t1 - t0))
		done
	done
fi

# ---------------------------------------------------------------- case 10: SMB metadata

# One smbclient per part, its commands on stdin; wall time of the whole command (connection
# set-up included, alike for every share). Checked: every entry listed, every file read, every
# missing name answered NT_STATUS_OBJECT_NAME_NOT_FOUND.
smb_part() { # CASE SYSTEM REP EXPECT PATTERN COMMANDS-FILE
	local c=$1 s=$2 r=$3 want_n=$4 pat=$5 cmds=$6 t0 t1 out n
	gate
	t0=$(date +%s%N)
	out=$(smbclient "//127.0.0.1/$s" -p "$PORT" -N <"$cmds" 2>&1)
	t1=$(date +%s%N)
	n=$(printf '%s\n' "$out" | grep -cE -- "$pat")
	[ "$n" = "$want_n" ] || { printf '%s\n' "$out" | tail -5 >&2; die "$c on [$s]: $n of $want_n lines match '$pat'"; }
	record "$c" "$s" "$r" "$n" $((t1 - t0))
	echo $((t1 - t0))
}

if want 10; then
	log "case 10: SMB metadata: listing of $((T4_DIRS * T4_PER)) files, $SMB_N gets of 4 KiB files, $SMB_N opens of missing names"
	[ -n "$SMBD_PID" ] || start_smbd
	smb_gets() { # PREFIX PER: SMB_N gets of PREFIXdNNN\fNNNNN, PER files a folder
		local i
		for ((i = 0; i < SMB_N; i++)); do
			printf 'get %sd%03d\\f%05d /dev/null\n' "$1" $((i / $2)) $((i % $2))
		done
	}
	printf 'recurse\nls tree4\\*\n' >"$T/smb-ls.txt"
	smb_gets 'small\' "$SMALL_PER" >"$T/smb-get.txt"
	# the floor's tree is case 4's at its root: the same listing, gets of as many of its files
	printf 'recurse\nls *\n' >"$T/smb-ls-floor.txt"
	smb_gets '' "$T4_PER" >"$T/smb-get-floor.txt"
	for r in $(seq 0 "$SMB_REPS"); do
		for s in "${SMB_SYSTEMS[@]}" ${PID[floor]:+floor}; do
			x= dir='tree4\d000'
			[ "$s" = floor ] && x=-floor dir=d000
			seq -f "get $dir\\m10-$s-$r-%06g.wim /dev/null" 0 $((SMB_N - 1)) >"$T/smb-neg.txt"
			a=$(smb_part c10ls "$s" "$r" $((T4_DIRS * T4_PER)) ' f[0-9]{5} ' "$T/smb-ls$x.txt") || exit 1
			b=$(smb_part c10get "$s" "$r" "$SMB_N" '^getting file ' "$T/smb-get$x.txt") || exit 1
			n=$(smb_part c10neg "$s" "$r" "$SMB_N" 'NT_STATUS_OBJECT_NAME_NOT_FOUND' "$T/smb-neg.txt") || exit 1
			record c10 "$s" "$r" $((T4_DIRS * T4_PER + 2 * SMB_N)) $((a + b + n))
		done
	done
fi
if want 7 || want 10; then
	SMBPROTO=$(smbclient "//127.0.0.1/native" -p "$PORT" -N -d 10 -c 'q' 2>&1 |
		sed -n 's/.*[Nn]egotiated dialect\[\([A-Z0-9_]*\)\].*/\1/p' | head -1)
fi

# ---------------------------------------------------------------- case 11: dbench

# Debian's dbench (its one backend: file I/O, the NetBench load of a Windows client), DB_CLIENTS
# clients for DB_T seconds in a fresh folder of the images folder; its own figure (MB/s).
# Rep 0, the warm-up, runs 2 s. Recorded as count = MB/s x 10^6, ns = 10^9.
if want 11; then
	log "case 11: dbench, $DB_CLIENTS clients, $DB_T s, on ${DB_SYSTEMS[*]}"
	# mergerfs's runtime setting (its .mergerfs control file), restored after the case
	mfs_free() { python3 -c 'import os, sys; p = sys.argv[1] + "/.mergerfs"
if len(sys.argv) > 2: os.setxattr(p, "user.mergerfs.minfreespace", sys.argv[2].encode())
print(os.getxattr(p, "user.mergerfs.minfreespace").decode())' "${MNT[mfsdef]}" "$@"; }
	MFS_FREE_OLD=$(mfs_free) && mfs_free 0 >/dev/null || die "cannot set mergerfs's minfreespace to 0"
	for r in $(seq 0 "$DB_REPS"); do
		for s in "${DB_SYSTEMS[@]}"; do
			d=${ROOT[$s]}/dbench-$s-$r
			mkdir "$d" || die "cannot create $d"
			gate
			out=$(cd "$d" && dbench -c /usr/share/dbench/client.txt -D "$d" \
				-t "$([ "$r" = 0 ] && echo 2 || echo "$DB_T")" "$DB_CLIENTS" 2>&1) ||
				{ printf '%s\n' "$out" | tail -20 >&2; die "dbench on $s failed"; }
			mbs=$(printf '%s\n' "$out" | sed -n 's/^Throughput \([0-9.]*\) MB\/sec.*/\1/p')
			[ -n "$mbs" ] || { printf '%s\n' "$out" | tail -20 >&2; die "no dbench figure on $s"; }
			printf '%s\n' "$out" >"$T/log/dbench-$s-$r.log"
			record c11 "$s" "$r" "$(awk -v x="$mbs" 'BEGIN { printf "%.0f", x * 1e6 }')" 1000000000
			rm -rf "$d"
		done
	done
	mfs_free "$MFS_FREE_OLD" >/dev/null || die "cannot restore mergerfs's minfreespace"
fi

# ---------------------------------------------------------------- the report

META=$T/meta.tsv
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
: >"$META"
meta mode "$([ $QUICK = 1 ] && echo quick || echo full)"
meta only "$ONLY"
meta reps "$REPS"
meta busy "CPU $BUSY_START% busy before the first case (load average $LOAD_START), $(busy_now)% at the end (load average $(cut -d' ' -f1-3 /proc/loadavg))"
meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta duration_s "$(($(date +%s) - STARTED))"
meta cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores"
meta ram "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -sr)"
meta os "$(. /etc/os-release && echo "$PRETTY_NAME")"
meta libfuse "$("$BIN" --version | sed -n 's/.*(libfuse \([^,]*\),.*/\1/p') in the binary (Debian's libfuse3-3: $(dpkg-query -W -f='${Version}' libfuse3-3 2>/dev/null))"
while IFS=$'\t' read -r s st; do meta "pt_$s" "$st"; done <"$PT_STATE"
meta pxeimagesfs "$("$BIN" --version 2>&1 | head -1)"
meta commit "$SOURCE"
meta binary "$BIN"
meta mergerfs "$(mergerfs --version 2>&1 | head -1) (Debian $(dpkg-query -W -f='${Version}' mergerfs))"
meta samba "$(smbd --version) (smbclient $(dpkg-query -W -f='${Version}' smbclient))"
meta smbproto "${SMBPROTO:-?}"
meta backing "$BACKING"
if grep -q '^CapEff:' /proc/self/status && (( (0x$(awk '/^CapEff:/ { print $2 }' /proc/self/status) >> 24) & 1 )); then
	cap_res=yes
else
	cap_res="no: libfuse cannot grow its splice pipe past pipe-max-size"
fi
meta kernel_knobs "pipe-max-size $(cat /proc/sys/fs/pipe-max-size); CAP_SYS_RESOURCE $cap_res; cpuidle $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo ?)/$(cat /sys/devices/system/cpu/cpuidle/current_governor 2>/dev/null || cat /sys/devices/system/cpu/cpuidle/current_governor_ro 2>/dev/null || echo ?)"
meta backing_mount "$(findmnt -no FSTYPE,OPTIONS "$T/c")"
meta sizes "big=${BIG_MIB}MiB storm=${STORM_MIB}MiB readers=$READERS tree4=${T4_DIRS}x${T4_PER} tree9=${T4_DIRS}x${T9_PER} small=${SMALL_DIRS}x${SMALL_PER}x4KiB neg=$NEG smb=${SMB_N}x${SMB_REPS} runs (${SMB_SYSTEMS[*]}) dbench=${DB_CLIENTS} clients x${DB_T}s x${DB_REPS} runs (${DB_SYSTEMS[*]})"
meta pxe_opts "${PXE_OPTS:-none}$([ -n "$URING_OLD" ] && echo "; enable_uring Y during the run (was $URING_OLD)")"
meta smb_view_opts "$(printf '%s' "${BENCH_SMB_VIEW_OPTS:-}" | tr '\n' ';')"
for s in "${FUSE_SYSTEMS[@]}"; do
	m=$(awk -v t="${MNT[$s]}" '$5 == t { for (i = 1; $i != "-"; i++); print $(i + 1) " " $6 " " $(i + 3); exit }' /proc/self/mountinfo)
	dev=$(awk -v t="${MNT[$s]}" '$5 == t { print $3; exit }' /proc/self/mountinfo)
	meta "mount_$s" "$m; read_ahead_kb=$(cat "/sys/class/bdi/$dev/read_ahead_kb" 2>/dev/null || echo ?)"
done
meta cmd_pxe1 "pxeimagesfs mount -f -c pxe1.conf  (drive C = \$T/c)"
meta cmd_pxe2 "pxeimagesfs mount -f -c pxe2.conf  (drive D = \$T/d priority 20, drive C = \$T/c priority 10: D is looked up first)"
meta cmd_pxe1d "pxeimagesfs mount -f -c pxe1d.conf  (as pxe1, with passthrough = no)"
meta cmd_pxe2d "pxeimagesfs mount -f -c pxe2d.conf  (as pxe2, with passthrough = no)"
meta cmd_pxe1u "pxeimagesfs mount -f -c pxe1u.conf  (as pxe1, with fuse transport = io_uring)"
meta cmd_pxe1du "pxeimagesfs mount -f -c pxe1du.conf  (as pxe1d, with fuse transport = io_uring)"
meta cmd_mfsdef "mergerfs -f -o $MFS_DEF_OPTS \$T/c/$IMG \$T/mnt/mfsdef"
meta cmd_mfspart "mergerfs -f -o $MFS_PART_OPTS \$T/c/$IMG \$T/mnt/mfspart"
cp "$T/conf/pxe2.conf" "$T/pxe2.conf.txt"
sed -i "s|$T|\$T|g" "$T/pxe2.conf.txt" "$META"
for s in "${FUSE_SYSTEMS[@]}"; do
	grep -iE 'error|warn' "$T/log/$s.log" | sort | uniq -c | sed "s|$T|\$T|g; s|^|$s: |" >>"$T/daemon-warnings.txt"
done

/usr/bin/python3 "$BENCH/report.py" "$RAW" "$META" "$T/pxe2.conf.txt" "$T/daemon-warnings.txt" >"$OUT.tmp" ||
	die "report.py failed (raw samples: $RAW)"
mv "$OUT.tmp" "$OUT"
log "wrote $OUT ($(($(date +%s) - STARTED)) s)"
