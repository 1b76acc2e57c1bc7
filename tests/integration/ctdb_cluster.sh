#!/bin/bash
# ctdb_cluster.sh -- three PXE hosts on one machine: network namespaces n1..n3 on a private
# bridge (10.213.7.0/24, no route out), a GlusterFS volume served from a fourth namespace (st),
# and on each node, in a mount namespace of its own: the volume mounted, a pxeimagesfs view
# over it with samba = ctdb (the daemon writes the share into the node's smb.conf), ctdbd with
# one public address, and smbd. A client in a fifth namespace (c) reads a large image through
# the public address; the node holding it is killed (link down, every process -9) mid-read;
# the address moves, the client reconnects and the bytes match. A file written through one
# node is read through another; the window is measured. With the CTDB event script
# (packaging/ctdb/47.pxeimagesfs.script) enabled on every node, the GlusterFS client of the
# node holding the address is killed: CTDB must mark that node UNHEALTHY and move the address
# to the other survivor, a read through it must be byte-exact, and the node must be OK again
# once its mount is back (PXE_CTDB_EVENT_SCRIPT=no: not enabled, so this must fail). Then the
# volume's brick hangs (SIGSTOP): each node's bounded probe marks the drive unavailable and
# its view keeps answering. Everything is created and removed here; processes are ended by PID (those of the
# test's own mount namespaces). Run it under flock /tmp/pxe-it.lock (smbd, fixed names).
#   ctdb_cluster.sh PXEIMAGESFS SMB_FAILOVER_READ
set -u
. "$(dirname "$0")/lib.sh"
PXE=$(realpath "$1") READER=$(realpath "$2") # nsenter -m starts in /
EVSCRIPT=$(realpath "$(dirname "$0")/../../packaging/ctdb/47.pxeimagesfs.script")
START=$SECONDS

need_root_fuse
need_tools ctdbd:ctdb ctdb:ctdb smbd:samba smbclient:smbclient testparm:samba-common-bin \
	glusterd:glusterfs-server gluster:glusterfs-server glusterfs:glusterfs-client \
	ethtool:ethtool ip:iproute2 nsenter:util-linux unshare:util-linux sha256sum:coreutils
MODDIR=$(smbd -b | awk '/MODULESDIR:/ { print $2 }')
[ -e "$MODDIR/vfs/fileid.so" ] || need "Samba's fileid module not found (package samba-vfs-modules)"
[ -d /etc/ctdb ] && [ -d /var/lib/ctdb ] && [ -d /var/lib/glusterd ] && [ -d /var/log/glusterfs ] ||
	need "/etc/ctdb, /var/lib/ctdb, /var/lib/glusterd or /var/log/glusterfs missing (packages ctdb, glusterfs-server)"

NET=10.213.7 PUB=10.213.7.100 TAG=pxct$$
BR=${TAG}br
T=$(mktemp -d /tmp/pxeimagesfs-ctdb.XXXXXX) || fail "mktemp"
chmod 755 "$T" # smbd reaches the view as the connected user (guest: nobody)
IMG=RemoteInstall/SMSImages/SMSPKG
declare -A ANCHOR=() MNTNS=()
SELF_NS=$(stat -L -c %i /proc/self/ns/mnt)
BRICK=

