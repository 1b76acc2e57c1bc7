# systemd_container.sh -- a real systemd as PID 1 for integration tests, isolated from the host.
# Source it from bash; it defines functions and SDC_* variables, and runs nothing by itself.
#
#   sdc_available                 0 when it can work here; else SDC_WHY says what is missing
#   sdc_start STAGING [SECONDS]   boot; STAGING is a tree copied over the root (e.g.
#                                 STAGING/usr/bin/x, STAGING/etc/systemd/system/x.service);
#                                 returns when systemd is up (running or degraded); 1 with
#                                 SDC_ERROR set otherwise (then call sdc_stop all the same)
#   sdc_exec CMD...               run CMD inside (all the container's namespaces, its root),
#                                 with a clean environment
#   sdc_isolated                  0 when the precautions hold; else SDC_ERROR says which not
#   sdc_stop                      power off (SIGKILL to its PID 1 if that takes over 20 s
#                                 or nspawn is gone, cgroup.kill for anything left), remove
#                                 the cgroups and the directory; safe to call twice
#
# How (tests/harness/systemd_container_boot.sh does the inside): in a private mount namespace
# (unshare --mount --propagation private) an overlay of `/` with a tmpfs upper layer becomes
# the root; in it /etc/systemd/system is a fresh empty directory (the host's enabled units are
# hidden, and masked by name as well), multi-user.target and graphical.target are masked, the
# default target is sdc-minimal.target (it wants nothing), systemd-sysctl, -binfmt,
# -modules-load, -timesyncd, -random-seed, udev, networkd, resolved, gettys and the kernel
# pseudo-filesystem mounts are masked, /etc/fstab is empty and the machine id is new; /run is
# a tmpfs there too, so systemd-nspawn keeps its state away from the host's /run. Then
# systemd-nspawn --register=no --keep-unit --settings=no --private-network --bind=/dev/fuse
# boots /lib/systemd/systemd as PID 1 in new pid, mount, network (loopback only), uts, ipc
# and cgroup namespaces, with /proc/sys and /sys read-only. It never talks to a systemd on the
# host (no machined registration, no scope). The only things outside the namespaces: one
# cgroup (named after the machine, sdc-xxxxxx, below the caller's own, in the cgroup2 and the
# name=systemd hierarchies) and a directory under /tmp; sdc_stop removes both.
# Debian packages: systemd, systemd-container (systemd-nspawn), util-linux (unshare, nsenter).

# shellcheck shell=bash
# shellcheck disable=SC2034 # the SDC_* variables are for the caller
# shellcheck disable=SC2016 # awk scripts run inside the container
SDC_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SDC_DIR=
SDC_NSPAWN=
SDC_PID1=
SDC_PID1_NS=
SDC_MNTNS=
SDC_MACHINE=
SDC_WHY=
SDC_ERROR=
SDC_BOOT_MS=

sdc_available() {
	local t
	SDC_WHY=
	[ "$(id -u)" = 0 ] || { SDC_WHY="needs root"; return 1; }
	for t in systemd-nspawn:systemd-container nsenter:util-linux unshare:util-linux \
		systemctl:systemd; do
		command -v "${t%%:*}" >/dev/null ||
			{ SDC_WHY="${t%%:*} not found (Debian package ${t#*:})"; return 1; }
	done
	[ -x /lib/systemd/systemd ] || { SDC_WHY="no /lib/systemd/systemd (Debian package systemd)"; return 1; }
	grep -qw overlay /proc/filesystems ||
		{ SDC_WHY="the kernel has no overlay filesystem loaded (modprobe overlay)"; return 1; }
	t=$(unshare --mount --propagation private true 2>&1) ||
		{ SDC_WHY="cannot create a mount namespace: $t"; return 1; }
	return 0
}

# _sdc_children PID: the pids whose parent is PID
_sdc_children() {
	local p st f
	for p in /proc/[0-9]*; do
		st=$(cat "$p/stat" 2>/dev/null) || continue
		read -r -a f <<<"${st##*) }" # state ppid ...
		[ "${f[1]}" = "$1" ] && echo "${p#/proc/}"
	done
}

# _sdc_alive PID: running (not a zombie)
_sdc_alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

sdc_exec() {
	[ -n "$SDC_PID1" ] || { echo "sdc_exec: no container" >&2; return 125; }
	nsenter --target "$SDC_PID1" --all --root --wd -- \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb SYSTEMD_COLORS=0 SYSTEMD_PAGER= "$@"
}

