#!/bin/bash
# libfuse.sh CACHE_DIR -- fetch libfuse 3.18 or newer as Debian's own source
# package of the testing release and build it as a static library into
# CACHE_DIR/install (include/fuse3, lib/libfuse3.a), with FUSE over io_uring
# (liburing, libnuma). Run by CMake at configure time when the system's libfuse
# is older than 3.17 (kernel passthrough); 3.18 is the first with io_uring.
#
# The machine's apt sources are left untouched: a private apt configuration
# in CACHE_DIR/apt lists only the deb-src line of the next release, signed by
# the machine's Debian archive keyring; apt checks the Sources index against
# the signed Release file and dpkg-source checks the tarballs against the .dsc.
# Nothing is fetched again once CACHE_DIR/install/.stamp names the version.
#
# Environment: PXE_LIBFUSE_SUITE (default: forky, then sid when forky's fuse3 is
# older than 3.18), PXE_DEBIAN_MIRROR (default: the Debian archive the
# machine's apt sources already use).
# Needs: apt-get, dpkg-source (dpkg-dev), meson, ninja (ninja-build), cc,
# liburing-dev, libnuma-dev.
set -euo pipefail

cache=${1:?usage: libfuse.sh CACHE_DIR}
suites=${PXE_LIBFUSE_SUITE:-forky sid}
min=3.18
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
install=$cache/install

die() {
	echo "libfuse.sh: $*" >&2
	exit 1
}

# at least MIN: VERSION
at_least() { [ "$(printf '%s\n%s\n' "$min" "$1" | sort -V | head -1)" = "$min" ]; }

# a cache of an older build (3.17, before io_uring) is built again
if [ -f "$install/.stamp" ] && [ -f "$install/.debian-version" ] && [ -f "$install/lib/libfuse3.a" ] &&
	at_least "$(cat "$install/.stamp")"; then
	cat "$install/.stamp"
	exit 0
fi

for tool in apt-get:apt dpkg-source:dpkg-dev meson:meson ninja:ninja-build cc:gcc; do
	command -v "${tool%%:*}" >/dev/null ||
		die "${tool%%:*} is missing: apt-get install ${tool#*:} (or configure with -DPXE_LIBFUSE=system to build against the system's libfuse, without kernel passthrough)"
done

mirror=${PXE_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(LABEL) $(REPO_URI)' 2>/dev/null |
	awk '$1 == "Debian" { print $2; exit }')}
# no package lists downloaded yet: read the sources files themselves
[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null |
	sed -nE 's/^deb(\s+\[[^]]*\])?\s+(\S+)\s.*/\2/p; s/^URIs:\s*(\S+).*/\1/p' |
	grep -m1 -E '/debian/?$')
[ -n "$mirror" ] || die "no Debian archive in the machine's apt sources; set PXE_DEBIAN_MIRROR to one"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring is missing: apt-get install debian-archive-keyring"

apt=$cache/apt
aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/none"
	-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")

# fetch SUITE -- download and unpack the fuse3 source package of Debian SUITE
# into $cache/src; sets dsc and version.
fetch() {
	local suite=$1
	rm -rf "$apt" "$cache/src"
	mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$cache/src"
	echo "deb-src [signed-by=$keyring] $mirror $suite main" >"$apt/sources.list"
	echo "libfuse.sh: fetching the fuse3 source package of Debian $suite from $mirror" >&2
	apt-get "${aptopts[@]}" -qq update >"$apt/update.log" 2>&1 ||
		die "cannot read the $suite source index from $mirror: $(tail -3 "$apt/update.log")"
	(cd "$cache/src" && apt-get "${aptopts[@]}" -qq --download-only source fuse3) >"$apt/source.log" 2>&1 ||
		die "cannot fetch the fuse3 source package: $(tail -3 "$apt/source.log")"
	dsc=$(ls "$cache"/src/fuse3_*.dsc)
	version=$(sed -nE 's/^Version: ([0-9.]+)-.*/\1/p' "$dsc")
	[ -n "$version" ] || die "cannot read the version from $dsc"
}

dsc= version=
for suite in $suites; do
	fetch "$suite"
	at_least "$version" && break
	echo "libfuse.sh: Debian $suite has libfuse $version; FUSE over io_uring needs $min or newer" >&2
	version=
done
[ -n "$version" ] ||
	die "no libfuse $min or newer in Debian $suites (set PXE_LIBFUSE_SUITE, or configure with -DPXE_LIBFUSE=system)"
(cd "$cache/src" && dpkg-source -x "$dsc" fuse3) >"$apt/extract.log" 2>&1 ||
	die "cannot unpack $dsc: $(tail -3 "$apt/extract.log")"
pkg-config --exists liburing || die "liburing is missing: apt-get install liburing-dev (FUSE over io_uring)"
[ -e /usr/include/numa.h ] || die "numa.h is missing: apt-get install libnuma-dev (FUSE over io_uring)"

# prefix /usr: the library looks for fusermount3 there (the system's, from the
# fuse3 package) when it mounts without root
echo "libfuse.sh: building libfuse $version (static)" >&2
rm -rf "$cache/build" "$install.tmp"
(cd "$cache/src/fuse3" &&
	meson setup "$cache/build" --prefix=/usr --libdir=lib -Ddefault_library=static \
		-Dbuildtype=release -Db_pie=true -Dexamples=false -Dutils=false -Dtests=false \
		-Denable-io-uring=true &&
	DESTDIR="$install.tmp" ninja -C "$cache/build" install) >"$cache/build.log" 2>&1 ||
	die "building libfuse $version failed; see $cache/build.log"
# meson leaves io_uring out without a word when liburing or libnuma is unusable
grep -qs '^#define HAVE_URING' "$cache"/build/*config*.h ||
	die "libfuse $version was built without FUSE over io_uring (liburing with SQE128, libnuma); see $cache/build.log"
rm -rf "$install"
mkdir -p "$install"
mv "$install.tmp/usr/include" "$install.tmp/usr/lib" "$install/"
rm -rf "$install.tmp" "$cache/build" "$apt"
# the source package's full version, for the .deb's Built-Using field
sed -nE 's/^Version: (.*)$/\1/p' "$dsc" >"$install/.debian-version"
rm -rf "$cache/src"
echo "$version" >"$install/.stamp"
echo "$version"
