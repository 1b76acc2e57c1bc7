#!/bin/bash
# demo.sh -- the README's first command: install what pxeimagesfs needs, build it, and run
# it on its embedded default: `pxeimagesfs demo` (sample drives on tmpfs in a temporary
# directory, the view mounted, a private smbd on 127.0.0.1:4455, the client-side check, and
# KB 947683 played live). Extra arguments go to the demo (e.g. --keep). Needs root.
set -u -o pipefail
. "$(dirname "${BASH_SOURCE[0]}")/deps.sh"

pxe_install "${PXE_BUILD_DEPS[@]}" "${PXE_RUN_DEPS[@]}" || exit 1
pxe_build "$PXE_ROOT/build" -DPXE_TESTS=OFF || exit 1
BIN="$PXE_ROOT/build/cli/pxeimagesfs"
if [ "$(id -u)" != 0 ]; then
	echo "demo: built $BIN; run the demo as root (it mounts sample drives and the view)" >&2
	exit 1
fi
exec "$BIN" demo "$@"
