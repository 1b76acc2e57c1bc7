#!/bin/bash
# deps.sh -- the Debian packages pxeimagesfs needs, in one place.
# Sourced by packaging/demo.sh and tests/run.sh; installs only what is missing.

# Build: compiler, cmake, and every library found by pkg-config.
# meson, ninja-build, dpkg-dev, liburing-dev, libnuma-dev: the bundled libfuse 3.18 with
# FUSE over io_uring (packaging/libfuse.sh).
PXE_BUILD_DEPS=(gcc libc6-dev make cmake pkg-config meson ninja-build dpkg-dev liburing-dev libnuma-dev
	libfuse3-dev libsmbclient-dev libmount-dev libblkid-dev libsystemd-dev libssl-dev
	libjson-c-dev)
# Packages (cpack -G DEB, cpack -G RPM): dpkg-shlibdeps and dpkg-buildflags, file, rpmbuild.
PXE_PACKAGE_DEPS=(dpkg-dev file rpm)
# Run: FUSE helpers and the mount tools.
PXE_RUN_DEPS=(fuse3 mount util-linux samba smbclient)
# Test: cmocka, mkfs.ext4 for loop-mounted drive images.
# clang, libclang-rt-14-dev: the libFuzzer harnesses; samba-testsuite (smbtorture), dbench
# (its client.txt load): Samba's own protocol tests against the view. tftpd-hpa, tftp-hpa,
# dnsmasq-base, nginx-light, curl, iproute2: PXE servers and clients over the view (boot_servers).
# ctdb, samba-vfs-modules (fileid), glusterfs-server (the shared store; it pulls in the
# client), ethtool (CTDB's interface monitor): ctdb_cluster's three nodes.
PXE_TEST_DEPS=(libcmocka-dev e2fsprogs squashfs-tools attr python3 lintian dpkg-dev file rpm systemd systemd-container groff-base man-db
	clang libclang-rt-14-dev samba-testsuite dbench
	tftpd-hpa tftp-hpa dnsmasq-base nginx-light curl iproute2
	ctdb samba-vfs-modules glusterfs-server ethtool)

# pxe_install PKG... -- apt-get install the packages that are not installed yet.
pxe_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "pxeimagesfs: missing packages: ${missing[*]}; run this as root (or apt-get install them)" >&2
		return 1
	fi
	echo "pxeimagesfs: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || return 1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
}

# pxe_build DIR [CMAKE ARGS...] -- configure and build the tree into DIR.
pxe_build() {
	local dir=$1; shift
	mkdir -p "$dir"
	cmake -S "$PXE_ROOT" -B "$dir" "$@" >"$dir/configure.log" 2>&1 || {
		cat "$dir/configure.log" >&2; return 1; }
	cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1 || {
		cat "$dir/build.log" >&2; return 1; }
}

PXE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