sdc_start() {
	local staging=${1:?sdc_start STAGING [SECONDS]} limit=${2:-60} i p t0 state=
	SDC_ERROR=
	staging=$(cd "$staging" && pwd) || { SDC_ERROR="no staging directory $1"; return 1; }
	SDC_DIR=$(mktemp -d /tmp/pxeimagesfs-sdc.XXXXXX) || { SDC_ERROR="mktemp"; return 1; }
	SDC_MACHINE=sdc-$(basename "$SDC_DIR" | tr -dc 'a-zA-Z0-9' | tail -c 6 | tr '[:upper:]' '[:lower:]')
	t0=$(date +%s%N)
	unshare --mount --propagation private -- \
		"$BASH" "$SDC_HARNESS_DIR/systemd_container_boot.sh" "$SDC_DIR" "$staging" "$SDC_MACHINE" \
		</dev/null >"$SDC_DIR/boot.log" 2>&1 &
	SDC_NSPAWN=$! # unshare execs the boot script, which execs systemd-nspawn: one pid
	# PID 1: nspawn's child running systemd in a pid namespace of its own
	for ((i = 0; i < limit * 10; i++)); do
		_sdc_alive "$SDC_NSPAWN" || break
		for p in $(_sdc_children "$SDC_NSPAWN"); do
			if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] &&
				[ "$(readlink "/proc/$p/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]; then
				SDC_PID1=$p
				SDC_PID1_NS=$(readlink "/proc/$p/ns/pid")
				# the private mount namespace holding the overlay (nspawn's)
				SDC_MNTNS=$(readlink "/proc/$SDC_NSPAWN/ns/mnt")
			fi
		done
		[ -n "$SDC_PID1" ] && break
		sleep 0.1
	done
	if [ -z "$SDC_PID1" ]; then
		SDC_ERROR="systemd did not start as PID 1 of a container within ${limit}s; boot log:"$'\n'"$(tail -n 30 "$SDC_DIR/boot.log")"
		return 1
	fi
	# up: running or degraded (systemctl answers only once PID 1 listens)
	for (( ; i < limit * 10; i++)); do
		state=$(sdc_exec systemctl is-system-running 2>/dev/null)
		case $state in running | degraded) break ;; esac
		_sdc_alive "$SDC_PID1" || break
		sleep 0.1
	done
	case $state in
	running | degraded) ;;
	*)
		SDC_ERROR="systemd in the container is '$state' after ${limit}s; boot log:"$'\n'"$(tail -n 30 "$SDC_DIR/boot.log")"
		return 1
		;;
	esac
	SDC_BOOT_MS=$((($(date +%s%N) - t0) / 1000000))
	if [ "$state" = degraded ]; then
		echo "# sdc: the container is degraded: $(sdc_exec systemctl --failed --no-legend --plain | tr '\n' ' ')" >&2
	fi
	return 0
}

