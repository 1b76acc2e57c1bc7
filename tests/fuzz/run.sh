#!/bin/bash
# run.sh -- build the libFuzzer harnesses of tests/fuzz with clang and run each for a bounded
# time on a copy of its seed corpus (tests/fuzz/corpus/NAME); a finding fails the test and
# its input is kept in OUT/artifacts.
#
#   tests/fuzz/run.sh OUT                      the suite's short run (20 s per harness)
#   PXE_FUZZ_SECONDS=3600 tests/fuzz/run.sh OUT   a longer run (see tests/fuzz/README.md)
#
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev); exit 77 = skipped when it is
# missing, a failure under CI=true.
set -u
OUT=${1:?usage: run.sh OUTPUT_DIR}
SECONDS_EACH=${PXE_FUZZ_SECONDS:-12}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CC=${PXE_FUZZ_CC:-clang}

need() {
	echo "SKIP: $*" >&2
	[ "${CI:-}" = true ] && { echo "FAIL: CI=true: $*" >&2; exit 1; }
	exit 77
}
command -v "$CC" >/dev/null || need "$CC not installed (Debian: apt install clang libclang-rt-14-dev)"

mkdir -p "$OUT/artifacts"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxe-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# the sources each harness needs: no I/O beyond what the parser and text helpers do
CONFIG_SRC=("$ROOT"/config/config.c "$ROOT"/config/config_parse.c "$ROOT"/config/config_check.c
	"$ROOT"/config/config_keys.c "$ROOT"/config/config_errors.c "$ROOT"/config/paths.c)
declare -A SRC=(
	[fuzz_config]="${CONFIG_SRC[*]} $ROOT/export/share.c $ROOT/export/smbconf.c"
	[fuzz_smbconf]="$ROOT/export/smbconf.c"
)
declare -A CORPUS=([fuzz_config]=config [fuzz_smbconf]=smbconf)
FLAGS=(-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -I"$ROOT/common" -I"$ROOT/config" -I"$ROOT/export")

# libFuzzer itself: a trivial harness must link, else the runtime is missing
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$WORK/probe.c"
"$CC" -fsanitize=fuzzer "$WORK/probe.c" -o "$WORK/probe" 2>"$WORK/probe.err" ||
	need "$CC cannot link -fsanitize=fuzzer (Debian: apt install libclang-rt-14-dev): $(head -n 3 "$WORK/probe.err")"

status=0
for h in fuzz_config fuzz_smbconf; do
	# shellcheck disable=SC2086 # SRC holds a list of paths without spaces
	"$CC" "${FLAGS[@]}" "$HERE/$h.c" ${SRC[$h]} -o "$OUT/$h" 2>"$WORK/$h.build" || {
		cat "$WORK/$h.build" >&2; echo "FAIL: cannot build $h" >&2; exit 1; }
	mkdir -p "$WORK/$h.corpus"
	cp "$HERE/corpus/${CORPUS[$h]}"/* "$WORK/$h.corpus/"
	echo "--- $h: $SECONDS_EACH s on $(ls "$WORK/$h.corpus" | wc -l) seeds"
	# -timeout: one input taking 10 s is a finding too (an unbounded loop)
	if ! "$OUT/$h" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$h-" \
		"$WORK/$h.corpus" >"$WORK/$h.log" 2>&1; then
		tail -n 40 "$WORK/$h.log" >&2
		echo "FAIL: $h found a problem; the input is in $OUT/artifacts/ (replay: $OUT/$h FILE)" >&2
		status=1
	else
		grep -E "stat::number_of_executed_units|cov:" "$WORK/$h.log" | tail -n 2
	fi
done
[ $status = 0 ] && echo "fuzz: all harnesses ran $SECONDS_EACH s without a finding"
exit $status