# ns_pids NODE -- every process in NODE's mount namespace (all started by this test). The
# namespace is named by the identity recorded when it was made, never through a PID that may
# have been reused, and is never the test's own.
ns_pids() {
	local want=${MNTNS[$1]:-}
	[ -n "$want" ] && [ "$want" != "$SELF_NS" ] || return 0
	# one stat for every process: a fork per process takes seconds on a busy machine
	stat -L -c '%i %n' /proc/[0-9]*/ns/mnt 2>/dev/null |
		awk -v i="$want" '$1 == i { split($2, f, "/"); print f[3] }'
}
# ns_kill NODE SIG [all] -- signal NODE's processes by PID; the anchor (which keeps the
# namespace, and so its identity, alive) only with "all", and then the namespace is forgotten
ns_kill() {
	local p
	for p in $(ns_pids "$1"); do
		[ "$p" = "${ANCHOR[$1]}" ] && [ "${3:-}" != all ] && continue
		kill "-$2" "$p" 2>/dev/null
	done
	[ "${3:-}" = all ] && MNTNS[$1]=
	return 0
}
cleanup() {
	local n k left
	for n in "${!MNTNS[@]}"; do ns_kill "$n" CONT; ns_kill "$n" TERM; done
	for k in $(seq 50); do
		left=0
		for n in "${!MNTNS[@]}"; do [ "$(ns_pids "$n" | wc -l)" -gt 1 ] && left=1; done
		[ $left = 0 ] && break
		sleep 0.1
	done
	for n in "${!MNTNS[@]}"; do ns_kill "$n" KILL all; done
	for n in n1 n2 n3 st c; do ip netns del "$TAG-$n" 2>/dev/null; done
	ip link del "$BR" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# on NODE CMD... -- run CMD in the node's network and mount namespaces
on() { local n=$1; shift; nsenter -t "${ANCHOR[$n]}" -m -n "$@"; }
# ctdb_of NODE ARGS... -- the ctdb tool of that node
ctdb_of() { on "$1" timeout 10 ctdb "${@:2}"; }
# client CMD... -- run CMD in the client's namespace (network only)
client() { nsenter --net="/run/netns/$TAG-c" "$@"; }

# ---- the network: a bridge with no address of the host's, five namespaces -------------------
ip link add "$BR" type bridge 2>"$T/err" || need "cannot create a bridge: $(cat "$T/err")"
ip link set "$BR" up
addr_of() { case $1 in n1) echo 11 ;; n2) echo 12 ;; n3) echo 13 ;; st) echo 5 ;; c) echo 50 ;; esac; }
for n in n1 n2 n3 st c; do
	ip netns add "$TAG-$n" && ip link add "$TAG-$n" type veth peer name eth0 netns "$TAG-$n" &&
		ip link set "$TAG-$n" master "$BR" up &&
		ip -n "$TAG-$n" addr add "$NET.$(addr_of $n)/24" dev eth0 &&
		ip -n "$TAG-$n" link set eth0 up && ip -n "$TAG-$n" link set lo up ||
		fail "cannot set up namespace $TAG-$n"
done
ok "bridge $BR, namespaces n1 n2 n3 st c on $NET.0/24 (no route out)"

# anchor NODE SETUP -- a process holding a mount namespace of the node's own (private
# propagation) after running SETUP in it; every process of the node is started in it
anchor() {
	nsenter --net="/run/netns/$TAG-$1" unshare -m --propagation private \
		bash -c "$2"' && exec sleep 3600' >"$T/$1.anchor.log" 2>&1 &
	ANCHOR[$1]=$!
	for k in $(seq 50); do
		if [ -e "$T/$1.ready" ]; then
			MNTNS[$1]=$(stat -L -c %i "/proc/${ANCHOR[$1]}/ns/mnt")
			[ -n "${MNTNS[$1]}" ] && [ "${MNTNS[$1]}" != "$SELF_NS" ] && return 0
			fail "no mount namespace of its own for $1"
		fi
		sleep 0.1
	done
	fail "the namespace of $1 did not come up: $(cat "$T/$1.anchor.log")"
}

# ---- the shared store: GlusterFS in st ----------------------------------------------------------
mkdir -p "$T/brick" "$T/glog" "$T/store" "$T/view"
anchor st "mount -t tmpfs tmpfs /var/lib/glusterd && mount --bind $T/glog /var/log/glusterfs &&
	mount -t tmpfs tmpfs /run && touch $T/st.ready" ||
	fail "anchor st"
on st setsid glusterd -N --log-file="$T/glog/glusterd.log" &
for k in $(seq 100); do on st gluster --mode=script volume list >/dev/null 2>&1 && break; sleep 0.1; done
on st gluster --mode=script volume create pxe "$NET.5:$T/brick" force >"$T/gl.out" 2>&1 &&
	on st gluster --mode=script volume set pxe network.ping-timeout 10 >>"$T/gl.out" 2>&1 &&
	on st gluster --mode=script volume start pxe >>"$T/gl.out" 2>&1 ||
	fail "gluster volume: $(cat "$T/gl.out" "$T/glog/glusterd.log" | tail -5)"
for k in $(seq 50); do
	BRICK=$(on st sh -c 'cat /run/gluster/vols/pxe/*.pid' 2>/dev/null)
	[ -n "$BRICK" ] && break
	sleep 0.1
done
[ -n "$BRICK" ] || fail "no brick process"
ok "GlusterFS volume pxe on $NET.5 (brick pid $BRICK) after $((SECONDS - START)) s"