# sdc_isolated: the namespaces differ from ours, /proc/sys and /sys are read-only inside, the
# network is loopback only, the kernel-wide units are masked, none of the host's enabled
# units runs.
sdc_isolated() {
	local ns u st out bad=()
	for ns in pid mnt net uts ipc cgroup; do
		[ "$(readlink "/proc/$SDC_PID1/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] ||
			bad+=("PID 1 shares the host's $ns namespace")
	done
	# per-mount options of /proc/sys and /sys, as the container sees them
	out=$(sdc_exec awk '$5 == "/proc/sys" || $5 == "/sys" { print $5, $6 }' /proc/self/mountinfo)
	for m in /proc/sys /sys; do
		grep -q "^$m ro\(,\|$\)" <<<"$out" || bad+=("$m is not mounted read-only inside ($out)")
	done
	sdc_exec sh -c 'echo 1 >/proc/sys/vm/drop_caches' 2>/dev/null &&
		bad+=("/proc/sys/vm/drop_caches is writable inside")
	out=$(sdc_exec ls /sys/class/net 2>&1 | tr '\n' ' ')
	[ "$out" = "lo " ] || bad+=("network interfaces inside: '$out', want only lo")
	for u in systemd-sysctl.service systemd-binfmt.service systemd-modules-load.service \
		multi-user.target; do
		st=$(sdc_exec systemctl is-enabled "$u" 2>/dev/null)
		[ "$st" = masked ] || bad+=("$u is '$st' inside, want masked")
	done
	for u in $(find /etc/systemd/system -mindepth 2 -maxdepth 2 -path '*.wants/*' -printf '%f\n' 2>/dev/null | sort -u); do
		st=$(sdc_exec systemctl is-active "$u" 2>/dev/null)
		case $st in active | activating | reloading) bad+=("the host's $u is $st inside") ;; esac
	done
	SDC_ERROR=$(printf '%s; ' "${bad[@]}")
	[ ${#bad[@]} = 0 ]
}

# _sdc_pid1_alive: the container's PID 1 still runs (the same process: its pid namespace)
_sdc_pid1_alive() {
	[ -n "$SDC_PID1" ] && _sdc_alive "$SDC_PID1" &&
		[ "$(readlink "/proc/$SDC_PID1/ns/pid" 2>/dev/null)" = "$SDC_PID1_NS" ]
}

# _sdc_cg_procs CGROUP: how many processes are in CGROUP and below
_sdc_cg_procs() { find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -c .; }

sdc_stop() {
	local i cg p
	if [ -n "$SDC_NSPAWN" ] && _sdc_alive "$SDC_NSPAWN"; then
		# nspawn turns SIGTERM into SIGRTMIN+3 for PID 1: a clean poweroff
		kill -TERM "$SDC_NSPAWN" 2>/dev/null
		for ((i = 0; i < 200; i++)); do _sdc_alive "$SDC_NSPAWN" || break; sleep 0.1; done
	fi
	# PID 1 outlives a killed nspawn: end it (and with it every process of the container)
	if _sdc_pid1_alive; then
		echo "# sdc: the container did not power off; SIGKILL to its PID 1 ($SDC_PID1)" >&2
		kill -KILL "$SDC_PID1" 2>/dev/null
		for ((i = 0; i < 100; i++)); do _sdc_pid1_alive || break; sleep 0.1; done
	fi
	if [ -n "$SDC_NSPAWN" ] && _sdc_alive "$SDC_NSPAWN"; then
		for ((i = 0; i < 100; i++)); do _sdc_alive "$SDC_NSPAWN" || break; sleep 0.1; done
		if _sdc_alive "$SDC_NSPAWN"; then
			echo "# sdc: systemd-nspawn ($SDC_NSPAWN) still runs; SIGKILL" >&2
			kill -KILL "$SDC_NSPAWN" 2>/dev/null
		fi
	fi
	# reap it (a background job of this shell); its mount namespace, with the overlay, the
	# tmpfs upper layer and the container's mounts, went with its last process
	[ -n "$SDC_NSPAWN" ] && wait "$SDC_NSPAWN" 2>/dev/null
	SDC_NSPAWN='' SDC_PID1=''
	if [ -n "$SDC_MNTNS" ]; then
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$SDC_MNTNS" ] && _sdc_alive "${p#/proc/}" &&
				echo "warning: sdc: pid ${p#/proc/} still holds the overlay's mount namespace" >&2
		done
		SDC_MNTNS=
	fi
	if [ -n "$SDC_DIR" ] && [ -d "$SDC_DIR" ]; then
		if [ -s "$SDC_DIR/cgroups" ]; then
			while read -r cg; do
				case $cg in /sys/fs/cgroup/*/"$SDC_MACHINE" | /sys/fs/cgroup/"$SDC_MACHINE") ;; *) continue ;; esac
				[ -d "$cg" ] || continue
				# a last resort: whatever is still in our cgroup (cgroup v2, Linux >= 5.14)
				if [ "$(_sdc_cg_procs "$cg")" != 0 ] && [ -e "$cg/cgroup.kill" ]; then
					echo "# sdc: processes left in $cg; cgroup.kill" >&2
					echo 1 >"$cg/cgroup.kill"
				fi
				for ((i = 0; i < 50; i++)); do
					find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
					[ -d "$cg" ] || break
					sleep 0.1
				done
				[ -d "$cg" ] && echo "warning: sdc: cannot remove the cgroup $cg" >&2
			done <"$SDC_DIR/cgroups"
		fi
		if grep -qF " $SDC_DIR/" /proc/self/mountinfo; then
			echo "warning: sdc: mounts under $SDC_DIR visible here; left in place" >&2
		else
			rm -rf --one-file-system "$SDC_DIR"
		fi
	fi
	SDC_DIR=
}
