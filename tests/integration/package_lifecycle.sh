#!/bin/bash
# package_lifecycle.sh -- the .deb's whole life under a real systemd, in a fresh root (a
# container: tests/harness/systemd_container.sh, an overlay of / where nothing of ours is
# installed): install (nothing enabled or started) -> configure, enable --now, export the
# share into smb.conf -> upgrade to a newer version (the running view restarts on the new
# binary) -> remove (the view stopped and unmounted, nothing runs from the deleted binary) ->
# purge (no enable link, no Samba include, no include file, no configuration left, and the
# administrator's own smb.conf lines untouched).
#
#   package_lifecycle.sh DEB
#
# Exit 77 = skipped (a failure under CI=true). Debian packages: dpkg, systemd,
# systemd-container, samba (testparm), init-system-helpers (deb-systemd-helper).
# shellcheck disable=SC2016 # single-quoted scripts run inside the container
set -u
DEB=${1:?usage: package_lifecycle.sh DEB}
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh" # fail, need, ok
# shellcheck source=../harness/systemd_container.sh
. "$HERE/../harness/systemd_container.sh" || fail "cannot load the harness"
[ -f "$DEB" ] || fail "no package at $DEB"
[ "$(id -u)" = 0 ] || need "needs root (namespaces, systemd as PID 1)"
[ -c /dev/fuse ] || need "no /dev/fuse"
for t in dpkg-deb:dpkg testparm:samba-common-bin deb-systemd-helper:init-system-helpers; do
	command -v "${t%%:*}" >/dev/null || need "${t%%:*} not found (Debian package ${t#*:})"
done
sdc_available || need "cannot run systemd in a container here: $SDC_WHY"

