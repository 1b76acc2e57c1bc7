#!/bin/bash
# live_view.sh -- the view follows the drives without a remount (SPEC sections 3-5 and 9,
# issue 4). KB 947683 replayed live: C (a bind mount of a tmpfs directory, priority 10) holds
# the images and is served; D (priority 20) is mounted later with an empty images folder (the
# service "reinstalled"), then C is unmounted and mounted again. Also: files opened before a
# switch keep their drive (even once a higher-ranked drive gets a copy of the same name, and
# whatever fstat() on them says), st_ino survives every switch, SIGHUP with a broken and a good
# config, writes racing the unmount of the primary never reach its bare mountpoint directory,
# SIGUSR1, switch latency (printed), the status file and `pxeimagesfs status`, SIGTERM, and
# `require drives = yes`. Event sources only: the periodic rescan is set to 1h.
# Needs root and /dev/fuse; exit 77 = skipped (a failure under CI=true). Runs every check and
# names all that failed; gives up after $LIVE_VIEW_TIMEOUT s.
# shellcheck disable=SC2015 # `[ a ] && [ b ] || bad` is meant: bad unless both hold
# shellcheck disable=SC2010,SC2012 # ls | grep and ls: the names here are plain
set -u
BIN=${1:?usage: live_view.sh PXEIMAGESFS_BINARY}
LIMIT=${LIVE_VIEW_TIMEOUT:-120}
export LC_ALL=C

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # fail, need, ok

[ "$(id -u)" = 0 ] || need "needs root to mount tmpfs and FUSE"
[ -c /dev/fuse ] || need "no /dev/fuse (FUSE not available)"
for tool in fusermount3:fuse3 timeout:coreutils sha256sum:coreutils awk:mawk; do
	command -v "${tool%%:*}" >/dev/null || need "${tool%%:*} not found (package ${tool#*:})"
done
[ -x "$BIN" ] || fail "$BIN: not an executable"
BIN=$(readlink -f "$BIN")

