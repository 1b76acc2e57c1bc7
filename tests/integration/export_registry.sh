#!/bin/bash
# export_registry.sh -- `pxeimagesfs export` (samba = system) with the share in Samba's registry
# (`net conf`), as CTDB clusters keep it: once with `include = registry` in smb.conf, once with
# `config backend = registry` (smbd then reads nothing of smb.conf but that line). Each against a
# private smb.conf, registry and smbd (127.0.0.1, a high port): --dry-run changes nothing; the
# export creates the share (net conf showshare has it, smbclient reads a file through the
# private smbd), a second export changes nothing, a changed parameter is updated and a dropped
# one removed; an administrator's registry share and globals survive everything; a failing
# `net conf import` is quoted and changes nothing; a share of our name with another path is
# refused, --repair saves it and replaces it; --remove deletes only ours. The share name starts
# with '-' and holds '#', spaces and '$', the path ';', '#', spaces and quotes. `samba config`
# contradicting smb.conf is refused. The script runs in a mount namespace of its own with empty
# folders over Samba's built-in ones (/var/lib/samba, /run/samba, ...): `config backend =
# registry` keeps the registry there. Needs root and Samba's tools; exit 77 = skipped (a failure
# under CI=true).
set -u
BIN=${1:?usage: export_registry.sh PXEIMAGESFS_BINARY}
PORT=${PXE_TEST_SMB_PORT:-44467}
export LC_ALL=C
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok, smb_private_conf, smbd_start

if [ "${2:-}" != --in-namespace ]; then
	[ "$(id -u)" = 0 ] || need "needs root (smbd, a mount namespace)"
	need_tools testparm:samba-common-bin net:samba-common-bin smbcontrol:samba-common-bin \
		smbd:samba smbclient:smbclient unshare:util-linux timeout:coreutils sha256sum:coreutils
	unshare -m --propagation private true 2>/dev/null || need "unshare -m does not work here"
	exec unshare -m --propagation private "$0" "$BIN" --in-namespace
fi