T=$(mktemp -d /tmp/pxeimagesfs-life.XXXXXX) || fail "mktemp"
cleanup() {
	local rc=$?
	if [ "$rc" != 0 ] && [ -n "$SDC_PID1" ]; then
		sdc_exec journalctl --no-pager -o short-monotonic -u 'pxeimagesfs*' 2>&1 | tail -n 30 >&2
	fi
	sdc_stop
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# the upgrade: the same package with a higher Debian revision (one more byte in the binary, so
# that a restart on the new binary is visible as a new executable)
V1=$(dpkg-deb -f "$DEB" Version)
V2="${V1%-*}-$((${V1##*-} + 1))"
dpkg-deb -R "$DEB" "$T/v2" || fail "dpkg-deb -R"
sed -i "s/^Version: .*/Version: $V2/" "$T/v2/DEBIAN/control"
printf '\n' >>"$T/v2/usr/bin/pxeimagesfs"
(cd "$T/v2" && find usr etc -type f -exec md5sum {} +) >"$T/v2/DEBIAN/md5sums"
dpkg-deb --root-owner-group -b "$T/v2" "$T/pkg_v2.deb" >/dev/null || fail "dpkg-deb -b (the upgrade)"
rm -rf "$T/v2"

S=$T/staging
mkdir -p "$S/root" "$S/srv/drives/c" "$S/srv/pxeimages" || fail "mkdir"
cp "$DEB" "$S/root/pkg_v1.deb" && cp "$T/pkg_v2.deb" "$S/root/pkg_v2.deb" || fail "cp"
# the administrator's smb.conf: a share of their own, which must survive everything
mkdir -p "$S/etc/samba"
cat >"$S/etc/samba/smb.conf" <<'SMB'
# the administrator's smb.conf
[global]
   workgroup = LAB
   smb ports = 4455
[admin-share]
   path = /srv
   comment = kept through install, upgrade, remove and purge
SMB
cp "$S/etc/samba/smb.conf" "$T/smb.conf.orig"

sdc_start "$S" 60 || need "cannot boot systemd in a container here: $SDC_ERROR"
cx() { sdc_exec "$@"; }
SVC=pxeimagesfs.service
prop() { cx systemctl show -P "$1" "$SVC"; }
views() { cx awk '$5 == "/srv/pxeimages" && / - fuse\.pxeimagesfs / { n++ } END { print n + 0 }' /proc/self/mountinfo; }
wait_for() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do "${@:2}" && return 0; sleep 0.1; done
	"${@:2}"
}
deleted_exe() { # processes running a deleted pxeimagesfs binary
	cx sh -c 'for p in /proc/[0-9]*; do l=$(readlink $p/exe 2>/dev/null) || continue
		case $l in *pxeimagesfs*"(deleted)") echo ${p#/proc/} ;; esac; done'
}
running() { cx sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = pxeimagesfs ] && echo ${p#/proc/}; done'; }

# A container-image policy-rc.d (Docker's says 101: "never act on services") would rightly
# stop the maintainer scripts from restarting or stopping anything: a real host has none.
cx rm -f /usr/sbin/policy-rc.d || fail "removing policy-rc.d inside"

# ---- install: nothing enabled, nothing started ---------------------------------------------------
out=$(cx env DEBIAN_FRONTEND=noninteractive dpkg -i /root/pkg_v1.deb 2>&1) || fail "dpkg -i $V1:"$'\n'"$out"
[ "$(prop LoadState)" = loaded ] || fail "after install: $SVC is $(prop LoadState)"
[ "$(cx systemctl is-enabled "$SVC" 2>/dev/null)" = disabled ] || fail "after install: $SVC is $(cx systemctl is-enabled "$SVC")"
[ "$(prop ActiveState)" = inactive ] || fail "after install: $SVC is $(prop ActiveState)"
[ -z "$(running)" ] || fail "after install: pxeimagesfs runs: $(running)"
cx dpkg-query -W -f='${Conffiles}' pxeimagesfs | grep -q /etc/pxeimagesfs/pxeimagesfs.conf ||
	fail "after install: dpkg did not register the conffile"
if ! cx sh -c 'grep -qs "^path-exclude.*/usr/share/man" /etc/dpkg/dpkg.cfg.d/*'; then
	cx man -w pxeimagesfs >/dev/null 2>&1 && cx man -w 5 pxeimagesfs.conf >/dev/null 2>&1 ||
		fail "after install: man -w finds no page"
fi
out=$(cx systemd-analyze verify /usr/lib/systemd/system/pxeimagesfs.service 2>&1)
[ -z "$out" ] || fail "after install: systemd-analyze verify: $out"
# the CTDB event script: installed beside ctdb's own, not enabled; enabled the documented way
# (ctdb's tool where ctdb is installed, else the link that tool makes), which remove undoes
EV=/usr/share/ctdb/events/legacy/47.pxeimagesfs.script EVLINK=/etc/ctdb/events/legacy/47.pxeimagesfs.script
cx test -x $EV || fail "after install: no executable $EV"
cx test -e $EVLINK && fail "after install: the CTDB event script is enabled"
if cx sh -c 'command -v ctdb' >/dev/null; then
	out=$(cx ctdb event script enable legacy 47.pxeimagesfs 2>&1) || fail "ctdb event script enable: $out"
else
	cx sh -c "mkdir -p ${EVLINK%/*} && ln -s $EV $EVLINK" || fail "enabling the CTDB event script"
fi
[ "$(cx readlink $EVLINK)" = $EV ] || fail "enabled, $EVLINK is not a link to $EV"
ok "install $V1: unit loaded and verified, disabled, inactive; conffile registered; CTDB event script installed disabled, enabled"

# ---- configure, enable --now, export the share -----------------------------------------------------
cx sh -ec 'mount -t tmpfs -o size=16m drive-c /srv/drives/c
	mkdir -p /srv/drives/c/RemoteInstall/SMSImages/SMSPKG/PKG00001
	echo image >/srv/drives/c/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.PKG00001.wim
	cat >/etc/pxeimagesfs/pxeimagesfs.conf <<CONF
[global]
    mountpoint = /srv/pxeimages
    mount timeout = 0
[drive:C]
    path = /srv/drives/c
[share]
    samba = system
CONF' || fail "configuring inside"
out=$(cx timeout 60 systemctl enable --now "$SVC" 2>&1) || fail "enable --now: $out"
[ "$(views)" = 1 ] || fail "after enable --now: $(views) views mounted"
P1=$(prop MainPID)
# samba = system: the daemon exports the share into smb.conf as it starts
exported() { cx grep -q '^include = /etc/samba/pxeimagesfs.conf$' /etc/samba/smb.conf; }
wait_for 20 exported || fail "the daemon exported no include line into smb.conf in 20 s"
cx test -f /etc/samba/pxeimagesfs.conf || fail "export wrote no /etc/samba/pxeimagesfs.conf"
ok "configured: enabled, running (pid $P1), view mounted, share exported into smb.conf"

# ---- upgrade: the running view restarts on the new binary --------------------------------------------
out=$(cx env DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold /root/pkg_v2.deb 2>&1) ||
	fail "dpkg -i $V2 (upgrade):"$'\n'"$out"
P2=$(prop MainPID)
[ "$P2" != 0 ] && [ "$P2" != "$P1" ] || fail "after the upgrade: MainPID $P2 (was $P1): not restarted"
[ "$(prop ActiveState)" = active ] || fail "after the upgrade: $(prop ActiveState)"
[ "$(cx systemctl is-enabled "$SVC")" = enabled ] || fail "after the upgrade: not enabled any more"
wait_for 10 test "$(views)" = 1 || fail "after the upgrade: $(views) views mounted"
[ -z "$(deleted_exe)" ] || fail "after the upgrade: processes run a deleted binary: $(deleted_exe)"
[ "$(cx cat /srv/pxeimages/RemoteInstall/SMSImages/SMSPKG/PKG00001/boot.PKG00001.wim)" = image ] ||
	fail "after the upgrade: the view does not serve the image"
cx grep -q '^\[drive:C\]' /etc/pxeimagesfs/pxeimagesfs.conf || fail "the upgrade lost the edited configuration"
[ "$(cx readlink $EVLINK)" = $EV ] || fail "after the upgrade: the CTDB event script is not enabled any more"
ok "upgrade to $V2: restarted (pid $P1 -> $P2) on the new binary, still enabled, serving"

# ---- remove: stopped and unmounted; the configuration stays --------------------------------------------
out=$(cx env DEBIAN_FRONTEND=noninteractive dpkg -r pxeimagesfs 2>&1) || fail "dpkg -r:"$'\n'"$out"
[ -z "$(running)" ] || fail "after remove: pxeimagesfs still runs: $(running) $(deleted_exe)"
[ "$(views)" = 0 ] || fail "after remove: the view is still mounted"
cx test -f /etc/pxeimagesfs/pxeimagesfs.conf || fail "after remove: the configuration (a conffile) went"
cx test -L $EVLINK && fail "after remove: the CTDB event script's enable link is left: $(cx readlink $EVLINK)"
ok "remove: no pxeimagesfs process, no view mounted, configuration kept, no CTDB event script link"

# ---- purge: nothing of ours is left, the administrator's lines are --------------------------------------
out=$(cx env DEBIAN_FRONTEND=noninteractive dpkg -P pxeimagesfs 2>&1) || fail "dpkg -P:"$'\n'"$out"
left=$(cx sh -c 'ls -d /etc/systemd/system/*.wants/pxeimagesfs* /etc/samba/pxeimagesfs.conf \
	/etc/pxeimagesfs /var/lib/pxeimagesfs 2>/dev/null')
[ -z "$left" ] || fail "after purge, left: $left"
cx grep -n pxeimagesfs /etc/samba/smb.conf && fail "after purge: smb.conf still names pxeimagesfs"
cx cat /etc/samba/smb.conf >"$T/smb.conf.after"
diff -u "$T/smb.conf.orig" "$T/smb.conf.after" >&2 || fail "after purge: smb.conf is not the administrator's file as it was"
cx sh -c 'ls /etc/samba/smb.conf.pxeimagesfs-purge.*.bak' >/dev/null 2>&1 || fail "after purge: no backup of smb.conf"
out=$(cx testparm -s /etc/samba/smb.conf 2>&1) || fail "after purge: testparm: $out"
ok "purge: no enable link, include, include file, configuration or state left; smb.conf as the administrator had it (backup kept)"
echo "package_lifecycle: all checks passed"
