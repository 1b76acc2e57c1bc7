#!/bin/bash
# run.sh -- the README's test command: install what building and testing need,
# build three times (warnings as errors; ASan+UBSan; against the system's libfuse) and run
# every test in each, the first build twice (kernel passthrough on, and forced off).
# Integration tests need root and real mounts; under CI=true they never skip.
set -u -o pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../packaging/deps.sh"

pxe_install "${PXE_BUILD_DEPS[@]}" "${PXE_RUN_DEPS[@]}" "${PXE_TEST_DEPS[@]}" || exit 1

passed=0 failed=0 skipped=0 status=0
FAILURES=$(mktemp "${TMPDIR:-/tmp}/pxe-failures.XXXXXX")
# smbtorture's native-share results, run once and kept for the later builds (they do not
# depend on the build: tests/integration/smbtorture.sh)
PXE_SMBTORTURE_NATIVE=$(mktemp -d "${TMPDIR:-/tmp}/pxe-smbtorture-native.XXXXXX")
export PXE_SMBTORTURE_NATIVE
# The tests' python3 is the distribution's (PXE_TEST_DEPS), as on a fresh CI machine, not a
# version manager's shim ahead of it in PATH: pyenv's runs bash to pick a version on every call
# (about 0.5 s of CPU) and the integration tests call python3 hundreds of times.
PYBIN=$(mktemp -d "${TMPDIR:-/tmp}/pxe-python.XXXXXX") && chmod 755 "$PYBIN"
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
	ln -s /usr/bin/python3 "$PYBIN/python3" && PATH=$PYBIN:$PATH
fi
# The tests' fixed ports (127.0.0.1:44400-44799: the private smbds, the throwaway servers) lie in
# Linux's ephemeral range (32768-60999 by default): a client socket of one test, running beside
# another (ctest -j), may be given one of them as its local port, and the server that port is
# for then fails to bind (EADDRINUSE; seen: migrate_smb_dos's smbd on 44498). They are reserved
# for the run (net.ipv4.ip_local_reserved_ports) and the old list is put back at exit.
RESV=/proc/sys/net/ipv4/ip_local_reserved_ports RESV_OLD= RESV_SET=
if [ -w "$RESV" ] && RESV_OLD=$(cat "$RESV") && echo "${RESV_OLD:+$RESV_OLD,}44400-44799" >"$RESV"; then
	RESV_SET=1
else
	echo "warning: cannot reserve ports 44400-44799 ($RESV): a test's server may find its port taken" >&2
