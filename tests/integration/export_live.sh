#!/bin/bash
# export_live.sh -- with samba = system, the daemon exports the share at start without ever
# making the thread that follows the drives wait on Samba's tools: while a testparm hangs, a
# drive mounted meanwhile shows in the view at once, and SIGTERM stops the daemon at once,
# leaving nothing in TMPDIR (the export's copies of smb.conf for testparm are removed).
# (A fake testparm first on PATH sleeps; the real smb.conf is never touched: the config names
# files under the test's directory.) Then the daemon's export of an smb.conf with a NUL byte,
# or one including a FIFO or /dev/zero: refused before any Samba tool runs, nothing changed, no
# backup, SIGTERM still stops it. Needs root and /dev/fuse; exit 77 = skipped (a failure under
# CI=true).
set -u
BIN=${1:?usage: export_live.sh PXEIMAGESFS_BINARY}
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, view_sandbox

need_root_fuse
need_tools fusermount3:fuse3 timeout:coreutils
view_sandbox export-live
mkdir -p "$T/fake" "$T/state" "$T/run" "$C/PKGC0001"
echo c >"$C/PKGC0001/boot.wim"
umount "$T/d" # D comes later
cat >"$T/fake/testparm" <<FAKE
#!/bin/sh
echo \$\$ >"$T/testparm-started"
exec sleep 50
FAKE
chmod +x "$T/fake/testparm"
printf '[global]\n    workgroup = LAB\n' >"$T/smb.conf"
drive_sections DRIVES "C:$T/c:10" "D:$T/d:20"
view_conf "$DRIVES" "    mount timeout = 0
    rescan interval = 0" "    samba = system
    smb.conf = $T/smb.conf
    include file = $T/inc.conf"
mkdir -p "$T/tmp" || fail "mkdir"
TMPDIR=$T/tmp PATH="$T/fake:$PATH" "$BIN" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
VIEW_PID=$!
for ((i = 0; i < 200; i++)); do [ -e "$T/testparm-started" ] && [ -d "$V/PKGC0001" ] && break; sleep 0.05; done
[ -e "$T/testparm-started" ] || { cat "$T/log" >&2; fail "the export did not start testparm"; }
[ -d "$V/PKGC0001" ] || fail "the view does not serve C"

# the export hangs in testparm; D arrives: the live thread must follow it at once
mount -t tmpfs -o size=16m pxe-d "$T/d" || fail "mount D"
mkdir -p "$D/PKGD0001" && echo d >"$D/PKGD0001/boot.wim"
t0=$(date +%s%N)
for ((i = 0; i < 150; i++)); do [ -e "$V/PKGD0001/boot.wim" ] && break; sleep 0.02; done
ms=$((($(date +%s%N) - t0) / 1000000))
[ -e "$V/PKGD0001/boot.wim" ] || fail "D mounted while the export hangs: not in the view after 3 s (the live thread waits on Samba)"
ok "while the export's testparm hangs, D shows in the view after $ms ms"

t0=$(date +%s%N)
kill -TERM "$VIEW_PID"
timeout 10 tail -s 0.05 --pid="$VIEW_PID" -f /dev/null || fail "SIGTERM while the export hangs: still running after 10 s"
VIEW_PID=
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q " $T/view " /proc/self/mountinfo && fail "the view is still mounted after the stop"
[ "$(cat "$T/smb.conf")" = "$(printf '[global]\n    workgroup = LAB')" ] || fail "smb.conf changed"
kill "$(cat "$T/testparm-started")" 2>/dev/null # the fake testparm, by its pid
[ -z "$(ls -A "$T/tmp")" ] || fail "the stop left the export's copies for testparm in TMPDIR: $(ls -A "$T/tmp")"
ok "SIGTERM while the export hangs: stopped and unmounted after $ms ms; smb.conf untouched; no copies left in TMPDIR"

# The daemon's export (samba = system) reads smb.conf as the export command does: an smb.conf
# with a NUL byte, or one that includes a FIFO or /dev/zero, is refused with nothing changed
# (no backup either), and the daemon stays responsive: SIGTERM stops it at once.
# (a testparm that fails at once: the refusal must come before any Samba tool runs)
mkdir -p "$T/fake2" && printf '#!/bin/sh\necho "fake testparm reached" >&2\nexit 1\n' >"$T/fake2/testparm"
chmod +x "$T/fake2/testparm"
for bad in nul fifo zero; do
	rm -f "$T/fifo.conf" "$T"/smb.conf.pxeimagesfs-bak.* "$T/inc.conf" "$T/log"
	case $bad in
	nul) printf '[global]\n    workgroup = LAB\n\0[old]\n    path = /srv/old\n' >"$T/smb.conf" ;;
	fifo) mkfifo "$T/fifo.conf" && printf '[global]\n    include = %s\n' "$T/fifo.conf" >"$T/smb.conf" ;;
	zero) printf '[global]\n    include = /dev/zero\n' >"$T/smb.conf" ;;
	esac
	sum=$(sha256sum <"$T/smb.conf")
	PATH="$T/fake2:$PATH" "$BIN" mount -f -c "$T/pxe.conf" >"$T/log" 2>&1 &
	VIEW_PID=$!
	for ((i = 0; i < 200; i++)); do grep -q "export: error: " "$T/log" && break; sleep 0.05; done
	grep -q "export: error: .*\(not a text file\|not a regular file\)" "$T/log" ||
		{ cat "$T/log" >&2; fail "$bad smb.conf: the daemon's export did not refuse it within 10 s"; }
	[ -d "$V/PKGC0001" ] || fail "$bad smb.conf: the view does not serve C"
	[ "$(sha256sum <"$T/smb.conf")" = "$sum" ] || fail "$bad smb.conf: the daemon's export changed it"
	ls "$T"/smb.conf.pxeimagesfs-bak.* >/dev/null 2>&1 && fail "$bad smb.conf: a backup of a refused smb.conf"
	[ -e "$T/inc.conf" ] && fail "$bad smb.conf: the include file was written"
	kill -TERM "$VIEW_PID"
	timeout 10 tail -s 0.05 --pid="$VIEW_PID" -f /dev/null || fail "$bad smb.conf: still running 10 s after SIGTERM"
	VIEW_PID=
	ok "the daemon's export refuses an smb.conf with $bad: unchanged, no backup, stopped by SIGTERM"
done
