#!/bin/bash
# default_config.sh -- the shipped configuration (packaging/pxeimagesfs.conf) never takes a
# filesystem nobody named: a tmpfs holding RemoteInstall/SMSImages/SMSPKG (a USB backup disk
# with an old tree) stays out of `resolve` and out of the mounted view, whose status says what
# to add; with `discover = yes` the same tmpfs is in, and `resolve` and `config check` say why
# each drive is in. Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true).
set -u
BIN=${1:?usage: default_config.sh PXEIMAGESFS_BINARY SOURCE_DIR}
SRC=${2:?usage: default_config.sh PXEIMAGESFS_BINARY SOURCE_DIR}
CONF=$SRC/packaging/pxeimagesfs.conf

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok
need_root_fuse
need_tools python3:python3 fusermount3:fuse3

T=$(mktemp -d /tmp/pxeimagesfs-defconf.XXXXXX) || fail "mktemp"
VIEW_PID=
cleanup() {
	[ -n "$VIEW_PID" ] && kill "$VIEW_PID" 2>/dev/null &&
		timeout 10 tail --pid="$VIEW_PID" -f /dev/null
	grep -q " $T/view " /proc/self/mountinfo && fusermount3 -u "$T/view"
	grep -q " $T/usb " /proc/self/mountinfo && umount "$T/usb"
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT
mkdir -p "$T/usb" "$T/view" || fail "mkdir"
mount -t tmpfs -o size=8m pxe-usb "$T/usb" || fail "cannot mount tmpfs"
mkdir -p "$T/usb/RemoteInstall/SMSImages/SMSPKG/OLD00001"

# The shipped file, pointed at this sandbox: every other line kept as shipped.
sed -e "s|^;   mountpoint = .*|    mountpoint = $T/view|" \
	-e "s|^;   state directory = .*|    state directory = $T/state|" \
	-e "s|^;   run directory = .*|    run directory = $T/run|" \
	-e "s|^;   mount timeout = .*|    mount timeout = 0|" \
	-e "s|^    samba = system|    samba = none|" "$CONF" >"$T/shipped.conf"
grep -q "^    mountpoint = $T/view" "$T/shipped.conf" && grep -q "^    samba = none" "$T/shipped.conf" ||
	fail "the shipped config no longer has the lines this test adapts"
sed "s|^\[global\]|[global]\n    discover = yes|" "$T/shipped.conf" >"$T/discover.conf"

# ---- the shipped default: the tmpfs stays out ------------------------------------------------
out=$("$BIN" resolve -c "$CONF" 2>&1); rc=$?
echo "--- resolve (shipped) -> exit $rc"; echo "$out"
echo "$out" | grep -qF "$T/usb" && fail "the shipped default took $T/usb, a mount no one configured"
[ $rc = 1 ] || fail "resolve of the shipped default: exit $rc, want 1 (no drive)"
echo "$out" | grep -q "no drive configured: add a \[drive:NAME\] section" ||
	fail "resolve of the shipped default does not say what to add"
echo "$out" | grep -q "discover = yes" || fail "resolve does not name 'discover = yes'"
json=$("$BIN" resolve --json -c "$CONF" 2>/dev/null)
python3 -c 'import json,sys; v=json.loads(sys.argv[1]); assert v["drives"] == [] and v["discovery"] is False, v' "$json" ||
	fail "resolve --json of the shipped default lists drives: $json"
ok "resolve: the shipped default takes no mount"

out=$("$BIN" config check -c "$CONF" 2>&1); rc=$?
echo "--- config check (shipped) -> exit $rc"; echo "$out"
[ $rc = 0 ] || fail "config check of the shipped default: exit $rc"
echo "$out" | grep -q "no drive configured: add a \[drive:NAME\] section with path=, uuid= or label=" ||
	fail "config check does not say what to add"
ok "config check: the shipped default says what to add"

# ---- the view mounted on the shipped default: mounted, empty, not healthy, says why ----------
"$BIN" mount -f -c "$T/shipped.conf" >"$T/log" 2>&1 &
VIEW_PID=$!
for ((i = 0; i < 200; i++)); do
	grep -q " $T/view .* - fuse.pxeimagesfs " /proc/self/mountinfo && ls "$T"/run/*.json >/dev/null 2>&1 && break
	kill -0 "$VIEW_PID" 2>/dev/null || break
	sleep 0.05
done
cat "$T/log"
grep -q " $T/view .* - fuse.pxeimagesfs " /proc/self/mountinfo || fail "the view did not mount on the shipped default"
[ -e "$T/view/RemoteInstall/SMSImages/SMSPKG/OLD00001" ] && fail "the view serves the unconfigured $T/usb"
[ -e "$T/view/RemoteInstall/SMSImages/SMSPKG" ] && fail "the images folder is in a view without drives"
grep -q "no drive configured: add a \[drive:NAME\] section" "$T/log" || fail "the daemon's start does not say what to add"
st=$(ls "$T"/run/*.json | head -1)
python3 - "$st" "$T/usb" <<'PY' || fail "status of the view on the shipped default: $(cat "$st")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["healthy"] is False, "healthy"
assert any(r.startswith("no drive configured: add a [drive:NAME] section") for r in s["degraded_reasons"]), s["degraded_reasons"]
assert all(d.get("mount_path") != sys.argv[2] for d in s["view"]["drives"]), s["view"]["drives"]
PY
ok "mount: the shipped default mounts an empty view and says why it is not healthy"

# the administrator adds a drive and reloads: served; takes it out again: the reload says why
sed "s|^\[share\]|[drive:USB]\n    path = $T/usb\n[share]|" "$T/shipped.conf" >"$T/live.conf.new"
cp "$T/shipped.conf" "$T/shipped.orig"
mv -f "$T/live.conf.new" "$T/shipped.conf"
kill -HUP "$VIEW_PID"
for ((i = 0; i < 100; i++)); do [ -e "$T/view/RemoteInstall/SMSImages/SMSPKG/OLD00001" ] && break; sleep 0.1; done
[ -e "$T/view/RemoteInstall/SMSImages/SMSPKG/OLD00001" ] || { cat "$T/log"; fail "a drive added by SIGHUP is not served within 10 s"; }
mv -f "$T/shipped.orig" "$T/shipped.conf"
kill -HUP "$VIEW_PID"
for ((i = 0; i < 100; i++)); do [ -e "$T/view/RemoteInstall/SMSImages/SMSPKG" ] || break; sleep 0.1; done
[ -e "$T/view/RemoteInstall/SMSImages/SMSPKG" ] && fail "the drive is still served after a reload without it"
grep -q "reload: no drive configured: add a \[drive:NAME\] section" "$T/log" ||
	{ cat "$T/log"; fail "the reload to a file without drives does not say what to add"; }
kill "$VIEW_PID"; timeout 10 tail --pid="$VIEW_PID" -f /dev/null || fail "mount -f did not stop"
VIEW_PID=
ok "reload: a drive added is served, a file without drives says what to add"

# require drives = yes on a file without drives: no start, and it says why
sed "s|^;   require drives = .*|    require drives = yes|" "$T/shipped.conf" >"$T/require.conf"
out=$(timeout 30 "$BIN" mount -f -c "$T/require.conf" 2>&1); rc=$?
echo "--- mount -f (require drives = yes, no drive) -> exit $rc"; echo "$out"
grep -q " $T/view .* - fuse.pxeimagesfs " /proc/self/mountinfo && fail "require drives = yes mounted a view without drives"
[ $rc = 2 ] || fail "require drives = yes without drives: exit $rc, want 2"
echo "$out" | grep -q "'require drives = yes', and no drive configured" || fail "require drives: no reason given"
ok "require drives = yes refuses a file without drives"

# ---- discover = yes: the tmpfs is in, and resolve says why -----------------------------------
out=$("$BIN" resolve -c "$T/discover.conf" 2>&1); rc=$?
echo "--- resolve (discover = yes) -> exit $rc"; echo "$out"
[ $rc = 0 ] || fail "resolve with discover = yes: exit $rc, want 0"
echo "$out" | grep -E " $T/usb +online .*in view: holds the images \(1 package\).*discovered: $T/usb \(tmpfs, pxe-usb\) has RemoteInstall/SMSImages/SMSPKG" ||
	fail "discover = yes: no row saying why $T/usb is in"
echo "$out" | grep -q "no drive configured" && fail "discover = yes still says no drive configured"
out=$("$BIN" config check -c "$T/discover.conf" 2>&1) || fail "config check with discover = yes: $out"
echo "$out" | grep -q "discover = yes: every mounted local filesystem that holds" || fail "config check does not say discovery is on: $out"
ok "discover = yes: the mount holding the images is in, and resolve says why"

# ---- explicit drives: why each is in ---------------------------------------------------------
sed "s|^\[share\]|[drive:USB]\n    path = $T/usb\n[drive:L]\n    label = PXEIMAGES\n[share]|" \
	"$T/shipped.conf" >"$T/drives.conf"
out=$("$BIN" config check -c "$T/drives.conf" 2>&1) || fail "config check with drives: $out"
echo "$out"
echo "$out" | grep -q "^drive USB: configured by path $T/usb" || fail "config check: why USB is in"
echo "$out" | grep -q "^drive L: configured by label PXEIMAGES" || fail "config check: why L is in"
echo "$out" | grep -q "no drive configured" && fail "config check with drives says no drive configured"
out=$("$BIN" resolve -c "$T/drives.conf" 2>&1)
echo "$out"
echo "$out" | grep -Eq "^1 +USB +$T/usb +online .*in view: .*configured by path" || fail "resolve: why USB is in"
ok "explicit drives: config check and resolve say how each is configured"
echo "default_config: all checks passed"
