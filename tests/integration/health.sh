#!/bin/bash
# health.sh -- `status` says what a client would see, and the metrics file.
#
# 1. Nothing runs: `status --json` prints a JSON object ("status": "not running", healthy
#    false) and exits 2.
# 2. A healthy view: exit 0; the status file has "written" (within 60 s of now),
#    "primary_space" (free <= size, size about the 256 MiB tmpfs) and "share"; the metrics
#    file <run>/<name>.prom is mode 0644, parses as the Prometheus text format (HELP and TYPE
#    before a metric's samples, every sample `name{labels} value`, labels escaped) and carries
#    the per-drive online state and health, view generation, opens, errors, stale opens,
#    folder events, passthrough state, primary free bytes and the written timestamp.
# 3. The daemon stopped (SIGSTOP): `status` exits 4 ("not responding", says it is stopped)
#    within 6 s, never hangs; --json says so as JSON; after SIGCONT it is healthy again; a
#    clean stop removes both the status and the metrics file.
# 4. samba = private with an smbd that exits at once: the share is down, `status` exits 1
#    (degraded) naming the share, JSON share.up false, metrics share_up 0, healthy 0; the
#    daemon's message quotes what smbd wrote as it failed.
# 5. Then smbd can start (a real one replaces the bogus one): the daemon tries again by itself
#    (2, 4, 8 ... at most 60 s apart) and status is healthy.
# Needs root, /dev/fuse, python3; exit 77 = skipped (a failure under CI=true).
# shellcheck disable=SC2317 # functions called from traps
# shellcheck disable=SC2015 # `a && b || bad` is meant: bad unless both hold
# shellcheck disable=SC2012 # the run directory holds names we made
# shellcheck source=tests/integration/lib.sh
set -u
BIN=${1:?usage: health.sh PXEIMAGESFS_BINARY}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_*

need_root_fuse
need_tools python3:python3 timeout:coreutils smbd:samba
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")
view_sandbox health
STOPPED=
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	view_cleanup
}
trap cleanup EXIT
mkdir -p "$C/PKG1" && echo image >"$C/PKG1/boot.wim" || fail "fixture"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:5"

# json_check FILE EXPR -- the Python expression EXPR over FILE's JSON as `s` must hold
json_check() {
	python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || { cat "$1" >&2; fail "$3: $2"; }
}

# ---- 1. nothing runs ----------------------------------------------------------------------
view_conf ""
"$BIN" status -c "$T/pxe.conf" --json >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 2 ] || fail "status --json with nothing running: exit $rc, not 2"
json_check "$T/out" 's["status"] == "not running" and s["healthy"] is False' "--json, nothing running"
ok "status --json with nothing running: JSON, exit 2"

