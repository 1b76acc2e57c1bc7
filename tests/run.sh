#!/bin/bash
# run.sh -- the README's test command: install what building and testing need,
# build twice (warnings as errors; ASan+UBSan), run every test in both builds.
# Integration tests need root and real mounts; under CI=true they never skip.
set -u -o pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../packaging/deps.sh"

pxe_install "${PXE_BUILD_DEPS[@]}" "${PXE_RUN_DEPS[@]}" "${PXE_TEST_DEPS[@]}" || exit 1

passed=0 failed=0 skipped=0 status=0
run_build() {
	local name=$1; shift
	local dir="$PXE_ROOT/build-test-$name"
	echo "== build $name ($*)"
	mkdir -p "$dir"
	if ! pxe_build "$dir" -DPXE_WERROR=ON -DPXE_LIBFUSE_CACHE="$PXE_ROOT/build-libfuse" "$@"; then
		echo "build $name failed" >&2; failed=$((failed + 1)); status=1; return
	fi
	echo "== test $name"
	local log="$dir/ctest.log"
	(cd "$dir" && ctest --output-on-failure --timeout 600 2>&1) | tee "$log"
	[ "${PIPESTATUS[0]}" = 0 ] || status=1
	local total fail skip
	total=$(sed -nE 's/.* tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
	fail=$(sed -nE 's/.*, ([0-9]+) tests failed out of.*/\1/p' "$log" | tail -1)
	skip=$(grep -c '(Skipped)' "$log")
	total=${total:-0} fail=${fail:-1}
	passed=$((passed + total - fail - skip)) failed=$((failed + fail)) skipped=$((skipped + skip))
}

run_build release -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	run_build sanitize -DCMAKE_BUILD_TYPE=Debug -DPXE_SANITIZE=ON

echo "all builds: $passed passed, $failed failed, $skipped skipped"
exit $status