T=$(mktemp -d /tmp/pxeimagesfs-live.XXXXXX) || fail "mktemp"
chmod 755 "$T"
CONF=$T/pxe.conf
CONF2=$T/require.conf
MP=$T/view
V=$MP/RemoteInstall/SMSImages/SMSPKG
LOG=$T/daemon.log
# C's content lives on a tmpfs at $T/store and is bind-mounted at $T/c, so that it survives
# `umount $T/c`; C spells the images path differently from the view (and from D)
CDATA=$T/store/cdata/remoteinstall/SMSImages/smspkg
CDIR=$T/c/remoteinstall/SMSImages/smspkg
DDIR=$T/d/RemoteInstall/SMSImages/SMSPKG
# the status file: <run directory>/<mountpoint as systemd-escape --path gives it>.json
m=${MP#/}
m=${m//-/\\x2d} # as systemd-escape --path: "-" is \x2d, then "/" is "-"
STATUS=$T/run/${m//\//-}.json
PIDS=()   # `mount -f` processes started here
VIEW_PID= # the one serving the view now
WATCHDOG=

# --- helpers -------------------------------------------------------------------------------

# mounts_under, mounts_at, view_mounted, wait_mounted: lib.sh

# wait_for SECONDS CMD...: until CMD succeeds, polling every 50 ms; 1 when time is up
wait_for() {
	local i n=$(($1 * 20))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# pids of pxeimagesfs processes running with one of this run's configs
our_daemons() {
	local p cmd
	for p in /proc/[0-9]*; do
		[ "$p/exe" -ef "$BIN" ] || continue # the same file (stat, no fork per process)
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		case " $cmd " in *" $CONF "* | *" $CONF2 "*) echo "${p#/proc/}" ;; esac
	done
}

# Ends every FUSE connection of ours so that nothing waits on a hung daemon.
abort_views() {
	local majmin pid
	while read -r majmin _; do
		if [ -w "/sys/fs/fuse/connections/${majmin#*:}/abort" ]; then
			echo 1 >"/sys/fs/fuse/connections/${majmin#*:}/abort"
		fi
	done < <(awk -v p="$T/" 'index($5, p) == 1 && / - fuse\.pxeimagesfs / { print $3, $5 }' \
		/proc/self/mountinfo)
	for pid in "${PIDS[@]}" $(our_daemons); do kill -KILL "$pid" 2>/dev/null; done
}

cleanup() {
	local rc=$? i pid mps=()
	exec 3<&- 4>&- 5<&-
	mapfile -t mps < <(mounts_under)
	for ((i = ${#mps[@]} - 1; i >= 0; i--)); do
		umount "${mps[i]}" 2>/dev/null || umount -l "${mps[i]}" 2>/dev/null ||
			echo "warning: cannot unmount ${mps[i]}" >&2
	done
	for pid in "${PIDS[@]}" $(our_daemons); do
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
		echo "--- last lines of the daemon's log $LOG" >&2
		tail -n 60 "$LOG" >&2
	fi
	rm -rf --one-file-system "$T"
	# only now: it also bounds a cleanup stuck on a hung daemon
	if [ -n "$WATCHDOG" ]; then kill "$WATCHDOG" 2>/dev/null; fi
}
trap cleanup EXIT

start_watchdog() {
	(
		trap 'kill "${sp:-}" 2>/dev/null; exit 0' TERM
		sleep "$LIMIT" &
		sp=$!
		wait "$sp"
		echo "FAIL: live_view: still running after ${LIMIT}s; aborting the view" >&2
		abort_views
	) &
	WATCHDOG=$!
}

sha() { sha256sum 2>/dev/null <"$1" | cut -d' ' -f1; }
listing() { ls -A "$1" 2>&1 | tr '\n' ' '; }
put() { mkdir -p "$(dirname "$1")" && printf '%s\n' "$2" >"$1"; } # put FILE LINE
listed() { ls -A "$V" 2>/dev/null | grep -qixF -- "$1"; }       # NAME in the images folder
not_listed() { ! listed "$1"; }
reads() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }   # reads FILE TEXT
reads_sha() { [ "$(sha "$1")" = "$2" ]; }            # reads_sha FILE SHA256
gone() { [ ! -e "$1" ]; }
alive() { kill -0 "$VIEW_PID" 2>/dev/null; }
now_ns() { date +%s%N; }
iso8601() { [[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2} ]]; }
# new lines of the daemon's log since line $1; its `view: ` lines (a log prefix is allowed)
log_since() { tail -n +"$(($1 + 1))" "$LOG"; }
view_lines_since() { log_since "$1" | grep -E '(^|: )view: '; }
log_lines() { wc -l <"$LOG"; }
log_has() { log_since "$1" | grep -qF -- "$2"; } # log_has LINE TEXT: TEXT logged after LINE

# json_flat: JSON on stdin -> one "path=value" line per scalar, strings unquoted, e.g.
# `generation=3`, `view.drives[1].state=online`, `degraded_reasons[0]=...`. No jq, no python.
json_flat() {
	awk '{ s = s $0 "\n" }
	function path(   p, d) {
		p = ""
		for (d = 1; d <= dep; d++)
			if (typ[d] == "o") p = p (d > 1 ? "." : "") key[d]
			else p = p "[" idx[d] "]"
		return p
	}
	END {
		n = length(s); i = 1; dep = 0
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == "{" || c == "[") {
				dep++; typ[dep] = (c == "{") ? "o" : "a"; idx[dep] = 0; key[dep] = ""
				wantkey[dep] = 1; i++
			} else if (c == "}" || c == "]") {
				dep--; i++
			} else if (c == ",") {
				idx[dep]++; wantkey[dep] = 1; i++
			} else if (c == ":") {
				wantkey[dep] = 0; i++
			} else if (c == "\"") {
				v = ""; i++
				while (i <= n && (c = substr(s, i, 1)) != "\"") {
					if (c == "\\") {
						i++; c = substr(s, i, 1)
						if (c == "n" || c == "t" || c == "u" || c == "r") c = "\\" c
					}
					v = v c; i++
				}
				i++
				if (typ[dep] == "o" && wantkey[dep]) key[dep] = v
				else print path() "=" v
			} else if (index(" \t\r\n", c)) {
				i++
			} else {
				v = ""
				while (i <= n && !index(",}] \t\r\n", c = substr(s, i, 1))) { v = v c; i++ }
				print path() "=" v
			}
		}
	}'
}
# jget FILE KEY: the value at KEY (json_flat spelling) of the JSON in FILE
jget() {
	json_flat <"$1" 2>/dev/null | awk -v k="$2" '{ e = index($0, "=")
		if (substr($0, 1, e - 1) == k) { print substr($0, e + 1); exit } }'
}
# jdrive FILE NAME FIELD: FIELD of drive NAME in the status file's view.drives list
jdrive() {
	json_flat <"$1" 2>/dev/null | awk -v n="$2" -v f="$3" '
		{ e = index($0, "="); k = substr($0, 1, e - 1); val[k] = substr($0, e + 1)
		  if (k ~ /^view\.drives\[[0-9]+\]\.name$/ && val[k] == n) want = substr(k, 1, length(k) - 4) }
		END { if (want != "") print val[want f] }'
}
jcount() { json_flat <"$1" 2>/dev/null | grep -c "^$2\[[0-9]*\]="; } # jcount FILE ARRAY

# the status file as the daemon writes it (polled directly)
st_drive_is() { [ "$(jdrive "$STATUS" "$1" "$2")" = "$3" ]; } # DRIVE FIELD VALUE
st_primary_is() { [ "$(jget "$STATUS" view.view.primary)" = "$1" ]; }
st_gen_above() { local g; g=$(jget "$STATUS" generation); [[ $g =~ ^[0-9]+$ ]] && [ "$g" -gt "$1" ]; }
st_gen() { local g; g=$(jget "$STATUS" generation); echo "${g:--1}"; }
# st: `pxeimagesfs status --json` into $T/st.json, its exit status into ST_RC
st() { timeout 10 "$BIN" status -c "$CONF" --json >"$T/st.json" 2>"$T/st.err"; ST_RC=$?; }

# A check's failures are collected by tag; `report TAG TEXT` prints ok unless TAG failed.
# `fail` ends the whole check function (each runs in a subshell) when going on makes no sense.
declare -A BAD=()
bad() { local tag=$1; shift; echo "FAIL: $tag: $*" >&2; BAD[$tag]=1; }
report() { [ -z "${BAD[$1]:-}" ] && ok "$1: ${*:2}"; }
all_good() { [ ${#BAD[@]} = 0 ]; }
# jis TAG KEY WANT / jdis TAG DRIVE FIELD WANT: on the last `st` snapshot
jis() {
	local got
	got=$(jget "$T/st.json" "$2")
	[ "$got" = "$3" ] || bad "$1" "status --json: $2 is '$got', want '$3'"
}
jdis() {
	local got
	got=$(jdrive "$T/st.json" "$2" "$3")
	[ "$got" = "$4" ] || bad "$1" "status --json: drive $2: $3 is '$got', want '$4'"
}
# gen_above TAG N WHAT: the last snapshot's generation is above N
gen_above() {
	local g
	g=$(jget "$T/st.json" generation)
	[[ $g =~ ^[0-9]+$ ]] && [ "$g" -gt "$2" ] ||
		bad "$1" "status --json: generation '$g' after $3, want more than $2"
}

# config: write_conf FILE C_PRIORITY D_PRIORITY [EXTRA [global] LINE]; replaced atomically
write_conf() {
	local DRIVES
	drive_sections DRIVES "C:$T/c:$2:rw" "D:$T/d:$3"
	cat >"$1.new" <<CONF || return 1
# live_view.sh: two drives, events only (no periodic rescan during the test)
[global]
    mountpoint = $MP
    images path = RemoteInstall\\SMSImages\\SMSPKG
    mode = union
    state directory = $T/state
    run directory = $T/run
    mount timeout = 1s
    rescan interval = 1h
    require drives = no
    log level = info
${4:-}
$DRIVES
[share]
    samba = none
CONF
	mv -f "$1.new" "$1"
}

mount_c() { mount --bind "$T/store/cdata" "$T/c"; }
mount_d() { mount -t tmpfs -o size=64m,mode=755 tmpfs "$T/d"; }
# umount_retry MP: a writer may hold a file open for a moment; retry for up to 3 s
umount_retry() {
	local i
	for ((i = 0; i < 150; i++)); do
		umount "$1" 2>"$T/umount.err" && return 0
		sleep 0.02
	done
	echo "# umount $1: $(cat "$T/umount.err")" >&2
	# what of the daemon keeps it busy, to help whoever reads this
	ls -l "/proc/$VIEW_PID/fd" 2>/dev/null | grep -F "$1" | sed 's/^/# daemon fd: /' >&2
	return 1
}
bare_empty() { [ -z "$(find "$T/c" -mindepth 1 -print -quit 2>/dev/null)" ]; }

# --- drives, fixtures, config --------------------------------------------------------------

mkdir "$T/c" "$T/d" "$T/store" "$T/state" "$T/run" "$MP" "$T/never"
mount -t tmpfs -o size=64m,mode=755 tmpfs "$T/store" || need "cannot mount tmpfs"
make_fixtures() {
	mkdir -p "$CDATA/PKG00001" "$CDATA/PKG00002" "$CDATA/PKG00003"
	head -c $((4 * 1024 * 1024)) /dev/urandom >"$CDATA/PKG00001/boot.PKG00001.wim"
	printf 'C notes\n' >"$CDATA/PKG00001/notes.txt"
	head -c 65536 /dev/urandom >"$CDATA/PKG00002/boot.PKG00002.wim"
	head -c 65536 /dev/urandom >"$CDATA/PKG00003/boot.PKG00003.wim"
	head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$T/store/d-copy.wim" # D's PKG00001, later
}
(set -e; make_fixtures) # not in an `||` list, where set -e would be off
# shellcheck disable=SC2181
[ $? = 0 ] || fail "setting up the fixtures"
BIG_SHA=$(sha "$CDATA/PKG00001/boot.PKG00001.wim")
DBIG_SHA=$(sha "$T/store/d-copy.wim")
P2_SHA=$(sha "$CDATA/PKG00002/boot.PKG00002.wim")
P3_SHA=$(sha "$CDATA/PKG00003/boot.PKG00003.wim")
mount_c || need "cannot bind-mount $T/store/cdata on $T/c"
write_conf "$CONF" 10 20 || fail "writing $CONF"

# --- the checks (each runs in a subshell: `fail` ends only that check) ---------------------

# KB 947683 live, with open files, st_ino and the status file along the way
check_kb947683() {
	local g n p i ino inos=() paths=(. PKG00001 PKG00001/boot.PKG00001.wim PKG00001/notes.txt
		PKG00002/boot.PKG00002.wim PKG00003/boot.PKG00003.wim)

	# -- start: C online, D a bare directory; the daemon waited 1 s for D, then went on
	wait_for 5 test -s "$STATUS" || bad status "no status file $STATUS 5 s after the mount"
	[ "$(listing "$MP")" = "RemoteInstall " ] ||
		bad startup "the view root lists '$(listing "$MP")', want only RemoteInstall"
	listed PKG00001 && listed PKG00002 && listed PKG00003 ||
		bad startup "C's packages not all listed: '$(listing "$V")'"
	reads_sha "$V/PKG00001/boot.PKG00001.wim" "$BIG_SHA" || bad startup "PKG00001 is not C's"
	grep -w D "$LOG" | grep -qiE 'offline|warn' ||
		bad startup "no warning naming the offline drive D in the log after the mount timeout"
	st
	[ "$ST_RC" = 1 ] || bad status "status with D offline exited $ST_RC, want 1 (degraded)"
	jis status schema 1
	jis status pid "$VIEW_PID"
	jis status mountpoint "$MP"
	jis status config "$CONF"
	jis status mode union
	jis status healthy false
	jdis status C state online
	jdis status D state offline
	jis status view.view.primary C
	iso8601 "$(jget "$T/st.json" started)" ||
		bad status "status --json: started '$(jget "$T/st.json" started)' is not ISO-8601"
	[ "$(jcount "$T/st.json" degraded_reasons)" -ge 1 ] ||
		bad status "status --json: no degraded_reasons while D is offline"
	json_flat <"$T/st.json" | grep '^degraded_reasons\[' | grep -qw D ||
		bad status "status --json: no degraded reason names D: $(grep -A3 degraded "$T/st.json")"
	[ "$(jget "$STATUS" pid)" = "$VIEW_PID" ] || bad status "$STATUS does not name pid $VIEW_PID"
	g=$(jget "$T/st.json" generation)
	[[ $g =~ ^[0-9]+$ ]] || { bad status "status --json: generation '$g' is not a number"; g=0; }
	timeout 10 "$BIN" status -c "$CONF" >"$T/human.txt" 2>&1
	n=$?
	[ "$n" = 1 ] && grep -qw D "$T/human.txt" ||
		bad status "status (for people) exited $n, want 1, naming D: $(cat "$T/human.txt")"
	report startup "D not mounted: after the mount timeout the view serves C, degraded, with a warning"

	for p in "${paths[@]}"; do inos+=("$(stat -c %i "$V/$p")"); done

	# -- a reader and an appender on C's files, opened before the switch
	exec 3<"$V/PKG00001/boot.PKG00001.wim" || fail "open-files: cannot open boot.PKG00001.wim"
	exec 4>>"$V/PKG00001/notes.txt" || fail "open-files: cannot open notes.txt for appending"
	dd bs=1M count=1 iflag=fullblock status=none <&3 >"$T/read.bin" ||
		bad open-files "reading the first MiB failed"

	# -- "reinstall on D": an empty images folder on a new drive D (priority 20)
	n=$(log_lines)
	mount_d || fail "kb947683: cannot mount a tmpfs on $T/d"
	mkdir -p "$DDIR" || fail "kb947683: mkdir $DDIR"
	wait_for 5 st_primary_is D ||
		bad status "5 s after D came online with the images folder the status file says" \
			"primary '$(jget "$STATUS" view.view.primary)', D '$(jdrive "$STATUS" D state)'"
	st
	[ "$ST_RC" = 0 ] || bad status "status with C and D online exited $ST_RC, want 0"
	jdis status D state online
	jdis status D holds_images true
	jdis status D primary true
	jis status view.view.primary D
	jis status healthy true
	gen_above status "$g" "D came online"
	g=$(jget "$T/st.json" generation)
	[ -n "$(jget "$T/st.json" last_change.cause)" ] || bad status "status --json: no last_change.cause"
	iso8601 "$(jget "$T/st.json" last_change.time)" || bad status "last_change.time not ISO-8601"
	[ "$(jcount "$T/st.json" degraded_reasons)" = 0 ] ||
		bad status "status --json: degraded_reasons with every drive online: $(grep -A3 degraded "$T/st.json")"
	view_lines_since "$n" | grep -qw D ||
		bad kb947683 "no 'view: ' log line names D after it came online; new log: $(log_since "$n")"
	view_lines_since "$n" | grep -q primary ||
		bad kb947683 "no 'view: ' log line names the primary change C -> D: $(view_lines_since "$n")"
	view_lines_since "$n" | sed 's/^/# /'
	listed PKG00001 && listed PKG00002 && listed PKG00003 ||
		bad kb947683 "D online: C's packages not all listed: '$(listing "$V")'"
	reads_sha "$V/PKG00002/boot.PKG00002.wim" "$P2_SHA" || bad kb947683 "PKG00002 no longer C's"
	mkdir "$V/PKGNEW01" && echo "new on D" >"$V/PKGNEW01/new.txt" ||
		bad kb947683 "cannot create PKGNEW01/new.txt through the view"
	echo "added on D" >"$V/PKG00002/added-on-d.txt" ||
		bad kb947683 "cannot create PKG00002/added-on-d.txt (PKG00002 only on C) through the view"
	reads "$DDIR/PKGNEW01/new.txt" "new on D" && reads "$DDIR/PKG00002/added-on-d.txt" "added on D" ||
		bad kb947683 "new files did not land on the new primary D: D has $(find "$T/d" -type f | tr '\n' ' ')"
	gone "$CDATA/PKGNEW01" && gone "$CDATA/PKG00002/added-on-d.txt" ||
		bad kb947683 "a new file landed on C, not on the primary D"
	report kb947683 "D online with an empty images folder: C's packages still served, new files land on D"

	# -- the open files keep C's file across D coming online and the primary change ...
	dd bs=1M count=1 iflag=fullblock status=none <&3 >>"$T/read.bin" ||
		bad open-files "reading the second MiB after D came online failed"
	[ "$(sha "$T/read.bin")" = "$(head -c 2097152 "$CDATA/PKG00001/boot.PKG00001.wim" | sha256sum |
		cut -d' ' -f1)" ] || bad open-files "the first 2 MiB read through the open descriptor are" \
		"not C's: $(cmp "$T/read.bin" "$CDATA/PKG00001/boot.PKG00001.wim" 2>&1)"
	printf 'appended after D came online\n' >&4 ||
		bad open-files "appending to the open notes.txt after D came online failed"
	[ "$(cat "$CDATA/PKG00001/notes.txt")" = "C notes
appended after D came online" ] || bad open-files "C's notes.txt is" \
		"'$(cat "$CDATA/PKG00001/notes.txt")' after appending through the descriptor opened before"
	report open-files "a reader and an appender opened on C keep C's files across D coming online" \
		"and the primary change C -> D"

	# -- ... and even once D, ranked first, gets its own copy of the same names
	mkdir -p "$DDIR/PKG00001" && cp "$T/store/d-copy.wim" "$DDIR/PKG00001/boot.PKG00001.wim" &&
		printf 'D notes\n' >"$DDIR/PKG00001/notes.txt" || fail "open-files: writing D's copies"
	dd bs=1M count=1 iflag=fullblock status=none <&3 >>"$T/read.bin" ||
		bad open-files-shadowed "reading the third MiB after D got its own copy failed"
	printf 'appended after D got a copy\n' >&4 ||
		bad open-files-shadowed "appending to the open notes.txt after D got a copy failed"
	cat <&3 >>"$T/read.bin" || bad open-files-shadowed "reading the rest failed" # cat fstat()s fd 3
	exec 3<&- 4>&-
	[ "$(sha "$T/read.bin")" = "$BIG_SHA" ] ||
		bad open-files-shadowed "what the descriptor opened on C read ($(stat -c %s "$T/read.bin") bytes;" \
			"C's file has 4194304, D's copy $(stat -c %s "$T/store/d-copy.wim")) is not C's" \
			"boot.PKG00001.wim: $(cmp "$T/read.bin" "$CDATA/PKG00001/boot.PKG00001.wim" 2>&1)"
	[ "$(cat "$CDATA/PKG00001/notes.txt")" = "C notes
appended after D came online
appended after D got a copy" ] || bad open-files-shadowed "C's notes.txt is" \
		"'$(cat "$CDATA/PKG00001/notes.txt")' after appending through the descriptor opened before"
	reads "$DDIR/PKG00001/notes.txt" "D notes" ||
		bad open-files-shadowed "D's notes.txt changed: '$(cat "$DDIR/PKG00001/notes.txt")'"
	wait_for 5 reads_sha "$V/PKG00001/boot.PKG00001.wim" "$DBIG_SHA" ||
		bad open-files-shadowed "5 s after D got its copy, a new open still does not read it (D ranks first)"
	report open-files-shadowed "descriptors opened on C keep reading and appending to C's files" \
		"after D (ranked first) got copies of the same names; new opens get D's"

	# -- C unmounted: the view shows D only; nothing lands in the bare $T/c
	n=$(log_lines)
	umount_retry "$T/c" || fail "kb947683: umount $T/c failed: the daemon keeps C busy?"
	wait_for 5 not_listed PKG00003 ||
		bad kb947683 "5 s after umount $T/c, C's PKG00003 is still listed: '$(listing "$V")'"
	wait_for 5 gone "$V/PKG00003/boot.PKG00003.wim" ||
		bad kb947683 "5 s after umount $T/c, PKG00003/boot.PKG00003.wim can still be looked up"
	[ "$(ls -A "$V" 2>&1 | sort)" = "$(ls -A "$DDIR" | sort)" ] ||
		bad kb947683 "with C unmounted the view lists '$(listing "$V")', D has '$(listing "$DDIR")'"
	[ "$(listing "$V/PKG00002")" = "added-on-d.txt " ] ||
		bad kb947683 "PKG00002 lists '$(listing "$V/PKG00002")', want only D's added-on-d.txt"
	reads_sha "$V/PKG00001/boot.PKG00001.wim" "$DBIG_SHA" ||
		bad kb947683 "PKG00001/boot.PKG00001.wim does not fall through to D's copy"
	wait_for 5 st_drive_is C state offline || bad status "5 s after umount C the status file has C online"
	st
	[ "$ST_RC" = 1 ] || bad status "status with C unmounted exited $ST_RC, want 1"
	jdis status C state offline
	jdis status D state online
	jis status view.view.primary D
	jis status healthy false
	gen_above status "$g" "C was unmounted"
	g=$(jget "$T/st.json" generation)
	view_lines_since "$n" | grep -qw C ||
		bad kb947683 "no 'view: ' log line names C after its umount; new log: $(log_since "$n")"
	view_lines_since "$n" | sed 's/^/# /'
	echo "after C" >"$V/PKG00002/after-c.txt" && mkdir "$V/PKGNEW02" &&
		echo "after C" >"$V/PKGNEW02/f.txt" && echo "after C" >"$V/after-c.txt" ||
		bad kb947683 "writing through the view with C unmounted failed"
	reads "$DDIR/PKG00002/after-c.txt" "after C" && reads "$DDIR/PKGNEW02/f.txt" "after C" &&
		reads "$DDIR/after-c.txt" "after C" || bad kb947683 "files written with C unmounted are not on D"
	bare_empty || bad kb947683 "written into the bare mountpoint directory $T/c:" \
		"$(find "$T/c" -mindepth 1 | head -5 | tr '\n' ' ')"
	report kb947683 "C unmounted: only D's content is served, new files land on D, the bare $T/c stays empty"

	# -- C mounted again: its packages reappear
	n=$(log_lines)
	mount_c || fail "kb947683: bind-mounting C again failed"
	wait_for 5 listed PKG00003 || bad kb947683 "5 s after C came back PKG00003 is not listed"
	wait_for 5 reads_sha "$V/PKG00003/boot.PKG00003.wim" "$P3_SHA" ||
		bad kb947683 "PKG00003/boot.PKG00003.wim is not C's after C came back"
	[ "$(listing "$V/PKG00002")" = "added-on-d.txt after-c.txt boot.PKG00002.wim " ] ||
		bad kb947683 "PKG00002 (C and D) lists '$(listing "$V/PKG00002")'"
	reads_sha "$V/PKG00001/boot.PKG00001.wim" "$DBIG_SHA" || bad kb947683 "PKG00001: D's copy no longer wins"
	wait_for 5 st_drive_is C state online || bad status "5 s after C came back the status file has C offline"
	st
	[ "$ST_RC" = 0 ] || bad status "status with C back exited $ST_RC, want 0"
	jdis status C state online
	jdis status C in_view true
	jis status view.view.primary D
	jis status healthy true
	gen_above status "$g" "C came back"
	view_lines_since "$n" | grep -qw C ||
		bad kb947683 "no 'view: ' log line names C after it came back; new log: $(log_since "$n")"
	view_lines_since "$n" | sed 's/^/# /'
	report kb947683 "C mounted again: its packages reappear, merged with D's"

	for ((i = 0; i < ${#paths[@]}; i++)); do
		ino=$(stat -c %i "$V/${paths[i]}")
		[ "$ino" = "${inos[i]}" ] ||
			bad inodes "${paths[i]}: st_ino ${inos[i]} served by C, now $ino after C -> D -> C"
	done
	report inodes "st_ino of $((${#paths[@]})) paths kept across D coming online, C leaving and returning"
	report status "generation, drive states and primary follow each step; status exits 1, 0, 1, 0"
	all_good
}

# SIGHUP: a broken config is refused and the old one kept; a good one applies live
check_sighup() {
	local g n l1 l2 got
	st_drive_is C state online && st_drive_is D state online || fail "sighup: C and D not both online"
	put "$CDIR/PKGBOTH/which.txt" "C's copy" && put "$DDIR/PKGBOTH/which.txt" "D's copy" ||
		fail "sighup: writing PKGBOTH on the drives"
	wait_for 5 reads "$V/PKGBOTH/which.txt" "D's copy" ||
		fail "sighup: PKGBOTH/which.txt reads '$(cat "$V/PKGBOTH/which.txt" 2>&1)', want D's (20 > 10)"
	exec 5<"$V/PKGBOTH/which.txt" || fail "sighup: cannot open which.txt"
	g=$(st_gen)

	n=$(log_lines)
	write_conf "$CONF" 10 high "    bogus key = 1" || fail "sighup: writing the broken config"
	l1=$(grep -n 'bogus key' "$CONF" | cut -d: -f1)
	l2=$(grep -n 'priority = high' "$CONF" | cut -d: -f1)
	kill -HUP "$VIEW_PID"
	wait_for 5 log_has "$n" "keeping the previous configuration" ||
		bad sighup-broken "no 'keeping the previous configuration' in the log 5 s after SIGHUP;" \
			"new log: $(log_since "$n")"
	alive || fail "sighup: the daemon died on SIGHUP with a broken config"
	log_since "$n" | grep -qF "$CONF:$l1:" ||
		bad sighup-broken "the log does not name $CONF:$l1: (unknown key); new log: $(log_since "$n")"
	log_since "$n" | grep -qF "$CONF:$l2:" ||
		bad sighup-broken "the log does not name $CONF:$l2: (bad priority); new log: $(log_since "$n")"
	log_since "$n" | sed 's/^/# /'
	sleep 0.3
	reads "$V/PKGBOTH/which.txt" "D's copy" ||
		bad sighup-broken "after the refused config which.txt reads '$(cat "$V/PKGBOTH/which.txt")'"
	st_primary_is D && st_drive_is D priority 20 ||
		bad sighup-broken "the status file changed: primary '$(jget "$STATUS" view.view.primary)'," \
			"D priority '$(jdrive "$STATUS" D priority)'"
	report sighup-broken "a broken config: every file:line: error logged, the previous configuration kept"

	n=$(log_lines)
	write_conf "$CONF" 30 20 || fail "sighup: writing the good config"
	kill -HUP "$VIEW_PID"
	wait_for 5 st_primary_is C ||
		bad sighup "5 s after SIGHUP (C 30, D 20) the status file says primary" \
			"'$(jget "$STATUS" view.view.primary)', want C"
	# the descriptor opened on D's copy before the swap keeps D's copy
	got=$(cat <&5)
	[ "$got" = "D's copy" ] || bad sighup "which.txt opened before the swap reads '$got', want D's copy"
	exec 5<&-
	wait_for 5 reads "$V/PKGBOTH/which.txt" "C's copy" ||
		bad sighup "5 s after the swap which.txt reads '$(cat "$V/PKGBOTH/which.txt" 2>&1)', want C's copy"
	view_mounted "$MP" || bad sighup "the view is no longer mounted"
	alive || fail "sighup: the daemon died on SIGHUP with a good config"
	st
	[ "$ST_RC" = 0 ] || bad sighup "status after the swap exited $ST_RC, want 0"
	jis sighup view.view.primary C
	jdis sighup C priority 30
	jdis sighup C primary true
	jdis sighup D primary false
	gen_above sighup "$g" "the priority swap"
	view_lines_since "$n" | grep -q primary ||
		bad sighup "no 'view: ' log line names the primary change D -> C; new log: $(log_since "$n")"
	view_lines_since "$n" | sed 's/^/# /'
	echo "after HUP" >"$V/PKGBOTH/after-hup.txt" || bad sighup "cannot create a file after the swap"
	reads "$CDIR/PKGBOTH/after-hup.txt" "after HUP" && gone "$DDIR/PKGBOTH/after-hup.txt" ||
		bad sighup "a new file did not land on the new primary C"
	report sighup "a good config swapping the priorities (C 30, D 20): C wins live, no remount"
	all_good
}

# Writes racing the unmount of the primary C: each one lands on C (before) or D (after) or
# fails; none reaches the bare $T/c, none that succeeded is lost.
check_offline_writes() {
	local wpid i lost=() n
	st_primary_is C || fail "offline-writes: C is not the primary (see sighup)"
	rm -f "$T/race.ok"
	(
		for ((i = 1; i <= 300; i++)); do
			if echo "race $i" >"$V/race-$i.txt"; then echo "$i" >>"$T/race.ok"; fi
			sleep 0.005
		done
	) 2>/dev/null &
	wpid=$!
	sleep 0.3
	umount_retry "$T/c" || bad offline-writes "umount $T/c (the primary) under writes failed"
	wait "$wpid"
	bare_empty || bad offline-writes "written into the bare mountpoint directory $T/c:" \
		"$(find "$T/c" -mindepth 1 | head -5 | tr '\n' ' ')"
	n=0
	while read -r i; do
		n=$((n + 1))
		reads "$CDATA/race-$i.txt" "race $i" || reads "$DDIR/race-$i.txt" "race $i" || lost+=("$i")
	done <"$T/race.ok"
	[ ${#lost[@]} = 0 ] ||
		bad offline-writes "${#lost[@]} of $n writes that succeeded are on neither C nor D: ${lost[*]:0:10}"
	[ -f "$DDIR/race-300.txt" ] || bad offline-writes "the last write (after the umount) is not on D"
	echo "# offline-writes: $n of 300 creates succeeded, $(find "$CDATA" -maxdepth 1 -name 'race-*' |
		wc -l) on C, $(find "$DDIR" -maxdepth 1 -name 'race-*' | wc -l) on D"
	wait_for 5 st_primary_is D || bad offline-writes "5 s after C left the primary is not D"
	if [ -z "$(mounts_at "$T/c")" ]; then
		mount_c || fail "offline-writes: bind-mounting C again failed"
	fi
	wait_for 5 listed PKG00003 || bad offline-writes "5 s after C came back PKG00003 is not listed"
	wait_for 5 st_primary_is C || bad offline-writes "5 s after C came back it is not the primary"
	report offline-writes "creates racing the umount of the primary C land on C or D, never in the bare $T/c"
	all_good
}

check_sigusr1() {
	local g i
	g=$(st_gen)
	for i in 1 2 3; do
		kill -USR1 "$VIEW_PID" || fail "sigusr1: kill -USR1 $VIEW_PID"
		sleep 0.1
	done
	sleep 0.5
	alive || fail "sigusr1: the daemon died on SIGUSR1"
	view_mounted "$MP" || fail "sigusr1: the view is no longer mounted"
	reads_sha "$V/PKG00003/boot.PKG00003.wim" "$P3_SHA" || bad sigusr1 "PKG00003 unreadable after SIGUSR1"
	echo usr1 >"$V/PKGBOTH/usr1.txt" && reads "$CDIR/PKGBOTH/usr1.txt" usr1 ||
		bad sigusr1 "writing through the view after SIGUSR1 failed"
	[ "$(st_gen)" -ge "$g" ] || bad sigusr1 "the generation went down: $g, now $(st_gen)"
	report sigusr1 "SIGUSR1 (a rescan, three times) keeps the daemon and the view working"
	all_good
}

# Switch latency: D unmounted, then a tmpfs mounted on $T/d whose images folder appears by a
# rename with a marker inside; time until the marker is visible through the view.
check_latency() {
	local i j t0 t1 samples=() sorted prev=PKGNEW01 stage
	for ((i = 1; i <= 5; i++)); do
		umount_retry "$T/d" || fail "latency: umount $T/d (sample $i)"
		wait_for 5 gone "$V/$prev" || fail "latency: 5 s after umount $T/d, D's $prev is still visible"
		# each sample starts from a published "D offline"
		wait_for 5 st_drive_is D state offline ||
			bad latency "sample $i: 5 s after umount $T/d the status file still has D online"
		t0=$(now_ns)
		mount_d || fail "latency: mounting a tmpfs on $T/d"
		stage=$T/d/.stage
		mkdir -p "$stage/RemoteInstall/SMSImages/SMSPKG" &&
			echo "$i" >"$stage/RemoteInstall/SMSImages/SMSPKG/LAT$i.marker" &&
			mv "$stage/RemoteInstall" "$T/d/RemoteInstall" || fail "latency: preparing D's images folder"
		for ((j = 0; j < 500; j++)); do
			[ -e "$V/LAT$i.marker" ] && break
			sleep 0.01
		done
		t1=$(now_ns)
		[ -e "$V/LAT$i.marker" ] || fail "latency: sample $i: LAT$i.marker on D not visible within 5 s"
		samples+=("$(((t1 - t0) / 1000000))")
		prev=LAT$i.marker
	done
	mapfile -t sorted < <(printf '%s\n' "${samples[@]}" | sort -n)
	echo "live_view: switch latency median ${sorted[2]} ms (samples: ${samples[*]})"
	reads "$V/LAT5.marker" 5 || bad latency "LAT5.marker reads '$(cat "$V/LAT5.marker" 2>&1)'"
	report latency "5 mounts of D seen through the view, each within 5 s"
	all_good
}

check_status_healthy() {
	local n k v counted
	wait_for 5 st_drive_is D state online || bad status-final "D not online in the status file"
	st
	[ "$ST_RC" = 0 ] || bad status-final "status with C and D online exited $ST_RC, want 0"
	jis status-final healthy true
	jdis status-final C state online
	jdis status-final D state online
	jdis status-final D holds_images true
	[ "$(jcount "$T/st.json" degraded_reasons)" = 0 ] || bad status-final "degraded_reasons not empty"
	# in passthrough the kernel reads and writes the drives itself: the daemon counts opens
	if [ "$(jget "$T/st.json" passthrough.active)" = true ]; then
		counted="opens passthrough_opens"
	else
		counted="opens reads bytes_read bytes_written"
	fi
	for k in $counted; do
		v=$(jget "$T/st.json" "counters.$k")
		[[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ] || bad status-final "counters.$k is '$v', want > 0"
	done
	v=$(jget "$T/st.json" counters.errors)
	[[ $v =~ ^[0-9]+$ ]] || bad status-final "counters.errors is '$v', want a number"
	timeout 10 "$BIN" status -c "$CONF" >"$T/human.txt" 2>&1
	n=$?
	[ "$n" = 0 ] && [ -s "$T/human.txt" ] ||
		bad status-final "status (for people) exited $n, want 0: $(cat "$T/human.txt")"
	timeout 10 "$BIN" status -c "$CONF" --json "$MP" >/dev/null 2>&1
	n=$?
	[ "$n" = 0 ] || bad status-final "status --json $MP exited $n, want 0"
	report status-final "all configured drives online with the images: status exits 0, counters counted"
	all_good
}

# Not in a subshell: `wait` needs the parent. Returns 1 on failure.
check_sigterm() {
	local i rc
	kill -TERM "$VIEW_PID"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$VIEW_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$VIEW_PID" 2>/dev/null; then
		echo "FAIL: sigterm: mount -f still running 10 s after SIGTERM" >&2
		return 1
	fi
	wait "$VIEW_PID"
	rc=$?
	PIDS=() VIEW_PID=
	[ "$rc" = 0 ] || { echo "FAIL: sigterm: mount -f exited $rc after SIGTERM, want 0" >&2; return 1; }
	[ -z "$(mounts_at "$MP")" ] || { echo "FAIL: sigterm: $MP still mounted" >&2; return 1; }
	[ ! -e "$STATUS" ] || { echo "FAIL: sigterm: $STATUS left behind after a clean exit" >&2; return 1; }
	timeout 10 "$BIN" status -c "$CONF" >"$T/human.txt" 2>&1
	rc=$?
	[ "$rc" = 2 ] ||
		{ echo "FAIL: sigterm: status exited $rc, want 2 (not running): $(cat "$T/human.txt")" >&2; return 1; }
	timeout 10 "$BIN" status -c "$CONF" --json >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || { echo "FAIL: sigterm: status --json exited $rc, want 2" >&2; return 1; }
	ok "sigterm: mount -f exits 0, unmounted, status file removed, status exits 2"
}

check_require_drives() {
	local rc before out DRIVES
	drive_sections DRIVES "C:$T/c:10" "NEVER:$T/never:20"
	cat >"$CONF2" <<CONF
[global]
    mountpoint = $T/view2
    images path = RemoteInstall\\SMSImages\\SMSPKG
    state directory = $T/state2
    run directory = $T/run2
    mount timeout = 1s
    require drives = yes
$DRIVES
[share]
    samba = none
CONF
	before=$(mounts_under | wc -l)
	timeout 20 "$BIN" mount -c "$CONF2" -f >"$T/require.log" 2>&1 </dev/null
	rc=$?
	out=$(cat "$T/require.log")
	[ "$rc" = 2 ] || fail "require-drives: mount -f exited $rc, want 2 ($out)"
	grep -qwF -e NEVER -e "$T/never" <<<"$out" ||
		fail "require-drives: the message does not name the drive NEVER: '$out'"
	[ -z "$(mounts_at "$T/view2")" ] && [ "$(mounts_under | wc -l)" = "$before" ] ||
		fail "require-drives: something got mounted: $(mounts_under | tr '\n' ' ')"
	[ -z "$(find "$T/run2" -name '*.json' 2>/dev/null)" ] || fail "require-drives: a status file was left"
	printf '# %s\n' "${out//$'\n'/$'\n'# }"
	ok "require-drives: a configured drive offline after the mount timeout: exit 2 naming it, nothing mounted"
}

# --- run -----------------------------------------------------------------------------------

"$BIN" mount -c "$CONF" -f >"$LOG" 2>&1 </dev/null &
VIEW_PID=$!
PIDS+=("$VIEW_PID")
start_watchdog
wait_mounted "$MP" "$VIEW_PID" ||
	fail "no fuse.pxeimagesfs mount at $MP within 10 s (mounted there: '$(mounts_at "$MP")')"
[ -d "$V" ] || fail "$V is not a directory in the mounted view"

FAILED=()
for check in kb947683 sighup offline_writes sigusr1 latency status_healthy; do
	("check_$check") || FAILED+=("$check")
	alive || fail "the daemon (pid $VIEW_PID) died during '$check' (failed so far: ${FAILED[*]:-none})"
done
check_sigterm || FAILED+=(sigterm)
(check_require_drives) || FAILED+=(require_drives)
[ ${#FAILED[@]} = 0 ] || fail "live_view: ${#FAILED[@]} check(s) failed: ${FAILED[*]}"
echo "live_view: all checks passed"
