#!/bin/bash
# share_port_taken.sh -- samba = private on a port another program holds: never a healthy share.
#
# 1. A foreign listener (python3, accepting and closing) holds 127.0.0.1:PORT before the daemon
#    starts (PORT: the first of 44600-44699 it can bind). The daemon must not call the share up
#    while clients would reach that program: its log names the port and the holder (pid,
#    python3); `status` exits 1 (degraded, share down) from the first status file written and
#    never 0, polled for 8 s (and every version of the status file meanwhile says so). The listener stopped, the daemon's retry (every 2 s) starts smbd:
#    `status` exits 0 within 30 s, and the socket on PORT is smbd's.
# 2. The smbd dies (its group killed while the daemon is stopped) and the foreign listener takes
#    the port before the daemon restarts it: the share is down (status exit 1 for 6 s, never 0;
#    the status file, "up" while the daemon was stopped, says otherwise within 5 s of the daemon
#    running again and never "up" from then on) and the log names the holder; the listener stopped, the share is up again within 30 s.
# 3. Several addresses: `interfaces = lo` (127.0.0.1 and ::1, named as an interface) and a
#    foreign listener on [::1]:PORT only, so smbd could bind 127.0.0.1 alone: the share is never
#    up (status exit 1 for 3 s, naming ::1 and the holder); the listener stopped, the retry
#    brings it up within 30 s with smbd on both addresses.
# Needs root, /dev/fuse, python3, smbd; exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2317 # functions called from traps
# shellcheck disable=SC2015 # `a && b || bad` is meant: bad unless both hold
# shellcheck source=tests/integration/lib.sh
set -u
BIN=${1:?usage: share_port_taken.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_*

need_root_fuse
need_tools python3:python3 timeout:coreutils smbd:samba
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")
view_sandbox port_taken
chmod 755 "$T" # smbd reaches the view as the connected user
LPID=
STOPPED=
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	view_stop_or_kill
	private_smbd_kill
	view_cleanup
}
trap cleanup EXIT
mkdir -p "$C/PKG1" && echo image >"$C/PKG1/boot.wim" || fail "fixture"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:5"

# listener_start [PORT] -- a foreign server on 127.0.0.1 (LADDR: that address): PORT, else the
# first port of 44600-44699 it can bind (so: free); accepts and closes connections. LPID, PORT;
# 1 (LPID empty) when it cannot bind.
listener_start() {
	local i
	rm -f "$T/lport"
	python3 - "${1:-}" "$T/lport" "${LADDR:-127.0.0.1}" <<'PY' >"$T/listener.log" 2>&1 &
import os, socket, sys
ports = [int(sys.argv[1])] if sys.argv[1] else range(44600, 44700)
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[3] else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
for p in ports:
    try:
        s.bind((sys.argv[3], p))
        break
    except OSError:
        continue
else:
    sys.exit("no port of %s is free" % sys.argv[1:2])
s.listen(64)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % p)
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    c, _ = s.accept()
    c.close()
PY
	LPID=$!
	for ((i = 0; i < 200; i++)); do
		[ -s "$T/lport" ] && break
		kill -0 "$LPID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$T/lport" ] || { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; LPID=; return 1; }
	PORT=$(cat "$T/lport")
}
listener_stop() {
	kill "$LPID" && wait "$LPID" 2>/dev/null
	LPID=
}

