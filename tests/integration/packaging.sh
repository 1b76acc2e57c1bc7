#!/bin/bash
# packaging.sh -- the packages as an administrator gets them: the man pages render without a
# warning and document every subcommand, option and config key; the shipped config is valid;
# a fresh release build gives a lintian-clean .deb (binary, units, man pages, conffile,
# maintainer scripts, hardening flags, Built-Using) whose units pass `systemd-analyze verify` and whose binary runs; it
# installs, upgrades, is removed and purged under a real systemd in a fresh root
# (package_lifecycle.sh; the host's dpkg database is never touched);
# the .rpm lists the same files. The packages are built in a fresh build directory (release,
# no tests), so that BUILD_DIR (perhaps a sanitizer build) is neither packaged nor changed.
# Exit 77 = skipped (a failure under CI=true). Debian packages it needs: cmake, lintian,
# dpkg-dev, file, rpm, systemd, groff-base, man-db.
set -u
BUILD=${1:?usage: packaging.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: packaging.sh BUILD_DIR SOURCE_DIR}
BIN=$BUILD/cli/pxeimagesfs
MAN8=$SRC/packaging/man/pxeimagesfs.8
MAN5=$SRC/packaging/man/pxeimagesfs.conf.5
CONF=$SRC/packaging/pxeimagesfs.conf

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok
[ -x "$BIN" ] || fail "no binary at $BIN"
for tool in cmake:cmake cpack:cmake lintian:lintian dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev \
	file:file rpmbuild:rpm rpm:rpm systemd-analyze:systemd groff:groff-base man:man-db; do
	command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} missing (Debian package ${tool#*:})"
done
KILL=$(type -P kill) || need "kill missing (Debian package procps)"

T=$(mktemp -d /tmp/pxeimagesfs-pkg.XXXXXX)
cleanup() {
	rm -rf "$T"
}
trap cleanup EXIT
export LC_ALL=C.UTF-8 MANWIDTH=80

# ---- the sources: man pages, default config ------------------------------------------------

# render PAGE -- groff and man must both be silent about it.
render() {
	local page=$1 out
	out=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff on $page: $out"
	[ -z "$out" ] || fail "groff warnings on $page:"$'\n'"$out"
	out=$(man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$out" ] || fail "man warnings on $page:"$'\n'"$out"
	man -l "$page" 2>/dev/null | grep -q "^NAME" || fail "man -l $page renders no NAME section"
}
render "$MAN8"
render "$MAN5"

# The README's package build step installs what cpack needs: deps.sh's PXE_PACKAGE_DEPS holds
# the Debian packages that give dpkg-shlibdeps, dpkg-buildflags, file and rpmbuild here.
grep -q 'pxe_install .*PXE_PACKAGE_DEPS' "$SRC/README.md" ||
	fail "the README's package build step does not install \${PXE_PACKAGE_DEPS[@]} (what cpack -G DEB/RPM needs)"
for tool in dpkg-shlibdeps dpkg-buildflags file rpmbuild; do
	pkg=$(dpkg -S "$(command -v "$tool")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || fail "dpkg -S: no package gives $(command -v "$tool")"
	(. "$SRC/packaging/deps.sh" && [[ " ${PXE_PACKAGE_DEPS[*]} " == *" $pkg "* ]]) ||
		fail "packaging/deps.sh: PXE_PACKAGE_DEPS lacks $pkg (it gives $tool, which cpack needs)"
done
ok "the README's package build step installs dpkg-dev, file and rpm (PXE_PACKAGE_DEPS)"

# Every subcommand of --help, and every long option of each subcommand's --help, is in pxeimagesfs(8).
cmds=$("$BIN" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p')
[ "$(echo "$cmds" | wc -w)" -ge 8 ] || fail "--help lists too few commands: $cmds"
for c in $cmds; do
	grep -q "^\\\\fB$c\\b" "$MAN8" || fail "pxeimagesfs.8 has no entry for the command '$c'"
	args=$c; [ "$c" = config ] && args="config check"
	# shellcheck disable=SC2086
	help=$("$BIN" $args --help 2>&1); rc=$?
	[ $rc = 0 ] || fail "pxeimagesfs $args --help exited $rc: $help"
	for opt in $(echo "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		[ "$opt" = --help ] && continue
		grep -qF -- "${opt//-/\\-}" "$MAN8" || fail "pxeimagesfs.8 lacks '$args $opt'"
	done
done

# ... and the other way round: every option of a command's synopsis in pxeimagesfs(8) is in the
# usage lines of its --help (they must not drift apart)
for c in $cmds; do
	args=$c; [ "$c" = config ] && args="config check"
	# shellcheck disable=SC2086
	usage=$("$BIN" $args --help 2>&1 | sed '/^$/q')
	synopsis=$(awk -v sy=".SY \"pxeimagesfs $args\"" '$0 == sy { on = 1; next } on && /^\.YS/ { exit } on' "$MAN8")
	[ -n "$synopsis" ] || fail "pxeimagesfs.8 has no synopsis (.SY \"pxeimagesfs $args\")"
	for opt in $(echo "$synopsis" | grep -o -- '\\-\\-[a-z]\+\(\\-[a-z]\+\)*' | sed 's/\\-/-/g' | sort -u); do
		grep -qF -- "$opt" <<<"$usage" || fail "pxeimagesfs $args --help: the usage lines lack '$opt' (in the man page's synopsis)"
	done
done

# Every key of the config tables is documented in pxeimagesfs.conf(5) and shown in the default config.
keys=$(cat "$SRC"/config/*.c | sed -n 's/.*{\.name = "\([^"]*\)".*/\1/p' | sort -u)
[ "$(echo "$keys" | wc -l)" -ge 20 ] || fail "found too few config keys ({.name = ...}) in config/*.c"
man5_heads=$(awk '/^\.TP/ { getline; print }' "$MAN5")
while read -r key; do
	echo "$man5_heads" | grep -qE "(^\.BR? |\")${key//./\\.}( |\"|$)" ||
		fail "pxeimagesfs.conf.5 has no entry for the key '$key'"
	grep -qiE "^[;#]? *${key//./\\.} = " "$CONF" || fail "the default config does not show '$key'"
done <<<"$keys"

# The default config is valid as shipped, and still valid with every example uncommented.
out=$("$BIN" config check -c "$CONF" 2>&1) || fail "config check of the default config: $out"
echo "$out" | grep -q "no drive configured: add a \[drive:NAME\] section" ||
	fail "config check of the default config does not say what to add: $out"
sed 's/^;\( *[a-z]\)/\1/; s/^;\[/[/' "$CONF" >"$T/uncommented.conf"
out=$("$BIN" config check -c "$T/uncommented.conf" 2>&1) ||
	fail "config check of the default config with its examples uncommented: $out"
# Safe by default: no drive and no discovery as shipped (a USB disk with an old tree must not join
# the share); commented examples of a drive by path, by uuid and by label, and of discover = yes.
grep -q '^\[drive:' "$CONF" && fail "the default config must configure no drive (examples only)"
grep -Eiq '^ *discover *= *(yes|true|on|1)' "$CONF" && fail "the default config must not turn discovery on"
for ex in '^;\[drive:' '^; +path = /' '^; +uuid = [0-9a-f-]+$' '^; +label = ' '^; +discover = yes$'; do
	grep -Eq "$ex" "$CONF" || fail "the default config lacks a commented example matching '$ex'"
done
grep -Eq '^ *samba = system$' "$CONF" || fail "the default config must say samba = system"

# ---- a fresh release build, packaged ----------------------------------------------------------

# the libfuse the test build used (PXE_LIBFUSE, PXE_LIBFUSE_CACHE from ctest): not fetched again
cmake -S "$SRC" -B "$T/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPXE_TESTS=OFF \
	-DPXE_LIBFUSE="${PXE_LIBFUSE:-auto}" ${PXE_LIBFUSE_CACHE:+-DPXE_LIBFUSE_CACHE="$PXE_LIBFUSE_CACHE"} \
	>"$T/configure.log" 2>&1 || { cat "$T/configure.log" >&2; fail "cmake configure"; }
cmake --build "$T/build" -j"$(nproc)" >"$T/build.log" 2>&1 || { cat "$T/build.log" >&2; fail "build"; }
(cd "$T/build" && cpack -G DEB) >"$T/cpack-deb.log" 2>&1 ||
	{ cat "$T/cpack-deb.log" >&2; fail "cpack -G DEB"; }
debs=("$T"/build/packages/pxeimagesfs_*.deb)
DEB=${debs[0]}
[ -f "$DEB" ] || fail "cpack made no .deb"
echo "built $(basename "$DEB")"

field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = pxeimagesfs ] || fail "Package: $(field Package)"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
field Depends | grep -Eq '(^|, )fuse3(,|$)' || fail "Depends lacks fuse3: $(field Depends)"
field Depends | grep -q 'libsmbclient' || fail "Depends lacks the shared libraries (shlibdeps): $(field Depends)"
field Recommends | grep -q 'samba' || fail "Recommends lacks samba: $(field Recommends)"
field Recommends | grep -q 'smbclient' || fail "Recommends lacks smbclient: $(field Recommends)"

files=$(dpkg-deb -c "$DEB" | awk '{print $NF}')
for f in ./usr/bin/pxeimagesfs ./usr/lib/systemd/system/pxeimagesfs.service \
	./usr/lib/systemd/system/pxeimagesfs@.service ./usr/share/man/man8/pxeimagesfs.8.gz \
	./usr/share/man/man5/pxeimagesfs.conf.5.gz ./etc/pxeimagesfs/pxeimagesfs.conf \
	./usr/share/doc/pxeimagesfs/copyright ./usr/share/doc/pxeimagesfs/changelog.Debian.gz \
	./usr/share/ctdb/events/legacy/47.pxeimagesfs.script; do
	echo "$files" | grep -qxF "$f" || fail "the .deb lacks $f"
done
# the CTDB event script: executable where ctdb's tool enables it from, nothing in /etc/ctdb
dpkg-deb -c "$DEB" | grep -q '^-rwxr-xr-x .* \./usr/share/ctdb/events/legacy/47\.pxeimagesfs\.script$' ||
	fail "the CTDB event script is not 0755 in the .deb"
echo "$files" | grep -q '^\./etc/ctdb' && fail "the .deb ships files in /etc/ctdb (the event script must come disabled)"
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/pxeimagesfs/pxeimagesfs.conf ||
	fail "/etc/pxeimagesfs/pxeimagesfs.conf is not in DEBIAN/conffiles"
ctrl=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -t)
for script in postinst prerm postrm; do
	echo "$ctrl" | grep -Eq "(^|/)$script\$" || fail "the .deb has no $script (stop on remove, restart on upgrade, clean up on purge)"
	dpkg-deb --ctrl-tarfile "$DEB" | tar -xO "./$script" | sh -n || fail "$script: shell syntax"
done
# Built-Using names the statically linked libfuse (Debian's fuse3 source package)
if ! readelf -d "$T/build/cli/pxeimagesfs" | grep -q 'NEEDED.*libfuse3'; then
	field Built-Using | grep -Eq '^fuse3 \(= [0-9][^)]*\)$' ||
		fail "static libfuse but no Built-Using: fuse3 (= version): '$(field Built-Using)'"
fi
# Debian's hardening flags: PIE, full relro (-z now), stack protector, _FORTIFY_SOURCE
B=$T/build/cli/pxeimagesfs
readelf -h "$B" | grep -q 'Type: *DYN' || fail "the binary is not PIE: $(readelf -h "$B" | grep Type)"
readelf -d "$B" | grep -q 'BIND_NOW\|FLAGS.*NOW' || fail "the binary is not linked with -z now"
readelf -l "$B" | grep -q GNU_RELRO || fail "the binary has no relro segment"
nm -D "$B" | grep -q '__stack_chk_fail' || fail "the binary has no stack protector"
nm -D "$B" | grep -q '__[a-z_]*_chk@' || fail "the binary uses no _FORTIFY_SOURCE checked functions"

lint=$(lintian --fail-on error "$DEB" 2>&1); rc=$?
lint=$(echo "$lint" | grep -v 'running with root privileges')
echo "lintian: $(echo "$lint" | grep -c '^E:') errors, $(echo "$lint" | grep -c '^W:') warnings"
if [ -n "$lint" ]; then
	while IFS= read -r line; do echo "lintian: $line"; done <<<"$lint"
fi
[ $rc = 0 ] || fail "lintian exit $rc (errors above)"

# ---- the extracted tree: the binary runs, its config is valid, the units verify --------------

R=$T/root
dpkg-deb -x "$DEB" "$R" || fail "dpkg-deb -x"
out=$("$R/usr/bin/pxeimagesfs" --version) || fail "extracted binary --version exit $?"
echo "$out" | grep -q "^pxeimagesfs [0-9]" || fail "extracted binary --version: $out"
# libfuse: linked statically (the bundled 3.17+, no libfuse3-3 dependency) or the system's
# shared one (then shlibdeps must name it)
if readelf -d "$R/usr/bin/pxeimagesfs" | grep -q 'NEEDED.*libfuse3'; then
	field Depends | grep -q 'libfuse3-3' || fail "linked to libfuse3.so but Depends lacks libfuse3-3"
else
	field Depends | grep -q 'libfuse3' && fail "static libfuse, yet Depends names libfuse3: $(field Depends)"
	echo "$out" | grep -Eq 'libfuse 3\.(1[7-9]|[2-9][0-9])' ||
		fail "static libfuse older than 3.17: $out"
	grep -q 'libfuse' "$R/usr/share/doc/pxeimagesfs/copyright" ||
		fail "the copyright file does not name the bundled libfuse"
	# the bundled libfuse 3.18 has FUSE over io_uring: liburing and libnuma, shared
	for lib in liburing:liburing2 libnuma:libnuma1; do
		readelf -d "$R/usr/bin/pxeimagesfs" | grep -q "NEEDED.*${lib%%:*}\." || continue
		field Depends | grep -q "${lib#*:}" || fail "linked to ${lib%%:*} but Depends lacks ${lib#*:}: $(field Depends)"
	done
fi
out=$("$R/usr/bin/pxeimagesfs" config check -c "$R/etc/pxeimagesfs/pxeimagesfs.conf" 2>&1) ||
	fail "config check of the packaged config: $out"
for page in "$R/usr/share/man/man8/pxeimagesfs.8.gz" "$R/usr/share/man/man5/pxeimagesfs.conf.5.gz"; do
	[ "$(gzip -dc "$page" | md5sum)" = "$(md5sum <"$SRC/packaging/man/$(basename "$page" .gz)")" ] ||
		fail "$page differs from its source"
	out=$(man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$out" ] || fail "man warnings on the packaged $page: $out"
done

# systemd-analyze verify against the extracted tree: the system's own units (targets) and kill
# are copied in beside the package's files, so ExecStart= is checked against the packaged binary.
mkdir -p "$R/usr/lib/systemd/system" "$R/bin" "$R/usr/bin"
cp -an /usr/lib/systemd/system/. "$R/usr/lib/systemd/system/" 2>/dev/null
[ -e /lib/systemd/system ] && ! [ /lib/systemd/system -ef /usr/lib/systemd/system ] &&
	cp -an /lib/systemd/system/. "$R/usr/lib/systemd/system/" 2>/dev/null
cp "$KILL" "$R/bin/kill" && cp "$KILL" "$R/usr/bin/kill"
for unit in pxeimagesfs.service pxeimagesfs@.service pxeimagesfs@lab.service; do
	out=$(systemd-analyze verify --man=no --root="$R" "/usr/lib/systemd/system/$unit" 2>&1); rc=$?
	if [ $rc != 0 ] || [ -n "$out" ]; then
		fail "systemd-analyze verify $unit (exit $rc):"$'\n'"$out"
	fi
done
# ... and it does catch a unit whose ExecStart= is missing (the check is not a no-op)
mv "$R/usr/bin/pxeimagesfs" "$R/usr/bin/pxeimagesfs.away"
systemd-analyze verify --man=no --root="$R" /usr/lib/systemd/system/pxeimagesfs.service >/dev/null 2>&1 &&
	fail "systemd-analyze verify passes without the binary"
mv "$R/usr/bin/pxeimagesfs.away" "$R/usr/bin/pxeimagesfs"
grep -q '^ExecStart=/usr/bin/pxeimagesfs mount -f$' "$R/usr/lib/systemd/system/pxeimagesfs.service" ||
	fail "pxeimagesfs.service: ExecStart"
grep -q '^ExecStart=/usr/bin/pxeimagesfs mount -f -c /etc/pxeimagesfs/%i.conf$' \
	"$R/usr/lib/systemd/system/pxeimagesfs@.service" || fail "pxeimagesfs@.service: ExecStart"

# ---- the .rpm -----------------------------------------------------------------------------------

(cd "$T/build" && cpack -G RPM) >"$T/cpack-rpm.log" 2>&1 ||
	{ cat "$T/cpack-rpm.log" >&2; fail "cpack -G RPM"; }
rpms=("$T"/build/packages/pxeimagesfs-*.rpm)
RPM=${rpms[0]}
[ -f "$RPM" ] || fail "cpack made no .rpm"
echo "built $(basename "$RPM")"
list=$(rpm -qpl "$RPM" 2>/dev/null) || fail "rpm -qpl"
for f in /usr/bin/pxeimagesfs /usr/lib/systemd/system/pxeimagesfs.service \
	/usr/lib/systemd/system/pxeimagesfs@.service /usr/share/man/man8/pxeimagesfs.8.gz \
	/usr/share/man/man5/pxeimagesfs.conf.5.gz /etc/pxeimagesfs/pxeimagesfs.conf \
	/usr/share/ctdb/events/legacy/47.pxeimagesfs.script; do
	echo "$list" | grep -qxF "$f" || fail "the .rpm lacks $f"
done
echo "$list" | grep -Eq 'changelog\.Debian|lintian' && fail "the .rpm carries Debian-only files"
echo "$list" | grep -Eqx '/usr|/usr/bin|/etc|/usr/lib/systemd/system|/usr/share/man(/man[58])?|/usr/share/ctdb(/events(/legacy)?)?' &&
	fail "the .rpm owns a system directory"
rpm -qpc "$RPM" 2>/dev/null | grep -qx /etc/pxeimagesfs/pxeimagesfs.conf || fail "rpm: config not %config"
rpm -qpR "$RPM" 2>/dev/null | grep -qx fuse3 || fail "rpm: Requires lacks fuse3"
for lib in liburing libnuma; do
	readelf -d "$R/usr/bin/pxeimagesfs" | grep -q "NEEDED.*$lib\." || continue
	rpm -qpR "$RPM" 2>/dev/null | grep -q "^$lib\.so" || fail "rpm: linked to $lib but Requires lacks it: $(rpm -qpR "$RPM" 2>/dev/null | tr '\n' ' ')"
done
rpm -qp --recommends "$RPM" 2>/dev/null | grep -qx samba || fail "rpm: Recommends lacks samba"
scripts=$(rpm -qp --scripts "$RPM" 2>/dev/null)
echo "$scripts" | grep -q '^preuninstall scriptlet' || fail "rpm: no %preun (stop on erase)"
echo "$scripts" | grep -q '^postuninstall scriptlet' || fail "rpm: no %postun (restart on upgrade)"

# ---- the package's life under systemd in a fresh root -----------------------------------------
bash "$(dirname "${BASH_SOURCE[0]}")/package_lifecycle.sh" "$DEB" || exit $?

echo "packaging: all checks passed"