T=$(mktemp -d /tmp/pxeimagesfs-export-registry.XXXXXX) || fail "mktemp"
SMBD_PID=
cleanup() {
	if [ -n "$SMBD_PID" ]; then kill "$SMBD_PID" 2>/dev/null; wait "$SMBD_PID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Samba's built-in folders, empty and ours, in this mount namespace only
i=0
for d in /var/lib/samba /run/samba /var/cache/samba /var/log/samba; do
	i=$((i + 1))
	mkdir -p "$T/sys$i" || fail "mkdir"
	[ -d "$d" ] || continue
	mount --bind "$T/sys$i" "$d" || fail "cannot bind $T/sys$i over $d"
done
mkdir -m 0700 "$T/sys1/private" || fail "mkdir" # /var/lib/samba/private: secrets.tdb, passdb

# run ARGS...: the export, with its stdout in $out, stderr in $err and status in $rc
run() {
	timeout 120 "$BIN" export -c "$S/pxe.conf" "$@" >"$T/.out" 2>"$T/.err"; rc=$?
	out=$(cat "$T/.out"); err=$(cat "$T/.err"); rm -f "$T/.out" "$T/.err"
	echo "--- export $* -> exit $rc"; echo "$out"; [ -z "$err" ] || echo "$err" >&2
}
want_rc() { [ "$rc" = "$1" ] || fail "$MODE: $2: exit $rc, want $1"; }
netc() { net --configfile="$S/smb.conf" conf "$@"; }
reg_sum() { netc list 2>&1 | sha256sum; }
has() { echo "$out" | grep -q -F -- "$1" || fail "$MODE: $2: no '$1' in the report"; }

# pxe_conf [SHARE LINES...]: the config of the test's share
pxe_conf() {
	cat >"$S/pxe.conf" <<CONF || fail "writing $S/pxe.conf"
[global]
    mountpoint = $MP
[share]
    name = $NAME
    samba = system
    smb.conf = $S/smb.conf
    include file = $S/pxeimagesfs.conf
    guest ok = yes
$*
CONF
}

# setup MODE: smb.conf, registry globals, the administrator's share, the files, smbd
setup() {
	S=$T/$MODE
	MP="$S/view w;#'\"x"
	VIEW_PATH="$MP/RemoteInstall/SMSImages/SMSPKG"
	mkdir -p "$VIEW_PATH" "$S/admin" || fail "mkdir"
	head -c 300000 /dev/urandom >"$VIEW_PATH/boot.wim" || fail "writing boot.wim"
	chmod -R a+rX "$T" || fail chmod
	local globals="	workgroup = WORKGROUP
	smb ports = $PORT
	interfaces = 127.0.0.1
	bind interfaces only = yes
	disable netbios = yes
	map to guest = bad user"
	if [ "$MODE" = include ]; then
		smb_private_conf "$S/smb.conf" "$S" "$globals
	include = registry"
	else
		smb_private_conf "$S/smb.conf" "$S" "	config backend = registry"
		# smbd reads only the registry's globals: the same settings there (the folders
		# cannot be set in the registry: they are Samba's built-in ones, ours in this namespace)
		while IFS='=' read -r k v; do
			k=$(echo $k) v=$(echo $v)
			[ -z "$k" ] || netc setparm global "$k" "$v" || fail "net conf setparm global $k"
		done <<<"$globals
	server role = standalone server
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes"
	fi
	netc addshare admin "$S/admin" writeable=n guest_ok=y "the administrator's" ||
		fail "net conf addshare admin"
	netc setparm admin "browseable" "no" || fail "net conf setparm admin"
	ADMIN=$(netc showshare admin) GLOBAL=$(netc showshare global 2>&1)
	SMB_SUM=$(sha256sum "$S/smb.conf")
	pxe_conf
	smbd_start "$S/smb.conf" "$PORT" "$S/smbd.out"
}

admin_intact() {
	[ "$(netc showshare admin)" = "$ADMIN" ] || fail "$MODE: $1: the administrator's share changed: $(netc showshare admin)"
	[ "$(netc showshare global 2>&1)" = "$GLOBAL" ] || fail "$MODE: $1: the registry's globals changed"
	[ "$(sha256sum "$S/smb.conf")" = "$SMB_SUM" ] || fail "$MODE: $1: smb.conf changed"
	[ -e "$S/pxeimagesfs.conf" ] && fail "$MODE: $1: an include file was written"
	return 0
}

read_through_smbd() {
	rm -f "$S/got"
	timeout 30 smbclient -N -p "$PORT" "//127.0.0.1/$NAME" -c "get boot.wim $S/got" >"$S/smbclient.out" 2>&1 ||
		fail "$MODE: smbclient cannot read boot.wim from //127.0.0.1/$NAME: $(cat "$S/smbclient.out")"
	cmp -s "$S/got" "$VIEW_PATH/boot.wim" || fail "$MODE: boot.wim read through smbd differs"
}

scenario() {
	MODE=$1 NAME=$2
	setup

	# --dry-run changes nothing
	before=$(reg_sum)
	run --dry-run
	want_rc 0 "--dry-run"
	[ "$(reg_sum)" = "$before" ] || fail "$MODE: --dry-run changed the registry"
	has "registry: would create share $NAME with path $VIEW_PATH" "--dry-run"
	ok "$MODE: --dry-run says what it would create, changes nothing"

	# the export: the share in the registry, checked, served
	run
	want_rc 0 "export"
	has "registry: created share $NAME with path $VIEW_PATH (net conf import)" "export"
	has "testparm: the new configuration is valid; share $NAME has path $VIEW_PATH" "export"
	has "reloaded smbd" "export"
	[ "$(netc showshare "--" "$NAME" | sed -n 's/^\tpath = //p')" = "$VIEW_PATH" ] ||
		fail "$MODE: net conf showshare: $(netc showshare -- "$NAME" 2>&1)"
	netc showshare -- "$NAME" | grep -q "^	kernel oplocks = no$" || fail "$MODE: kernel oplocks not in the registry share"
	read_through_smbd
	admin_intact "export"
	ok "$MODE: export creates registry share '$NAME' (path with ; # quotes), smbclient reads boot.wim through smbd"

	# idempotent
	before=$(reg_sum)
	run
	want_rc 0 "second export"
	[ "$(reg_sum)" = "$before" ] || fail "$MODE: a second export changed the registry"
	has "registry: share $NAME is up to date (path $VIEW_PATH)" "second export"

	# a changed and a new parameter are set; a dropped one is removed
	pxe_conf "    read only = yes
    samba:browseable = no"
	run
	want_rc 0 "export with a new parameter"
	has "registry: share $NAME: set read only = yes" "new parameter"
	has "registry: share $NAME: set browseable = no" "new parameter"
	netc showshare -- "$NAME" | grep -q "^	browseable = no$" || fail "$MODE: browseable not set"
	pxe_conf
	run
	want_rc 0 "export without the parameter"
	has "registry: share $NAME: removed browseable (not in the generated share)" "dropped parameter"
	netc showshare -- "$NAME" | grep -q "browseable" && fail "$MODE: browseable still set"
	admin_intact "updates"
	ok "$MODE: second export changes nothing; changed parameters are set, dropped ones removed"

	# net conf import fails: quoted, nothing changed
	mkdir -p "$S/fake" || fail mkdir
	cat >"$S/fake/net" <<FAKE
#!/bin/sh
for a in "\$@"; do [ "\$a" = import ] && { echo "SBC_ERR_BADFILE: fake import failure" >&2; exit 255; }; done
exec $(command -v net) "\$@"
FAKE
	chmod +x "$S/fake/net"
	pxe_conf "    samba:browseable = no"
	before=$(reg_sum)
	PATH="$S/fake:$PATH" run
	want_rc 2 "export with net conf import failing"
	echo "$err" | grep -q -F "error: 'net conf import FILE $NAME' failed: SBC_ERR_BADFILE: fake import failure; the registry is unchanged" ||
		fail "$MODE: net's failure not quoted"
	[ "$(reg_sum)" = "$before" ] || fail "$MODE: a failed import changed the registry"
	pxe_conf
	ok "$MODE: a failing 'net conf import' is quoted, the registry unchanged"

	# a share of our name with another path is not ours: refused; --repair saves and replaces it
	netc delshare -- "$NAME" || fail "delshare"
	netc addshare -- "$NAME" /srv/old-drive writeable=n guest_ok=n || fail "addshare foreign"
	foreign=$(netc showshare -- "$NAME")
	before=$(reg_sum)
	run
	want_rc 2 "export over a foreign share"
	echo "$err" | grep -q -F "registry: share $NAME already exists with path /srv/old-drive" || fail "$MODE: foreign share: message"
	[ "$(reg_sum)" = "$before" ] || fail "$MODE: a refused export changed the registry"
	run --repair
	want_rc 0 "export --repair over a foreign share"
	bak=$(ls "$S"/smb.conf.pxeimagesfs-bak.*.registry 2>/dev/null)
	[ -n "$bak" ] && [ "$(cat "$bak")" = "$foreign" ] || fail "$MODE: --repair kept no backup of the foreign share"
	has "registry: saved share $NAME (path /srv/old-drive) to $bak" "--repair"
	[ "$(netc showshare -- "$NAME" | sed -n 's/^\tpath = //p')" = "$VIEW_PATH" ] || fail "$MODE: --repair did not replace the share"
	rm -f "$bak"
	ok "$MODE: a registry share of our name with another path is refused; --repair saves and replaces it"

	if [ "$MODE" = include ]; then
		# a file section of our name after 'include = registry': reported as file:line; the
		# registry share still wins (testparm and smbd)
		cp "$S/smb.conf" "$S/smb.conf.good"
		printf '\n[%s]\n\tpath = /srv/file-def\n' "$NAME" >>"$S/smb.conf"
		run
		has "$S/smb.conf:$(($(grep -c '' "$S/smb.conf.good") + 2)): share $NAME also defined here with path /srv/file-def" "file section"
		has "testparm: the new configuration is valid; share $NAME has path $VIEW_PATH" "file section"
		read_through_smbd
		mv "$S/smb.conf.good" "$S/smb.conf" || fail "restoring smb.conf"
		ok "$MODE: a file section of our name is reported as file:line; the registry share wins (smbclient reads it)"
	fi
	# testparm on smb.conf sees another path (a fake testparm says so): exit 2, put back
	mkdir -p "$S/fake-tp" || fail mkdir
	cat >"$S/fake-tp/testparm" <<FAKE
#!/bin/sh
for a in "\$@"; do [ "\$a" = --parameter-name=path ] && { echo /srv/elsewhere; exit 0; }; done
exec $(command -v testparm) "\$@"
FAKE
	chmod +x "$S/fake-tp/testparm"
	pxe_conf "    samba:browseable = no"
	before=$(reg_sum)
	PATH="$S/fake-tp:$PATH" run
	want_rc 2 "export whose check sees another path"
	echo "$err" | grep -q -F "with our registry share, testparm sees share $NAME with path /srv/elsewhere, not $VIEW_PATH" ||
		fail "$MODE: the check's failure not said"
	echo "$err" | grep -q -F "the registry share was put back as it was" || fail "$MODE: not put back"
	[ "$(reg_sum)" = "$before" ] || fail "$MODE: a failed check left the registry changed"
	pxe_conf
	ok "$MODE: testparm on smb.conf sees another path: exit 2, the registry share put back as it was"

	# --remove deletes ours only; again: nothing to do
	run --remove
	want_rc 0 "--remove"
	has "registry: deleted share $NAME (net conf delshare)" "--remove"
	netc showshare -- "$NAME" >/dev/null 2>&1 && fail "$MODE: --remove left the share"
	admin_intact "--remove"
	netc listshares | grep -qx admin || fail "$MODE: --remove: admin share gone"
	run --remove
	want_rc 0 "second --remove"
	has "registry: no share $NAME to remove" "second --remove"
	# --remove leaves a share of our name that is not ours
	netc addshare -- "$NAME" /srv/old-drive || fail "addshare foreign"
	run --remove
	want_rc 1 "--remove of a foreign share"
	has "warning: registry: share $NAME has path /srv/old-drive, not the view's" "--remove foreign"
	netc showshare -- "$NAME" >/dev/null || fail "$MODE: --remove deleted a share that is not ours"
	netc delshare -- "$NAME"
	ok "$MODE: --remove deletes only our share (the administrator's share and globals unchanged)"

	kill "$SMBD_PID"; wait "$SMBD_PID" 2>/dev/null; SMBD_PID=
}

scenario include '-PXE #1 $'
# samba config contradicting smb.conf is refused
pxe_conf "    samba config = file"
printf '[global]\n\tconfig backend = registry\n' >"$T/backend-only.conf"
sed -i "s|smb.conf = .*|smb.conf = $T/backend-only.conf|" "$S/pxe.conf"
run
want_rc 2 "samba config = file with config backend = registry"
echo "$err" | grep -q "says 'config backend = registry': smbd ignores its other lines" || fail "file vs backend: message"
printf '[global]\n\tworkgroup = X\n' >"$T/plain.conf"
pxe_conf "    samba config = registry"
sed -i "s|smb.conf = .*|smb.conf = $T/plain.conf|" "$S/pxe.conf"
run
want_rc 2 "samba config = registry without registry in smb.conf"
echo "$err" | grep -q "samba config = registry in .* reads no registry shares: add 'include = registry'" || fail "registry vs file: message"
pxe_conf "    samba config = bogus"
timeout 30 "$BIN" config check -c "$S/pxe.conf" >"$T/check.out" 2>&1 && fail "config check accepts 'samba config = bogus'"
grep -q "samba config.*auto, file or registry" "$T/check.out" || fail "config check: $(cat "$T/check.out")"
ok "'samba config' that contradicts smb.conf is refused, nothing changed; a bad value is a config error"

scenario backend 'SMSPXEIMAGES$'
ok "all done"