# status_never_up SECONDS WHAT -- over SECONDS, `status` exits 1 (never 0, never anything else)
# each time it runs (at least once: it is slow to start on a loaded machine), and every version
# of the status file, read every 20 ms meanwhile, says the private share is down. ROUNDS, READS.
status_never_up() {
	local end=$((SECONDS + $1)) n=0 rc watcher
	python3 - "$(view_status_file)" "$1" >"$T/watch.out" 2>&1 <<'PY' &
import json, os, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
end, reads, seen = time.monotonic() + secs, 0, None
while time.monotonic() < end:
    try:
        st = os.stat(path)
        if (st.st_ino, st.st_mtime_ns) != seen:
            sh = json.load(open(path))["share"]
            seen = (st.st_ino, st.st_mtime_ns)
            if sh["samba"] != "private" or sh["up"]:
                sys.exit("the status file says %r" % sh)
        reads += 1
    except (OSError, ValueError):
        pass  # between the rename of a new version and our open
    time.sleep(0.02)
print(reads)
PY
	watcher=$!
	while ((SECONDS < end && n < 200)); do
		timeout 20 "$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1
		rc=$?
		[ "$rc" = 1 ] || { cat "$T/out" "$T/log"; fail "$2: status exit $rc (round $n), not 1"; }
		grep -q "share: samba = private, smbd DOWN" "$T/out" || { cat "$T/out"; fail "$2: status does not say the share is down"; }
		n=$((n + 1))
		sleep 0.1
	done
	wait "$watcher" || { cat "$T/watch.out" "$T/log"; fail "$2: $(tail -1 "$T/watch.out")"; }
	READS=$(tail -1 "$T/watch.out")
	[ "$n" -ge 1 ] && [ "$READS" -ge 50 ] || fail "$2: only $n status rounds and $READS reads of the status file in $1 s"
	ROUNDS=$n
}

# status_up_within SECONDS WHAT -- `status` exits 0 within SECONDS; TOOK (ms)
status_up_within() {
	local start end rc i
	start=$(date +%s%N)
	end=$((SECONDS + $1))
	for ((i = 0; i < 400 && SECONDS < end; i++)); do
		timeout 20 "$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1
		rc=$?
		[ "$rc" = 0 ] && break
		sleep 0.1
	done
	[ "$rc" = 0 ] || { cat "$T/out" "$T/log" "$T/state/samba/log.smbd"; fail "$2: status exit $rc after $1 s"; }
	TOOK=$((($(date +%s%N) - start) / 1000000))
}

# smbd_holds_port [N] -- the listening sockets on PORT (at least N, default 1) belong to the
# daemon's smbd (its pid file; /proc/net/tcp(6)'s inodes among its fds)
smbd_holds_port() {
	local pid
	pid=$(cat "$T/state/samba/pid/smbd.pid" 2>/dev/null) && [[ $pid =~ ^[1-9][0-9]*$ ]] ||
		fail "no smbd pid file"
	python3 - "$PORT" "$pid" "${1:-1}" <<'PY' || fail "the sockets on port $PORT are not smbd $pid's (or fewer than ${1:-1})"
import os, sys
port, pid, want = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
inodes = set()
for name in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(name).read().splitlines()[1:]
    except OSError:
        continue
    for l in lines:
        f = l.split()
        if f[3] == "0A" and int(f[1].split(":")[1], 16) == port:
            inodes.add("socket:[%s]" % f[9])
mine = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        mine.add(os.readlink("/proc/%s/fd/%s" % (pid, fd)))
    except OSError:
        pass
sys.exit(0 if len(inodes) >= want and inodes <= mine else 1)
PY
}

# ---- 1. the port is taken before the daemon starts --------------------------------------------
listener_start || { cat "$T/listener.log"; fail "the foreign listener did not start"; }
VIEW_SHARE="    samba = private
    port = $PORT
    interfaces = 127.0.0.1" VIEW_MOUNT_SECONDS=15 view_start "$BIN" "$DRIVES"
status_never_up 8 "port $PORT held by python3 (pid $LPID) at start"
grep -q "port $PORT on 127.0.0.1 is in use by pid $LPID (python3)" "$T/log" ||
	{ cat "$T/log"; fail "the daemon's log does not name the port and its holder"; }
n=$(grep -c "is in use by pid $LPID" "$T/log")
[ "$n" = 1 ] || { cat "$T/log"; fail "the refusal is logged $n times, not once"; }
ok "port $PORT taken at start: status degraded (exit 1) in all $ROUNDS rounds and $READS reads of the status file over 8 s; the log names pid $LPID (python3), once"
listener_stop
status_up_within 30 "after the foreign listener stopped"
smbd_holds_port
grep -q "port $PORT is free" "$T/log" || { cat "$T/log"; fail "the daemon does not say it started smbd once the port was free"; }
ok "the listener stopped: share up (status exit 0) after $TOOK ms, port $PORT is smbd's"

