#!/bin/bash
# systemd_container_boot.sh -- the inner half of systemd_container.sh; not for direct use.
#
#   unshare --mount --propagation private -- systemd_container_boot.sh DIR STAGING MACHINE
#
# Runs in a private mount namespace (nothing mounted here is seen by the host), builds a
# copy-on-write root DIR/root (an overlay of `/` with a tmpfs upper layer), prepares it so that
# only what the test asks for can start, and execs systemd-nspawn on it, which boots systemd as
# PID 1 in new pid, mount, network (loopback only), uts, ipc and cgroup namespaces, with
# /proc/sys and /sys read-only. Writes DIR/cgroups (the cgroups it created, for the outer half
# to remove). Every message goes to stderr.
set -u
DIR=${1:?usage: systemd_container_boot.sh DIR STAGING MACHINE}
STAGING=${2:?}
MACHINE=${3:?}
M=$DIR/root
die() { echo "sdc-boot: $*" >&2; exit 1; }

# the namespace must be private: never mount anything the host would see
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
	die "not in a private mount namespace (run through unshare --mount --propagation private)"

# -- the copy-on-write root: lower `/` (its own filesystem only), upper a tmpfs ---------------
mkdir -p "$DIR/layers" "$M" || die "mkdir under $DIR"
mount -t tmpfs -o size=512m,mode=755 sdc-layers "$DIR/layers" || die "cannot mount a tmpfs on $DIR/layers"
mkdir "$DIR/layers/upper" "$DIR/layers/work" || die "mkdir in the tmpfs"
mount -t overlay sdc-root -o "lowerdir=/,upperdir=$DIR/layers/upper,workdir=$DIR/layers/work" "$M" ||
	die "cannot mount an overlay of / on $M (overlayfs missing, or / cannot be a lower layer)"
# fstype_at MP: the filesystem type of the last mount at MP
fstype_at() {
	awk -v m="$1" '$5 == m { for (i = 7; i < NF; i++) if ($i == "-") { t = $(i + 1); break } }
		END { print t }' /proc/self/mountinfo
}
[ "$(fstype_at "$M")" = overlay ] || die "$M is not the overlay just mounted"
for f in /lib/systemd/systemd /bin/systemctl /bin/sh; do
	[ -x "$M$f" ] || die "$f is not in the overlay of / (on another filesystem than /?)"
done
# nspawn keeps its state in /run/systemd/nspawn: a tmpfs over /run, in this namespace only
mount -t tmpfs -o size=16m,mode=755 sdc-run /run || die "cannot mount a tmpfs on /run"

# -- systemd's configuration in the overlay ----------------------------------------------------
# Everything written into the overlay is written from inside `chroot $M`, so that an absolute
# symlink in the lower layer (/etc/machine-id -> /var/lib/dbus/machine-id, say) resolves in
# the overlay, never on the host.
# what the host enabled (its *.wants/*.requires), masked below in case anything names it;
# the test's own units (in STAGING) are not masked
mapfile -t host_enabled < <(find /etc/systemd/system -mindepth 2 -maxdepth 2 \
	\( -path '*.wants/*' -o -path '*.requires/*' -o -path '*.upholds/*' \) -printf '%f\n' 2>/dev/null |
	sort -u)
masks=(
	# kernel-wide settings: never from the container
	systemd-sysctl.service systemd-binfmt.service systemd-modules-load.service
	proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount kmod-static-nodes.service
	sys-fs-fuse-connections.mount sys-kernel-config.mount sys-kernel-debug.mount
	sys-kernel-tracing.mount systemd-random-seed.service systemd-pstore.service
	systemd-timesyncd.service systemd-journald-audit.socket systemd-repart.service
	systemd-firstboot.service systemd-hwdb-update.service ldconfig.service
	systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
	systemd-udev-trigger.service systemd-udev-settle.service
	# the network and the consoles
	systemd-networkd.service systemd-networkd.socket systemd-resolved.service
	networking.service ifupdown-pre.service getty.target console-getty.service
	# the targets that pull in the host's services
	multi-user.target graphical.target
	"${host_enabled[@]}"
)
# the staging tree goes in first (a new directory of the upper layer), then is moved into
# place from inside the chroot
mkdir "$M/.sdc-staging" || die "cannot create $M/.sdc-staging"
cp -a "$STAGING/." "$M/.sdc-staging/" || die "cannot copy $STAGING into the overlay"
machine_id=$(tr -d - </proc/sys/kernel/random/uuid) || die "no random uuid"
# shellcheck disable=SC2016 # the script runs inside the chroot
chroot "$M" /bin/sh -euc '
	machine_id=$1
	shift
	S=/etc/systemd/system
	# a fresh, empty /etc/systemd/system (an opaque directory: the host'"'"'s one is hidden),
	# and no generators of the host'"'"'s own
	rm -rf "$S" /etc/systemd/system-generators
	mkdir -p "$S"
	for u in "$@"; do
		[ -e "/.sdc-staging$S/$u" ] || [ -L "/.sdc-staging$S/$u" ] || ln -sfn /dev/null "$S/$u"
	done
	printf "%s\n" "[Unit]" "Description=systemd_container.sh: a target that wants nothing" \
		"DefaultDependencies=no" "AllowIsolate=yes" >"$S/sdc-minimal.target"
	ln -sfn sdc-minimal.target "$S/default.target"
	# nothing from the host'"'"'s fstab, a machine id of its own (its own journal)
	rm -f /etc/fstab /etc/machine-id
	: >/etc/fstab
	echo "$machine_id" >/etc/machine-id
	# the test'"'"'s files (binary, units, drop-ins, configuration)
	cp -a --remove-destination /.sdc-staging/. /
	rm -rf /.sdc-staging
' sdc-prepare "$machine_id" "${masks[@]}" || die "preparing the root inside the chroot failed"

# -- a cgroup of our own (systemd as PID 1 needs one to write to), removed by the outer half --
# cgroup_mount FSTYPE OPTION: where the hierarchy is mounted (OPTION among its super options)
cgroup_mount() {
	awk -v t="$1" -v o="$2" '{ for (i = 7; i < NF; i++) if ($i == "-") break
		if ($(i + 1) == t && (o == "" || ("," $(i + 3) ",") ~ ("," o ","))) { print $5; exit } }' \
		/proc/self/mountinfo
}
: >"$DIR/cgroups"
mapfile -t own </proc/self/cgroup # read once: it changes as we move
for line in "${own[@]}"; do
	IFS=: read -r _ ctrl path <<<"$line"
	mp=
	if [ -z "$ctrl" ]; then
		mp=$(cgroup_mount cgroup2 '')
	elif [ "$ctrl" = name=systemd ]; then
		mp=$(cgroup_mount cgroup name=systemd)
	fi
	[ -n "$mp" ] || continue
	cg=$mp${path%/}/$MACHINE
	mkdir "$cg" || die "cannot create the cgroup $cg"
	echo "$cg" >>"$DIR/cgroups"
	echo $$ >"$cg/cgroup.procs" || die "cannot move into the cgroup $cg"
done
[ -s "$DIR/cgroups" ] || die "no cgroup2 nor name=systemd hierarchy mounted under /sys/fs/cgroup"

# PID 1 in new namespaces; --keep-unit/--register=no: never a word to a systemd on the host
exec systemd-nspawn --quiet --directory="$M" --machine="$MACHINE" \
	--register=no --keep-unit --settings=no --private-network --link-journal=no \
	--resolv-conf=off --timezone=off --console=read-only --bind=/dev/fuse \
	--boot -- --unit=sdc-minimal.target
