#!/bin/bash
# ctdb_event_script.sh -- packaging/ctdb/47.pxeimagesfs.script's verdict on `monitor`, against
# `pxeimagesfs status --json` outputs and exit statuses played by a stand-in command: what
# fails the node (not serving) and what passes (healthy; degraded but serving, unless
# CTDB_PXEIMAGESFS_FAIL_DEGRADED=yes), a status that hangs (bounded by the timeout), hostile
# strings in the JSON (never taken for keys), other events. No CTDB needed: a stub of ctdb's
# functions file (die, load_script_options). ctdb_cluster runs the script under a real CTDB.
#   ctdb_event_script.sh
set -u
. "$(dirname "$0")/lib.sh"
SCRIPT=$(realpath "$(dirname "$0")/../../packaging/ctdb/47.pxeimagesfs.script")
need_tools awk:mawk timeout:coreutils
T=$(mktemp -d /tmp/pxeimagesfs-ctdbev.XXXXXX) || fail "mktemp"
trap 'rm -rf "$T"' EXIT
cat >"$T/functions" <<'EOF'
load_script_options() { :; }
die() { echo "$1" >&2; exit "${2:-1}"; }
EOF
# the stand-in: prints $T/out.json, exits with $T/rc; its arguments go to $T/args
cat >"$T/status" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/args"
cat "$T/out.json"
exit \$(cat "$T/rc")
EOF
chmod +x "$T/status"

# json DEGRADED_REASONS SAMBA UP HOLDS RESPONDING -- a status the way json-c prints it
json() {
	cat <<EOF
{
  "schema": 1,
  "pid": 4242,
  "share": {
    "samba": "$2",
    "state": "exported",
    "smbd": "system",
    "up": $3,
    "restarts": 0,
    "note": "a \"holds_images\": true { note"
  },
  "healthy": false,
  "degraded_reasons": [
$1
  ],
  "view": {
    "schema": 1,
    "drives": [
      {
        "name": "G",
        "rank": 1,
        "identity": {
          "path": "/srv/store",
          "uuid": null
        },
        "state": "online",
        "holds_images": $4,
        "reason": "\"holds_images\": true,"
      },
      {
        "name": "L",
        "state": "offline",
        "holds_images": false,
        "reason": "not mounted"
      }
    ],
    "no_drive": null,
    "view": {
      "holds_images": $4,
      "primary": "G",
      "roots": [ ]
    }
  },
  "probe": {
    "responding": $5,
    "ms": 3
  },
  "status": "degraded"
}
EOF
}
# verdict WANT RC [VAR=VALUE...] -- run monitor on $T/out.json with status exit RC
n=0
verdict() {
	local want=$1 rc=$2 got
	shift 2
	echo "$rc" >"$T/rc"
	env CTDB_BASE="$T" CTDB_PXEIMAGESFS="$T/status" "$@" sh "$SCRIPT" monitor >"$T/out" 2>&1
	got=$?
	n=$((n + 1))
	if [ "$want" = pass ] && [ $got != 0 ] || [ "$want" = fail ] && [ $got = 0 ]; then
		fail "case $n (status exit $rc $*): want $want, got exit $got: $(cat "$T/out")"
	fi
}

R='    "drive L offline: not mounted",
    "a \"b\": c \\"'
json "$R" ctdb true true true >"$T/out.json"
verdict pass 0
verdict pass 1
grep -q 'degraded but serving: drive L offline' "$T/out" || fail "no note of the degraded state: $(cat "$T/out")"
verdict fail 1 CTDB_PXEIMAGESFS_FAIL_DEGRADED=yes
ok "healthy and degraded-but-serving pass; CTDB_PXEIMAGESFS_FAIL_DEGRADED=yes fails the latter"

json '    "drive G unavailable: Transport endpoint is not connected",
    "no drive holds the images"' ctdb true false true >"$T/out.json"
verdict fail 1
grep -q 'does not serve the images.*no drive holds the images' "$T/out" || fail "no reason: $(cat "$T/out")"
json '    "share not exported: testparm failed"' ctdb false true true >"$T/out.json"
verdict fail 1
grep -q 'share not exported' "$T/out" || fail "no reason: $(cat "$T/out")"
json '    "drive L offline"' none false true true >"$T/out.json"
verdict pass 1
json '    "view did not answer"' ctdb true true false >"$T/out.json"
verdict fail 1
verdict fail 4
printf '{\n  "status": "not running",\n  "healthy": false,\n  "reason": "no status file"\n}\n' >"$T/out.json"
verdict fail 2
grep -q 'not running (exit 2): no status file' "$T/out" || fail "no reason: $(cat "$T/out")"
verdict fail 3
: >"$T/out.json"
verdict fail 1
ok "no drive holding the images, the share not exported, not responding, not running, unknown, no JSON: fail; samba = none: no share to check"

# hostile strings: every "holds_images"/"up"/"responding" in a string, the real ones false
json '    "\"holds_images\": true,",
    "  \"up\": true"' ctdb false false false >"$T/out.json"
sed -i 's/"primary": "G"/"primary": "\\"holds_images\\": true"/' "$T/out.json"
verdict fail 1
ok "strings that look like keys are never read as keys"

verdict pass 1 CTDB_PXEIMAGESFS_CONFIG=/etc/x.conf CTDB_PXEIMAGESFS_MOUNTPOINT='/srv/a b;$(id)' \
	CTDB_PXEIMAGESFS_FAIL_DEGRADED=no
[ "$(tr '\n' '|' <"$T/args")" = 'status|--json|-c|/etc/x.conf|--|/srv/a b;$(id)|' ] ||
	fail "arguments: $(tr '\n' '|' <"$T/args")"
ok "the configuration and mountpoint go to status as single arguments"

printf '#!/bin/sh\nexec sleep 30\n' >"$T/hang" && chmod +x "$T/hang"
t0=$(date +%s%N)
env CTDB_BASE="$T" CTDB_PXEIMAGESFS="$T/hang" CTDB_PXEIMAGESFS_TIMEOUT=1 sh "$SCRIPT" monitor >"$T/out" 2>&1 &&
	fail "a hung status passed"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 5000 ] || fail "a hung status held the event $ms ms (timeout 1 s)"
grep -q 'did not finish within 1 s' "$T/out" || fail "no reason: $(cat "$T/out")"
env CTDB_BASE="$T" CTDB_PXEIMAGESFS="$T/none" sh "$SCRIPT" monitor >"$T/out" 2>&1 && fail "a missing command passed"
env CTDB_BASE="$T" CTDB_PXEIMAGESFS_TIMEOUT='1;id' CTDB_PXEIMAGESFS="$T/status" sh "$SCRIPT" monitor >"$T/out" 2>&1 &&
	fail "a bad timeout passed"
for ev in startup shutdown takeip releaseip ipreallocated; do
	env CTDB_BASE="$T" CTDB_PXEIMAGESFS="$T/none" sh "$SCRIPT" $ev >"$T/out" 2>&1 || fail "event $ev failed: $(cat "$T/out")"
done
ok "a hung status fails the event after $ms ms (timeout 1 s); a missing command, a bad timeout fail; other events do nothing"
echo "ctdb_event_script: all checks passed"