# ---- the nodes ----------------------------------------------------------------------------------
node_files() {
	local n=$1 d=$T/$1
	mkdir -p "$d"/{etc,var/volatile,var/persistent,var/state,run,state,pxrun} \
		"$d"/smb/{private,lock,state,cache,pid,ncalrpc,binddns} || fail "mkdir $d"
	cp -a /etc/ctdb/. "$d/etc/" || fail "copy /etc/ctdb"
	rm -f "$d"/etc/events/legacy/*
	ln -s /usr/share/ctdb/events/legacy/00.ctdb.script "$d/etc/events/legacy/"
	ln -s /usr/share/ctdb/events/legacy/10.interface.script "$d/etc/events/legacy/"
	# packaging/ctdb/47.pxeimagesfs.script, enabled below the packages' way; its options
	printf 'CTDB_PXEIMAGESFS=%s\nCTDB_PXEIMAGESFS_CONFIG=%s\nCTDB_PXEIMAGESFS_TIMEOUT=5\n' \
		"$PXE" "$d/pxe.conf" >"$d/etc/events/legacy/47.pxeimagesfs.options"
	printf '%s\n' "$NET.11" "$NET.12" "$NET.13" >"$d/etc/nodes"
	echo "$PUB/24 eth0" >"$d/etc/public_addresses"
	printf '[logging]\n\tlocation = file:%s/ctdb.log\n\tlog level = NOTICE\n' "$d" >"$d/etc/ctdb.conf"
	# a dead node is noticed after 3 missed 1 s keepalives (defaults 5 x 5 s)
	# and the monitor event (47.pxeimagesfs's check of the view) runs every 2 s (default 15 s)
	printf 'KeepaliveInterval=1\nKeepaliveLimit=3\nRecoveryBanPeriod=5\nMonitorInterval=2\n' \
		>"$d/etc/ctdb.tunables"
	cat >"$d/smb.conf" <<EOF
[global]
	netbios name = PXECLUSTER
	workgroup = WORKGROUP
	server role = standalone server
	private dir = $d/smb/private
	lock directory = $d/smb/lock
	state directory = $d/smb/state
	cache directory = $d/smb/cache
	pid directory = $d/smb/pid
	ncalrpc dir = $d/smb/ncalrpc
	binddns dir = $d/smb/binddns
	log file = $d/smbd.log
	log level = 1
	map to guest = Bad User
	guest account = nobody
	server min protocol = SMB2_02
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
	disable netbios = yes
	registry shares = no
	usershare path =
EOF
	cat >"$d/pxe.conf" <<EOF
[global]
    mountpoint = $T/view
    state directory = $d/state
    run directory = $d/pxrun
    rescan interval = 2s
    mount timeout = 10s
[drive:G]
    path = $T/store
[share]
    samba = ctdb
    guest ok = yes
    read only = no
    smb.conf = $d/smb.conf
    include file = $d/pxeimagesfs-share.conf
EOF
}
# CTDB's scripts folder as the package leaves it: ctdb's own and pxeimagesfs's, none enabled
mkdir -p "$T/legacy" && cp -a /usr/share/ctdb/events/legacy/. "$T/legacy/" &&
	ln -s "$EVSCRIPT" "$T/legacy/47.pxeimagesfs.script" || fail "the scripts folder"
for n in n1 n2 n3; do
	node_files $n
	d=$T/$n
	# ctdbd's own folders in the node's namespace; /run private (ctdbd's socket lock)
	anchor $n "mount --bind $d/etc /etc/ctdb && mount --bind $d/var /var/lib/ctdb &&
		mount --bind $T/legacy /usr/share/ctdb/events/legacy &&
		mount -t tmpfs tmpfs /run && mkdir /run/ctdb && mount --bind $d/run /run/ctdb &&
		touch $T/$n.ready"
	# PXE_CTDB_EVENT_SCRIPT=no: not enabled (the failover of an unhealthy view must then fail)
	if [ "${PXE_CTDB_EVENT_SCRIPT:-yes}" = yes ]; then
		on $n ctdb event script enable legacy 47.pxeimagesfs >"$T/enable.out" 2>&1 &&
			[ -L "$d/etc/events/legacy/47.pxeimagesfs.script" ] ||
			fail "$n: ctdb event script enable legacy 47.pxeimagesfs: $(cat "$T/enable.out")"
	fi
	on $n setsid glusterfs -N --volfile-server="$NET.5" --volfile-id=pxe --log-file="$d/glusterfs.log" \
		"$T/store" &
done
for n in n1 n2 n3; do
	for k in $(seq 100); do on $n grep -q " $T/store fuse" /proc/mounts && break; sleep 0.1; done
	on $n grep -q " $T/store fuse" /proc/mounts || fail "$n: the volume is not mounted"
done
on n1 mkdir -p "$T/store/$IMG/PKG00001" && on n1 chmod 1777 "$T/store/$IMG/PKG00001" ||
	fail "mkdir on the volume"
for n in n1 n2 n3; do
	on $n setsid "$PXE" mount -f -c "$T/$n/pxe.conf" >"$T/$n/pxe.log" 2>&1 &
done
for n in n1 n2 n3; do
	for k in $(seq 150); do
		on $n grep -q " $T/view fuse.pxeimagesfs" /proc/mounts &&
			grep -q 'clustering = yes' "$T/$n/pxeimagesfs-share.conf" 2>/dev/null && break
		sleep 0.1
	done
	on $n grep -q " $T/view fuse.pxeimagesfs" /proc/mounts || fail "$n: no view: $(tail -5 "$T/$n/pxe.log")"
	grep -q 'clustering = yes' "$T/$n/pxeimagesfs-share.conf" 2>/dev/null ||
		fail "$n: the daemon did not export (samba = ctdb): $(tail -5 "$T/$n/pxe.log")"
	grep -q "fileid:algorithm = fsname" "$T/$n/pxeimagesfs-share.conf" || fail "$n: no fileid"
	grep -q "^include = $T/$n/pxeimagesfs-share.conf" "$T/$n/smb.conf" || fail "$n: no include line"
done
ok "views mounted over the volume on n1 n2 n3; each daemon exported the share (clustering = yes, fileid fsname) after $((SECONDS - START)) s"

for n in n1 n2 n3; do
	on $n setsid ctdbd -i >"$T/$n/ctdbd.out" 2>&1 &
done
healthy=0
for k in $(seq 60); do
	healthy=$(ctdb_of n1 status 2>/dev/null | grep -c '^pnn:.* OK')
	[ "$healthy" = 3 ] && ctdb_of n1 ip 2>/dev/null | grep -q "^$PUB [0-2]$" && break
	sleep 0.5
done
[ "$healthy" = 3 ] || fail "ctdb: $healthy of 3 nodes OK: $(ctdb_of n1 status 2>&1 | head -5)"
holder() { local n; for n in n1 n2 n3; do ip -n "$TAG-$n" -4 addr show eth0 | grep -q " $PUB/" && echo $n; done; }
for k in $(seq 40); do [ -n "$(holder)" ] && break; sleep 0.25; done
H=$(holder)
[ "$(echo $H | wc -w)" = 1 ] || fail "public address $PUB on '$H' (want one node)"
ok "ctdb: 3 nodes OK, $PUB on $H after $((SECONDS - START)) s"

for n in n1 n2 n3; do
	on $n setsid smbd --foreground --no-process-group -s "$T/$n/smb.conf" >"$T/$n/smbd.out" 2>&1 &
done
for n in n1 n2 n3; do
	for k in $(seq 100); do ip netns exec "$TAG-$n" ss -ltn 2>/dev/null | grep -q ':445 ' && break; sleep 0.1; done
	ip netns exec "$TAG-$n" ss -ltn | grep -q ':445 ' || fail "$n: smbd does not listen: $(tail -5 "$T/$n/smbd.log")"
done
ok "smbd (clustering = yes) listens on n1 n2 n3 after $((SECONDS - START)) s"

# No daemon of the nodes may share the test's process group (ctest's, and CI's above it): smbd
# signals its whole group when it stops (kill(0, SIGTERM)), and a stopped node took CI down with
# it. Each daemon runs in a session of its own; only the anchors (sleep) stay in ours.
MYPG=$(ps -o pgid= -p $$ | tr -d ' ')
for n in st n1 n2 n3; do
	for p in $(ns_pids $n); do
		[ "$p" = "${ANCHOR[$n]}" ] && continue
		[ "$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ')" = "$MYPG" ] &&
			fail "$n: process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 80)) is in the test's process group"
	done
done
ok "no daemon of st n1 n2 n3 shares the test's process group"

# ---- a large image through the public address, the serving node killed mid-read ------------
SIZE=$((128 * 1024 * 1024))
head -c $SIZE /dev/urandom >"$T/big.wim" || fail "random data"
on n1 cp "$T/big.wim" "$T/view/$IMG/PKG00001/boot.BIG00001.wim" || fail "write through n1's view"
want=$(sha256sum <"$T/big.wim" | cut -d' ' -f1)
for n in n2 n3; do
	for k in $(seq 50); do
		[ "$(on $n stat -c %s "$T/view/$IMG/PKG00001/boot.BIG00001.wim" 2>/dev/null)" = $SIZE ] && break
		sleep 0.1
	done
done
# The reader is a test tool built like the product (ASan in the sanitizer run): libsmbclient
# keeps 232 bytes in talloc for each context freed after its server died, and a leak report
# at exit would replace the reader's status and lose its last line.
client env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$READER" "smb://$PUB/SMSPXEIMAGES\$/PKG00001/boot.BIG00001.wim" "$T/got.wim" \
	$((SIZE / 4)) "$T/go" 60 >"$T/reader.out" 2>"$T/reader.err" &
RD=$!
for k in $(seq 300); do grep -q '^held' "$T/reader.out" && break; sleep 0.1; done
grep -q '^held' "$T/reader.out" || fail "the client did not get a quarter of the image: $(cat "$T/reader.err")"
t0=$(date +%s%N)
ip link set "$TAG-$H" down # the node's power cord: its address goes with it
ns_kill $H KILL all
touch "$T/go"
tg=$(date +%s%N)
moved=
for k in $(seq 300); do
	moved=$(holder | grep -v "^$H$")
	[ -n "$moved" ] && break
	sleep 0.1
done
t1=$(date +%s%N)
[ -n "$moved" ] || fail "$PUB did not move from $H in 30 s: $(ctdb_of $( [ $H = n1 ] && echo n2 || echo n1) status 2>&1 | head -5)"
ok "$H killed mid-read (the client let go $(((tg - t0) / 1000000)) ms later); $PUB moved to $moved in $(((t1 - t0) / 1000000)) ms"
for k in $(seq 600); do kill -0 $RD 2>/dev/null || break; sleep 0.1; done
wait $RD || fail "the client did not finish: $(cat "$T/reader.out" "$T/reader.err")"
t2=$(date +%s%N)
got=$(sha256sum <"$T/got.wim" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "bytes differ after the failover: $(cat "$T/reader.out")"
ok "the client reconnected and read all $SIZE bytes byte-exact ($(tail -1 "$T/reader.out"); $(((t2 - t0) / 1000000)) ms from the kill to the last byte)"
sed 's/^/  reader: /' "$T/reader.err"

# ---- written through one node, read through another -----------------------------------------
A= B=
for n in n1 n2 n3; do [ $n = $H ] && continue; [ -z "$A" ] && A=$n || B=$n; done
head -c $((4 * 1024 * 1024 + 17)) /dev/urandom >"$T/new.wim"
want=$(sha256sum <"$T/new.wim" | cut -d' ' -f1)
client smbclient "//$NET.$(addr_of $A)/SMSPXEIMAGES\$" -N -m SMB3 \
	-c "put $T/new.wim PKG00001/boot.NEW00001.wim" >"$T/put.out" 2>&1 || fail "put through $A: $(cat "$T/put.out")"
tw=$(date +%s%N)
seen=
for k in $(seq 100); do
	rm -f "$T/back.wim"
	client smbclient "//$NET.$(addr_of $B)/SMSPXEIMAGES\$" -N -m SMB3 \
		-c "get PKG00001/boot.NEW00001.wim $T/back.wim" >/dev/null 2>&1 &&
		[ "$(sha256sum <"$T/back.wim" | cut -d' ' -f1)" = "$want" ] && { seen=$(date +%s%N); break; }
	sleep 0.1
done
[ -n "$seen" ] || fail "a file written through $A was not read byte-exact through $B within 10 s"
ok "written through $A, read byte-exact through $B after $(((seen - tw) / 1000000)) ms"

# ---- one node's view loses the store: 47.pxeimagesfs fails, CTDB marks the node UNHEALTHY ----
# The node holding the address now loses its GlusterFS client (killed: its mount answers
# ENOTCONN); its view's drive goes offline, no drive holds the images, `status` says so, the
# monitor event fails, and the address must move to the other node, whose view has the store.
pnn_of() { case $1 in n1) echo 0 ;; n2) echo 1 ;; n3) echo 2 ;; esac; }
glusterfs_of() {
	local p
	for p in $(ns_pids "$1"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = glusterfs ] && echo "$p"; done
}
# the killed node's interface keeps its copy of the address: the survivors' holder
live_holder() { holder | grep -v "^$H$"; }
P=$(live_holder)
S0=$SECONDS
case $P in "$A") Q=$B ;; "$B") Q=$A ;; *) fail "$PUB on '$P', not on $A or $B" ;; esac
GL=$(glusterfs_of $P)
[ "$(echo $GL | wc -w)" = 1 ] || fail "$P: GlusterFS client '$GL' (want one)"
tk=$(date +%s%N)
kill -KILL "$GL"
tu= tm=
end=$((SECONDS + 25))
while [ $SECONDS -lt $end ]; do
	[ -z "$tu" ] && ctdb_of $Q status 2>/dev/null | grep -q "^pnn:$(pnn_of $P) .*UNHEALTHY" &&
		tu=$(date +%s%N)
	[ -z "$tm" ] && [ "$(live_holder)" = "$Q" ] && tm=$(date +%s%N)
	[ -n "$tu" ] && [ -n "$tm" ] && break
	sleep 0.2
done
[ -n "$tu" ] || fail "$P's view lost the store but CTDB does not mark it UNHEALTHY after 25 s: $(ctdb_of $Q status 2>&1 | head -5)"
[ -n "$tm" ] || fail "$P is UNHEALTHY but $PUB did not move to $Q in 25 s (on '$(live_holder)')"
why=$(ctdb_of $P event status legacy monitor 2>&1 | grep -A3 '47.pxeimagesfs' | tr -s ' \n' ' ')
# the script's verdicts on the view (which one depends on how far the dead client's errors
# reached when status ran: no drive holds the images, or the view answers ENOTCONN: exit 4)
echo "$why" | grep -qE 'does not serve the images|pxeimagesfs status: [a-z ]+ \(exit [2-4]\)|pxeimagesfs view not responding|did not finish within' ||
	fail "$P: the monitor event failed, but not for the view: $why"
ok "$P's GlusterFS client killed: UNHEALTHY after $(((tu - tk) / 1000000)) ms, $PUB on $Q after $(((tm - tk) / 1000000)) ms ($why)"
rm -f "$T/pub.wim"
client smbclient "//$PUB/SMSPXEIMAGES\$" -N -m SMB3 -c "get PKG00001/boot.NEW00001.wim $T/pub.wim" \
	>"$T/get.out" 2>&1 || fail "get through $PUB (on $Q): $(cat "$T/get.out")"
[ "$(sha256sum <"$T/pub.wim" | cut -d' ' -f1)" = "$want" ] || fail "bytes differ through $PUB on $Q"
ok "read byte-exact through $PUB (now on $Q)"
# the store back: the dead mount away, a new client; the view takes the drive back, the
# monitor event passes and the node is healthy again
on $P umount -l "$T/store" || fail "$P: umount the dead GlusterFS mount"
on $P setsid glusterfs -N --volfile-server="$NET.5" --volfile-id=pxe --log-file="$T/$P/glusterfs.log" \
	"$T/store" &
tr=$(date +%s%N)
th=
end=$((SECONDS + 25))
while [ $SECONDS -lt $end ]; do
	ctdb_of $Q status 2>/dev/null | grep -q "^pnn:$(pnn_of $P) .* OK" && { th=$(date +%s%N); break; }
	sleep 0.2
done
[ -n "$th" ] || fail "$P not healthy 25 s after its store came back: $(ctdb_of $Q status 2>&1 | head -5)"
ok "$P's store remounted: OK again after $(((th - tr) / 1000000)) ms (this step: $((SECONDS - S0)) s)"

# ---- the shared store hangs: the view must not ------------------------------------------------
# on $Q, the survivor whose GlusterFS client was not restarted above (a client mounted seconds
# before the brick stops kept answering its health probe for 15 s in one run: not this step's case)
kill -STOP "$BRICK"
th=$(date +%s%N)
state=
end=$((SECONDS + 15)) # a wall-clock bound: one status call may itself wait
while [ $SECONDS -lt $end ]; do
	on $Q timeout -k 1 3 "$PXE" status -c "$T/$Q/pxe.conf" --json >"$T/status.json" 2>/dev/null
	grep -q '"state": *"unavailable"' "$T/status.json" && { state=unavailable; break; }
	sleep 0.1
done
tu=$(date +%s%N)
[ "$state" = unavailable ] || fail "the hung volume is not unavailable on $Q after 15 s: $(head -c 600 "$T/status.json")"
on $Q timeout -k 1 5 ls "$T/view" >/dev/null || fail "$Q's view hangs with the volume"
kill -CONT "$BRICK"
ok "brick stopped: $Q's drive unavailable after $(((tu - th) / 1000000)) ms; its view still answers"

echo "ctdb_cluster: all checks passed in $((SECONDS - START)) s"