# ---- 2. the smbd dies and a foreign listener takes its port before the restart ----------------
SMBD=$(cat "$T/state/samba/pid/smbd.pid")
kill -STOP "$VIEW_PID" && STOPPED=$VIEW_PID
kill -KILL -- "-$SMBD" # smbd and its process group (the daemon started it as a group leader)
for ((i = 0; i < 100; i++)); do
	kill -0 "$SMBD" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$SMBD/stat" 2>/dev/null)" = Z ] || break
	sleep 0.05
done
for ((i = 0; i < 100; i++)); do # the socket may outlive smbd's main process for a moment
	listener_start "$PORT" && break
	sleep 0.05
done
[ -n "$LPID" ] || { cat "$T/listener.log"; fail "port $PORT not free 5 s after smbd was killed"; }
kill -CONT "$VIEW_PID" && STOPPED=
# the status file said "up" when the daemon was stopped: it says otherwise once the daemon,
# running again, has seen smbd's death (bounded), and never "up" again from then on
NOTICED=$(python3 - "$(view_status_file)" <<'PY'
import json, sys, time
start = time.monotonic()
while time.monotonic() - start < 5:
    try:
        if not json.load(open(sys.argv[1]))["share"]["up"]:
            print(int((time.monotonic() - start) * 1000))
            sys.exit(0)
    except (OSError, ValueError, KeyError):
        pass
    time.sleep(0.01)
sys.exit(1)
PY
) || { cat "$T/log"; fail "smbd died: the status file still says the share is up 5 s after the daemon ran again"; }
status_never_up 6 "smbd died, port $PORT taken by python3 (pid $LPID)"
grep -q "port $PORT on 127.0.0.1 is in use by pid $LPID (python3)" "$T/log" ||
	{ cat "$T/log"; fail "after smbd died: the log does not name the port's holder"; }
ok "smbd died and python3 took port $PORT: the status file said so $NOTICED ms after the daemon ran again; status degraded (exit 1) in all $ROUNDS rounds and $READS reads of the status file over 6 s"
listener_stop
status_up_within 30 "after the second foreign listener stopped"
smbd_holds_port
ok "the listener stopped: share up again after $TOOK ms"

# ---- 3. interfaces = lo (127.0.0.1 and ::1); a foreign listener on [::1]:PORT only ------------
grep -qE '^0{31}1 .* lo$' /proc/net/if_inet6 2>/dev/null || need "no IPv6 loopback (::1 on lo)"
view_stop
for ((i = 0; i < 100; i++)); do # smbd's sockets may outlive the daemon for a moment
	LADDR=::1 listener_start "$PORT" && break
	sleep 0.05
done
[ -n "$LPID" ] || { cat "$T/listener.log"; fail "[::1]:$PORT not free 5 s after the daemon stopped"; }
VIEW_SHARE="    samba = private
    port = $PORT
    interfaces = lo" VIEW_MOUNT_SECONDS=15 view_start "$BIN" "$DRIVES"
status_never_up 3 "interfaces = lo, [::1]:$PORT held by python3 (pid $LPID)"
grep -q "smbd DOWN: .*port $PORT on ::1 is in use by pid $LPID (python3)" "$T/out" ||
	{ cat "$T/out"; fail "status does not name ::1 and its holder"; }
ok "interfaces = lo, [::1]:$PORT held by python3: status degraded (exit 1) in all $ROUNDS rounds and $READS reads over 3 s, naming ::1 and pid $LPID"
listener_stop
status_up_within 30 "interfaces = lo, after the listener on ::1 stopped"
smbd_holds_port 2
ok "the listener on ::1 stopped: share up after $TOOK ms, smbd on 127.0.0.1 and ::1"
view_stop
exit 0