# ---- 2. a healthy view: status fields and the metrics file ----------------------------------
view_start "$BIN" "$DRIVES"
"$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1 || { cat "$T/out"; fail "status of a healthy view: exit $?"; }
grep -q "probe: the view answered" "$T/out" || { cat "$T/out"; fail "no probe line"; }
"$BIN" status -c "$T/pxe.conf" --json >"$T/st.json" || fail "status --json: exit $?"
json_check "$T/st.json" 'abs(s["written_unix"] - '"$(date +%s)"') < 60 and s["written"].endswith("Z")' "written"
json_check "$T/st.json" '0 < s["primary_space"]["free_bytes"] <= s["primary_space"]["size_bytes"] and 200<<20 < s["primary_space"]["size_bytes"] <= 256<<20 and s["primary_space"]["drive"] == "C"' "primary_space"
json_check "$T/st.json" 's["share"]["samba"] == "none" and s["status"] == "healthy" and s["probe"]["responding"]' "share, probe"
cat "$V/PKG1/boot.wim" >/dev/null || fail "read through the view"
PROM=$(ls "$T"/run/*.prom 2>/dev/null | head -1)
[ -n "$PROM" ] || fail "no metrics file in $T/run ($(ls "$T/run"))"
[ "$(stat -c %a "$PROM")" = 644 ] || fail "$PROM: mode $(stat -c %a "$PROM"), not 644"
[ "${PROM%.prom}.json" = "$(view_status_file)" ] || fail "$PROM is not beside $(view_status_file)"
kill -USR1 "$VIEW_PID" # rewritten with fresh counters
sleep 0.5
# prom_check FILE MP EXPR -- FILE parses as the text format; EXPR over `m`, a dict
# (name, frozenset of labels) -> value, and `v(name, **labels)` must hold
prom_check() {
	python3 - "$@" <<'PY' || fail "the metrics file: $3"
import re, sys
path, mp, expr = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8").read()
assert text.endswith("\n"), "no final newline"
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
sample_re = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)\})? (\S+)$" % (name_re, label_re, label_re))
helped, typed, m = set(), {}, {}
for n, line in enumerate(text.splitlines(), 1):
    if line.startswith("# HELP "):
        helped.add(line.split(" ")[2]); continue
    if line.startswith("# TYPE "):
        parts = line.split(" ")
        assert len(parts) == 4 and parts[3] in ("gauge", "counter"), "line %d: %s" % (n, line)
        assert parts[2] in helped, "line %d: TYPE before HELP" % n
        typed[parts[2]] = parts[3]; continue
    g = sample_re.match(line)
    assert g, "line %d is not a sample: %r" % (n, line)
    name = g.group(1)
    assert name.startswith("pxeimagesfs_"), "line %d: %s" % (n, name)
    assert name in typed, "line %d: %s has no TYPE before it" % (n, name)
    labels = dict((k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                  for k, v in re.findall(label_re, g.group(2) or ""))
    assert labels.get("mountpoint") == mp, "line %d: mountpoint %r" % (n, labels.get("mountpoint"))
    value = float(g.group(g.lastindex))
    if typed[name] == "counter":
        assert name.endswith("_total") and value >= 0, "line %d: counter %s" % (n, name)
    m[(name, frozenset(labels.items()))] = value
def v(name, **kw):
    kw["mountpoint"] = mp
    return m["pxeimagesfs_" + name, frozenset(kw.items())]
if not eval(expr):
    print(text, file=sys.stderr)
    sys.exit(1)
PY
}
prom_check "$PROM" "$T/view" 'v("healthy") == 1 and v("drive_online", drive="C") == 1 and v("drive_healthy", drive="C") == 1 and v("drive_online", drive="D") == 1 and v("drive_state", drive="C", state="online") == 1 and v("view_generation") >= 0 and v("opens_total") >= 1 and v("errors_total") >= 0 and v("stale_opens_total") >= 0 and v("folder_events_total") >= 0 and v("passthrough_active") in (0, 1) and v("primary_free_bytes") > 0 and abs(v("status_written_timestamp_seconds") - '"$(date +%s)"') < 60 and v("drive_primary", drive="C") == 1'
ok "status: written, primary_space, share, probe; the metrics file parses and carries the metrics"

# ---- 3. the daemon stopped -----------------------------------------------------------------
kill -STOP "$VIEW_PID" && STOPPED=$VIEW_PID
sleep 2 # past the kernel's attribute cache of the root (attr timeout 1 s)
start=$(date +%s%N)
timeout 20 "$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 4 ] || { cat "$T/out"; fail "status of a stopped daemon: exit $rc, not 4 (in $took ms)"; }
[ "$took" -lt 6000 ] || fail "status of a stopped daemon took $took ms"
grep -q "not responding" "$T/out" && grep -q "stopped" "$T/out" || { cat "$T/out"; fail "status does not say why"; }
timeout 20 "$BIN" status -c "$T/pxe.conf" --json >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 4 ] || fail "status --json of a stopped daemon: exit $rc"
json_check "$T/out" 's["status"] == "not responding" and s["healthy"] is False and not s["probe"]["responding"] and s["degraded_reasons"]' "--json of a stopped daemon"
kill -CONT "$VIEW_PID" && STOPPED=
# the daemon first answers what queued while it was stopped: healthy again within 10 s
start=$(date +%s%N)
for ((i = 0; i < 20; i++)); do
	timeout 20 "$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1
	rc=$?
	[ "$rc" = 0 ] && break
	sleep 0.5
done
[ "$rc" = 0 ] || { cat "$T/out"; fail "status 10 s after SIGCONT: exit $rc"; }
ok "a stopped daemon: status exits 4 in $took ms saying why; healthy again $((($(date +%s%N) - start) / 1000000)) ms after SIGCONT"
view_stop
fusermount3 -u "$T/view" 2>/dev/null
[ -z "$(ls "$T"/run/ 2>/dev/null)" ] || fail "a clean stop left $(ls "$T/run") in the run directory"

# ---- 4. samba = private with an smbd that cannot start -----------------------------------------
mkdir -p "$T/bin" && printf '#!/bin/sh\necho "bogus smbd" >&2\nexit 1\n' >"$T/bin/smbd" &&
	chmod 755 "$T/bin/smbd" || fail "bogus smbd"
VIEW_SHARE="    samba = private
    port = 44671
    interfaces = 127.0.0.1" VIEW_MOUNT_SECONDS=15 view_start "$BIN" "$DRIVES" "" PATH="$T/bin:$PATH"
for ((i = 0; i < 300; i++)); do
	f=$(view_status_file)
	[ -n "$f" ] && python3 -c 'import json,sys; sys.exit(0 if "up" in json.load(open(sys.argv[1]))["share"] else 1)' "$f" 2>/dev/null && break
	kill -0 "$VIEW_PID" 2>/dev/null || { cat "$T/log"; fail "mount -f exited"; }
	sleep 0.05
done
"$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1
rc=$?
[ "$rc" = 1 ] || { cat "$T/out" "$T/log"; fail "status with the private smbd down: exit $rc, not 1"; }
grep -q "share" "$T/out" && grep -qi "smbd DOWN" "$T/out" || { cat "$T/out"; fail "status does not name the share"; }
"$BIN" status -c "$T/pxe.conf" --json >"$T/st.json"
json_check "$T/st.json" 's["share"]["samba"] == "private" and s["share"]["up"] is False and s["healthy"] is False and any("share" in r for r in s["degraded_reasons"])' "share down"
prom_check "$(ls "$T"/run/*.prom | head -1)" "$T/view" 'v("share_up") == 0 and v("healthy") == 0 and v("share_restarts_total") == 0'
for ((i = 0; i < 100; i++)); do grep -q "smbd exited" "$T/log" && break; sleep 0.05; done
grep -q "cannot start the private smbd: smbd exited with status 1 at start (it said: bogus smbd)" "$T/log" ||
	{ cat "$T/log"; fail "the daemon's message does not quote what smbd said as it failed"; }
ok "samba = private, smbd cannot start: status degraded (exit 1) naming the share; share_up 0; the log quotes smbd's own words"

# ---- 5. the cause goes away (a real smbd now): the daemon tries again by itself, the share is up
printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v smbd)" >"$T/bin/smbd.new" && chmod 755 "$T/bin/smbd.new" &&
	mv "$T/bin/smbd.new" "$T/bin/smbd" || fail "real smbd wrapper"
t0=$(date +%s)
for ((i = 0; i < 600; i++)); do
	listening 44671 && "$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1 && break
	kill -0 "$VIEW_PID" 2>/dev/null || { cat "$T/log"; fail "mount -f exited"; }
	sleep 0.1
done
"$BIN" status -c "$T/pxe.conf" >"$T/out" 2>&1 ||
	{ cat "$T/out" "$T/log"; fail "smbd can start now, but the daemon did not try again within 60 s"; }
grep -q "private smbd serves" "$T/log" || { cat "$T/log"; fail "the daemon does not say smbd serves now"; }
ok "the cause gone, the daemon started smbd again by itself after $(($(date +%s) - t0)) s: status healthy"
view_stop
private_smbd_kill
exit 0