fi
trap 'rm -rf "$FAILURES" "$PXE_SMBTORTURE_NATIVE" "$PYBIN"; [ -z "$RESV_SET" ] || echo "$RESV_OLD" >"$RESV"' EXIT
# run_build NAME CMAKE_ARGS... -- configure and build build-test-NAME
run_build() {
	local name=$1; shift
	local dir="$PXE_ROOT/build-test-$name"
	echo "== build $name ($*)"
	mkdir -p "$dir"
	if ! pxe_build "$dir" -DPXE_WERROR=ON -DPXE_LIBFUSE_CACHE="$PXE_ROOT/build-libfuse" "$@"; then
		echo "build $name failed" >&2; failed=$((failed + 1)); status=1; return 1
	fi
}
# run_tests NAME [LABEL [CTEST ARGS...]] -- the tests of build-test-NAME, counted (LABEL names
# the run); PXE_TEST_JOBS (2) at once, of those not RUN_SERIAL (tests/CMakeLists.txt says which)
PXE_TEST_JOBS=${PXE_TEST_JOBS:-2}
# leftovers -- what runs, is mounted or lies in TMPDIR for the tests: processes whose command
# line names a test directory (/tmp/pxeimagesfs-*) or this checkout's test builds, mounts of
# the view or under a test directory, and test directories; sorted. What a run adds to the list
# taken before it is reported with the failures, not counted: a test must clean up after itself.
leftovers() {
	local tmp=${TMPDIR:-/tmp} p args
	for p in /proc/[0-9]*; do
		{ mapfile -d '' args <"$p/cmdline"; } 2>/dev/null || continue
		case " ${args[*]} " in
		*"$tmp/pxeimagesfs-"* | *"$PXE_ROOT/build-test-"*) echo "process ${p#/proc/}: ${args[*]:0:6}" ;;
		esac
	done
	awk -v t="$tmp/pxeimagesfs-" 'index($5, t) == 1 || / - fuse\.pxeimagesfs / { print "mount " $5 }' /proc/self/mountinfo
	ls -d "$tmp"/pxeimagesfs-* 2>/dev/null | sed 's/^/directory /'
}
run_tests() {
	local name=$1 label=${2:-$1}
	shift 2 2>/dev/null || shift $#
	local dir="$PXE_ROOT/build-test-$name"
	echo "== test $label"
	local log="$dir/ctest-$label.log"
	local before left
	before=$(leftovers | sort)
	# ctest in a session of its own: a daemon a test starts that signals its whole process group
	# (smbd does, when it stops) ends that run, not this script and the runs after it
	(cd "$dir" && setsid -w ctest --output-on-failure --timeout 900 -j "$PXE_TEST_JOBS" "$@" 2>&1) | tee "$log"
	local rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || status=1
	grep -q ' tests failed out of ' "$log" ||
		echo "--- $label: ctest ended without its summary (exit $rc; a signal if above 128)" >>"$FAILURES"
	local total fail skip
	total=$(sed -nE 's/.* tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
	fail=$(sed -nE 's/.*, ([0-9]+) tests failed out of.*/\1/p' "$log" | tail -1)
	skip=$(grep -c '(Skipped)' "$log")
	total=${total:-0} fail=${fail:-1}
	# each failed test's own output, kept for the summary at the end (a CI report shows the end)
	awk -v label="$label" '
		/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: .*\*\*\*/ { grab = 1; n = 0; print "--- " label ": " $0; next }
		/^ +Start +[0-9]+: / || /^[0-9]+% tests passed/ { grab = 0 }
		grab { buf[n++ % 25] = $0 }
		!grab && n { for (i = (n > 25 ? n - 25 : 0); i < n; i++) print buf[i % 25]; n = 0 }
	' "$log" >>"$FAILURES"
	passed=$((passed + total - fail - skip)) failed=$((failed + fail)) skipped=$((skipped + skip))
	left=$(comm -13 <(echo "$before") <(leftovers | sort) | head -20)
	[ -z "$left" ] || printf -- '--- %s: left behind by the tests (clean up in the test'"'"'s trap):\n%s\n' "$label" "$left" >>"$FAILURES"
}

# libfuse 3.17+ (bundled on Debian 12): kernel passthrough where the kernel offers it, then
# the whole suite again with it forced off (the daemon-served path); ASan+UBSan on the same
# library; and a build against the system's libfuse (3.14 on Debian 12: no passthrough).
# fuzz and packaging build their own binaries (clang's libFuzzer; a fresh release build for the
# packages), whatever the build under test: they run in the first run only, as does
# ctdb_event_script (the CTDB event script against a stand-in status: it runs no binary of the build).
ONCE='^(fuzz|packaging|ctdb_event_script)$'
# Tests that mount every view in both data paths themselves (PXEIMAGESFS_PASSTHROUGH=yes and
# =no on their own), or that set their data path in their config (read_memory: passthrough = no),
# would only repeat their release run in the passthrough-off run: not run there (io_uring: its
# daemon-served part sets PXEIMAGESFS_PASSTHROUGH=no itself; request_pipes: how requests are
# read, whatever the data path, and its lookups and small opens are served alike in both).
BOTH='^(fuzz|packaging|read_memory|request_pipes|passthrough_fallback|io_uring|open_swapped|copyup|create_stale_alias|ino_detached|negative_entries|watch_tree|flap_stress|hostile_tree|ino_rename|long_path|passthrough|rename_stress|reopen|reopen_smb|watch_overflow)$'
# Nor the tests the passthrough setting cannot change, where the off run is the same run again:
# the unit tests and test_resolver_live (no FUSE mount; nothing reads the variable);
# cli_resolve (resolve and config check, no mount); status_file, share_status, health and
# default_config (the status command, the status and metrics files, reloads: their views serve
# lookups and status, no file data; health's one read only counts an open, which the daemon
# serves in both modes); export_live (the export and the live thread, lookups only);
# systemd_unit (the unit runs the daemon in a container, whose environment is the unit's);
# migrate_smb (migrate reads the old server and writes the drive, never through the view; its
# check reads the view's share as smb_check does, which runs); migrate_fifo (migrate on the
# drives, no view); smb_case (Samba's name rules on
# the share: lookups; its few small writes are smb_share's, which runs); share_port_taken (who
# holds the private smbd's port: no file data).
NODATA='^(demo_port_taken|export_registry|ctdb_event_script|test_walk|test_common|test_config|test_resolver|test_fs|test_migrate|test_export|test_resolver_live|cli_resolve|status_file|share_status|health|default_config|export_live|systemd_unit|migrate_smb|migrate_fifo|smb_case|share_port_taken)$'
# The three-node cluster (ctdb_cluster: CTDB's failover of the share, a GlusterFS store) runs in
# the release run; its views are the ones every other test runs in each data path, under the
# sanitizers and against each libfuse, so the later runs leave it out (its ctdb-specific part,
# the export for clustering, is status_ctdb's, which runs in the sanitizer run).
CLUSTER='^(ctdb_cluster)$'
# The run against the system's libfuse (3.14 on Debian 12: no passthrough, an older library
# under the same code) is about FUSE: every test that mounts a view and works it through FUSE
# operations runs there. Those whose subject is Samba's semantics (smbtorture, smb_case), the
# migrate command (migrate, migrate_smb, migrate_smb_dos, migrate_fifo: it works on the drives directly), the
# private smbd's port (share_port_taken), the
# boot servers and their export (boot_servers, serve_export), several hosts (two_writers_*,
# status_ctdb) or the status command and files (NODATA above) use the view only as the release
# runs' daemon-served path does (release-passthrough-off), and run in the three other runs.
NOTFUSE='^(demo_port_taken|export_registry|smbtorture|smb_case|share_port_taken|migrate|migrate_smb|migrate_smb_dos|migrate_fifo|boot_servers|serve_export|two_writers_dir|two_writers_gluster|status_ctdb|cli_resolve|status_file|share_status|health|default_config|export_live|export_system)$'
# The long stress tests (rename_stress's 100,000 renames, the soak) run in full in the first run;
# the later runs set PXE_TEST_SHORT=1 and those tests do a fifth of the work (same checks).
if run_build release -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
	run_tests release release
	export PXE_TEST_SHORT=1
	PXEIMAGESFS_PASSTHROUGH=no run_tests release release-passthrough-off -E "$BOTH|$NODATA|$CLUSTER"
fi
export PXE_TEST_SHORT=1
if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	run_build sanitize -DCMAKE_BUILD_TYPE=Debug -DPXE_SANITIZE=ON; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		run_tests sanitize sanitize -E "$ONCE|$CLUSTER"
fi
if [ -n "$(pkg-config --modversion fuse3 2>/dev/null)" ] &&
	run_build system-libfuse -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPXE_LIBFUSE=system; then
	run_tests system-libfuse system-libfuse -E "$ONCE|$CLUSTER|$NOTFUSE"
fi

if [ -s "$FAILURES" ]; then
	echo "== the failed tests' last lines of output"
	cat "$FAILURES"
fi
echo "all builds: $passed passed, $failed failed, $skipped skipped"
exit $status
