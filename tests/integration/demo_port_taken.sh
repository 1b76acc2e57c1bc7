#!/bin/bash
# demo_port_taken.sh -- `pxeimagesfs demo` while another program holds 127.0.0.1:4455 (the demo's
# fixed port): the demo must say so and name the holder (pid, python3), exit 2 (could not run),
# and never report its share as up nor run its story against that program. A python3 listener
# (accepting and closing) holds the port for the whole run. Needs root, /dev/fuse, python3 and
# smbd; exit 77 = skipped (a failure under CI=true). Run it under flock /tmp/pxe-it.lock (the
# port is fixed). Stops only the listener it started, by PID.
# shellcheck source=tests/integration/lib.sh
set -u
BIN=${1:?usage: demo_port_taken.sh PXEIMAGESFS_BINARY}
PORT=4455
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, listening

need_root_fuse
need_tools python3:python3 timeout:coreutils smbd:samba
[ -x "$BIN" ] || fail "$BIN: not an executable"
if listening $PORT; then fail "port $PORT on 127.0.0.1 is already in use"; fi
T=$(mktemp -d /tmp/pxeimagesfs-demoport.XXXXXX) || fail "mktemp"
LPID=
cleanup() {
	local rc=$?
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

python3 - "$PORT" "$T/ready" <<'PY' >"$T/listener.log" 2>&1 &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept()
    c.close()
PY
LPID=$!
for ((i = 0; i < 200; i++)); do
	[ -e "$T/ready" ] && break
	kill -0 "$LPID" 2>/dev/null || break
	sleep 0.05
done
[ -e "$T/ready" ] || fail "the python3 listener did not bind 127.0.0.1:$PORT: $(cat "$T/listener.log")"

timeout 300 "$BIN" demo >"$T/out" 2>"$T/err"
RC=$?
[ "$RC" = 2 ] || fail "demo exit $RC, want 2 (could not run): $(cat "$T/out" "$T/err")"
grep -q "port $PORT on 127.0.0.1 is in use by pid $LPID (python3)" "$T/err" ||
	fail "demo does not name the port's holder (pid $LPID, python3): $(cat "$T/err")"
! grep -q "shared on 127.0.0.1:$PORT\|every check passed" "$T/out" ||
	fail "demo reports its share up on a port python3 holds: $(cat "$T/out")"
kill -0 "$LPID" || fail "the listener is gone"
ok "demo with 127.0.0.1:$PORT held by python3 (pid $LPID): exit 2, the holder named, no share reported up"
