#!/bin/bash
# serve.sh -- PXE serving through the view against the same files served natively, one run:
# TFTP (tftpd-hpa; curl as the client, blksize 1468 and 65464; 1 client and 8 at once) and
# HTTP (nginx; curl, 1 stream and 8 streams of a large WIM), each from the native folder and
# from the view (boot tree = yes), with kernel passthrough and with PXEIMAGESFS_PASSTHROUGH=no.
#
#   bash bench/serve.sh [BUILD_DIR]     (as root; default BUILD_DIR: build)
#
# Prints one Markdown table (MB/s aggregate, median of BENCH_REPS runs, default 3, and the
# ratio to native). The FUSE page cache is dropped before each run (the drive is a tmpfs, so
# "native" is memory speed: the ratios are the view's overhead, not a disk's). Servers run on
# 127.0.0.1, high ports, as their own users, stopped by PID; everything lives under one
# mktemp -d. Sizes: BENCH_TFTP_MIB (default 32), BENCH_HTTP_MIB (default 1024).
set -u -o pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/cli/pxeimagesfs
REPS=${BENCH_REPS:-3}
TFTP_MIB=${BENCH_TFTP_MIB:-32}
HTTP_MIB=${BENCH_HTTP_MIB:-1024}
[ "$(id -u)" = 0 ] || { echo "serve.sh: run it as root" >&2; exit 2; }
[ -x "$BIN" ] || { echo "serve.sh: no $BIN (build first)" >&2; exit 2; }
for t in in.tftpd nginx curl; do command -v $t >/dev/null || { echo "serve.sh: $t missing (packaging/deps.sh)" >&2; exit 2; }; done

T=$(mktemp -d /tmp/pxeimagesfs-serve.XXXXXX)
chmod 0711 "$T"
PIDS=() VIEW_PID=
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$VIEW_PID" ] && kill "$VIEW_PID" 2>/dev/null && timeout 10 tail --pid="$VIEW_PID" -f /dev/null
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -uz "$T/view"
	grep -q " $T/c " /proc/self/mountinfo && umount "$T/c"
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/c" "$T/view" "$T/nginx/tmp"
mount -t tmpfs -o size=$((HTTP_MIB + TFTP_MIB + 64))m pxe-bench "$T/c"
RI=$T/c/RemoteInstall
mkdir -p "$RI/SMSBoot/x64" "$RI/SMSImages/SMSPKG"
head -c $((TFTP_MIB << 20)) /dev/urandom >"$RI/SMSBoot/x64/boot.sdi"
head -c $((HTTP_MIB << 20)) /dev/urandom >"$RI/SMSImages/SMSPKG/boot.BENCH001.wim"
chmod -R a+rX "$RI"
cat >"$T/pxe.conf" <<CONF
[global]
    mountpoint = $T/view
    state directory = $T/state
    run directory = $T/run
    rescan interval = 0
    boot tree = yes
[drive:C]
    path = $T/c
[share]
    samba = none
CONF

PORT=$((30000 + RANDOM % 20000))
TP_NAT=$PORT TP_VIEW=$((PORT + 1)) HP_NAT=$((PORT + 2)) HP_VIEW=$((PORT + 3))
cat >"$T/nginx/nginx.conf" <<CONF
daemon off;
user www-data;
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 256; }
http {
	access_log off;
	default_type application/octet-stream;
	sendfile on;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	server { listen 127.0.0.1:$HP_NAT; root $RI; }
	server { listen 127.0.0.1:$HP_VIEW; root $T/view/RemoteInstall; disable_symlinks on; }
}
CONF

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# run N CMD... -- N copies of CMD at once; prints aggregate MB/s for N x SIZE_MIB
run() {
	local n=$1 mib=$2 t0 t1 i pids=()
	shift 2
	drop
	t0=$(now)
	for ((i = 0; i < n; i++)); do "$@" & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || { echo "serve.sh: a client failed: $*" >&2; exit 1; }; done
	t1=$(now)
	echo "$n $mib $t0 $t1" | awk '{ printf "%.0f\n", $1 * $2 * 1048576 / 1e6 / ($4 - $3) }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
measure() { # measure N MIB CMD... -- median of REPS runs
	local i
	for ((i = 0; i < REPS; i++)); do run "$@"; done | median
}
tftp_get() { curl -sf --tftp-blksize "$2" -o /dev/null "tftp://127.0.0.1:$1/SMSBoot/x64/boot.sdi"; }
http_get() { curl -sf -o /dev/null "http://127.0.0.1:$1/SMSImages/SMSPKG/boot.BENCH001.wim"; }

in.tftpd -L -a "127.0.0.1:$TP_NAT" -u tftp --secure -B 65464 "$RI" & PIDS+=($!)
nginx -e "$T/nginx/error.log" -p "$T/nginx" -c "$T/nginx/nginx.conf" & PIDS+=($!)
sleep 1

declare -A R
cases=("tftp 1468 1" "tftp 1468 8" "tftp 65464 1" "tftp 65464 8" "http - 1" "http - 8")
bench_cases() { # bench_cases LABEL TFTP_PORT HTTP_PORT
	local c proto bs n
	for c in "${cases[@]}"; do
		read -r proto bs n <<<"$c"
		if [ "$proto" = tftp ]; then
			R["$1 $c"]=$(measure "$n" "$TFTP_MIB" tftp_get "$2" "$bs")
		else
			R["$1 $c"]=$(measure "$n" "$HTTP_MIB" http_get "$3")
		fi
	done
}
bench_cases native "$TP_NAT" "$HP_NAT"
for mode in yes no; do
	PXEIMAGESFS_PASSTHROUGH=$mode "$BIN" mount -f -c "$T/pxe.conf" >"$T/view.log" 2>&1 &
	VIEW_PID=$!
	for ((i = 0; i < 200; i++)); do [ -d "$T/view/RemoteInstall/SMSBoot" ] && break; sleep 0.05; done
	in.tftpd -L -a "127.0.0.1:$TP_VIEW" -u tftp --secure -B 65464 "$T/view/RemoteInstall" & TPID=$!
	PIDS+=($TPID)
	sleep 0.5
	bench_cases "view-pt-$mode" "$TP_VIEW" "$HP_VIEW"
	kill "$TPID"
	kill "$VIEW_PID"; timeout 10 tail --pid="$VIEW_PID" -f /dev/null; VIEW_PID=
done

echo "| case | native MB/s | view, passthrough | view, no passthrough |"
echo "|---|---:|---:|---:|"
for c in "${cases[@]}"; do
	read -r proto bs n <<<"$c"
	label="$proto $([ "$proto" = tftp ] && echo "blksize $bs, " || echo "${HTTP_MIB} MiB WIM, ")$n client$([ "$n" = 1 ] || echo s)"
	nat=${R["native $c"]} pt=${R["view-pt-yes $c"]} nopt=${R["view-pt-no $c"]}
	printf '| %s | %s | %s (%.2fx) | %s (%.2fx) |\n' "$label" "$nat" "$pt" \
		"$(echo "$pt $nat" | awk '{print $1/$2}')" "$nopt" "$(echo "$nopt $nat" | awk '{print $1/$2}')"
done
echo
echo "$(uname -r), $(nproc) CPUs, TFTP file $TFTP_MIB MiB, WIM $HTTP_MIB MiB, median of $REPS"
