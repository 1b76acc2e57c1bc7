/* status_cmd.c -- `pxeimagesfs status`: the running view's live state.
 *
 * Reads the status file the daemon writes (<run directory>/<escaped mountpoint>.json,
 * cfg_status_path) as untrusted data: only a regular file, not through a symlink,
 * never blocking, at most STATUS_MAX bytes, every field checked for its type and range
 * before anything is believed; then checks that the daemon is alive and the view
 * mounted, and probes the view as a client would: statfs of the mountpoint and a
 * stat of its images folder, in a child process given PROBE_MS (a stopped or hung
 * daemon blocks whoever touches the view: the child is killed, `status` never
 * waits longer). Never stats the mountpoint itself. Changes nothing.
 * Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "status_probe.h"
#include "resolver.h"

#define STATUS_MAX   (1024 * 1024) /* a real one is a few KiB */
#define STATUS_DEPTH 16            /* JSON nesting */
#define PID_LIMIT    4194304       /* the kernel's PID_MAX_LIMIT */


enum { ST_HEALTHY = 0, ST_DEGRADED = 1, ST_NOT_RUNNING = 2, ST_UNKNOWN = 3, ST_NOT_RESPONDING = 4 };

static const char *const st_words[] = {"healthy", "degraded", "not running", "unknown",
                                       "not responding"};

static void status_usage(FILE *out)
{
	fprintf(out,
	        "usage: pxeimagesfs status [-c FILE] [--json] [MOUNTPOINT]\n\n"
	        "Show the live state of the view mounted at MOUNTPOINT (default: the config's\n"
	        "mountpoint): drives, primary, last change, counters. With MOUNTPOINT and no\n"
	        "-c, a missing or broken configuration file means the default run directory.\n"
	        "  -c, --config FILE  configuration (default: $%s, else %s)\n"
	        "  -j, --json         print the status file (JSON, schema 1)\n\n"
	        "exit status: 0 healthy, 1 degraded (a configured drive offline, no images,\n"
	        "             the share not exported or its smbd down, the primary drive not\n"
	        "             answering), 2 not running (no status file, the daemon is gone,\n"
	        "             or nothing is mounted there), 3 unknown: the status file is\n"
	        "             corrupt or cannot be read (it says whether a view is mounted\n"
	        "             there), 4 not responding: the view did not answer a statfs and a\n"
	        "             stat of its images folder within %d s (a stopped or hung daemon)\n"
	        "With --json a JSON object is printed in every case (\"status\" names it).\n",
	        CFG_ENV_PATH, CFG_DEFAULT_PATH, STATUS_PROBE_MS / 1000);
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* KEY of O as text for a terminal: control characters shown as '?'. */
static const char *jtext(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v = jget(o, key);
	const char *s = v ? json_object_get_string(v) : "";
	size_t n = 0;

	for (; s && *s && n + 1 < len; s++, n++) {
		buf[n] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	}
	buf[n] = '\0';
	return buf;
}

static bool mounted_view(const char *mp)
{
	struct rsv_mount *m = NULL;
	size_t n = 0;
	bool found = false;

	if (rsv_sys_real()->ops->mounts(NULL, &m, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			found |= strcmp(m[i].target, mp) == 0 &&
			         !strcmp(m[i].fstype, "fuse.pxeimagesfs");
		}
	}
	rsv_mounts_free(m, n);
	return found;
}

/* ---- reading: a bounded read of a regular file ------------------------------------- */

static const char *kind_of(mode_t mode)
{
	return S_ISLNK(mode)    ? "a symbolic link"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISDIR(mode)  ? "a folder"
	       : S_ISSOCK(mode) ? "a socket"
	                        : "a device";
}

/* PATH's bytes into *buf (NUL-terminated, *n of them): 0, -ENOENT when there is no
 * file, else -1 with why in WHY. */
static int read_bounded(const char *path, char **buf, size_t *n, char *why, size_t len)
{
	struct stat ln;
	struct stat st;
	ssize_t got = 0;
	int fd = -1;

	if (lstat(path, &ln) < 0) {
		return errno == ENOENT
		           ? -ENOENT
		           : (snprintf(why, len, "cannot read it: %s", strerror(errno)), -1);
	}
	if (!S_ISREG(ln.st_mode)) {
		return snprintf(why, len, "not a regular file but %s", kind_of(ln.st_mode)), -1;
	}
	if (ln.st_size > STATUS_MAX) {
		return snprintf(why, len, "%lld bytes, more than a status file ever holds (%d)",
		                (long long)ln.st_size, STATUS_MAX),
		       -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != ln.st_ino ||
	    st.st_dev != ln.st_dev) {
		snprintf(why, len, "cannot read it: %s",
		         fd < 0 ? strerror(errno) : "it was replaced while opened (try again)");
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	*buf = malloc(STATUS_MAX + 2);
	*n = 0;
	while (
	    *buf && *n <= STATUS_MAX &&
	    ((got = read(fd, *buf + *n, STATUS_MAX + 1 - *n)) > 0 || (got < 0 && errno == EINTR))) {
		*n += got > 0 ? (size_t)got : 0;
	}
	close(fd);
	if (!*buf || got < 0 || *n > STATUS_MAX) {
		snprintf(why, len, "cannot read it: %s",
		         !*buf     ? "out of memory"
		         : got < 0 ? strerror(errno)
		                   : "it grew while read");
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[*n] = '\0';
	return 0;
}

/* BUF (N bytes) as one JSON object and nothing after it; NULL with why in WHY. */
static json_object *parse_status(const char *buf, size_t n, char *why, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(STATUS_DEPTH);
	json_object *o = NULL;
	enum json_tokener_error err = json_tokener_success;
	size_t end = 0;

	if (!tok || n == 0 || memchr(buf, '\0', n)) {
		snprintf(why, len, "%s",
		         !tok     ? "out of memory"
		         : n == 0 ? "empty"
		                  : "not text (it holds a NUL byte)");
		if (tok) {
			json_tokener_free(tok);
		}
		return NULL;
	}
	o = json_tokener_parse_ex(tok, buf, (int)n);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!o || err != json_tokener_success) {
		snprintf(why, len, "%s (at byte %zu of %zu)",
		         err == json_tokener_continue ? "truncated: the JSON ends early"
		                                      : json_tokener_error_desc(err),
		         end, n);
		json_object_put(o);
		o = NULL;
	} else if (buf[end + strspn(buf + end, " \t\r\n")] != '\0') {
		snprintf(why, len, "something follows the JSON (at byte %zu of %zu)", end, n);
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* ---- checking: every field the command believes -------------------------------------- */

/* KEY of O has type T (and is present unless OPTIONAL); else false with why in WHY. */
static bool typed(json_object *o, const char *key, enum json_type t, bool optional, char *why,
                  size_t len)
{
	json_object *v = jget(o, key);

	if (!v && optional) {
		return true;
	}
	if (!v || !json_object_is_type(v, t)) {
		snprintf(why, len, "\"%s\" is %s, not %s", key,
		         !v ? "missing" : json_type_to_name(json_object_get_type(v)),
		         json_type_to_name(t));
		return false;
	}
	return true;
}

/* Every member of the object or array V is of type T (ints: not negative). */
static bool all_of(json_object *v, const char *what, enum json_type t, char *why, size_t len)
{
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, m)
		{
			if (!json_object_is_type(m, t) ||
			    (t == json_type_int && json_object_get_int64(m) < 0)) {
				snprintf(why, len, "\"%s.%s\" is not a count", what, k);
				return false;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!json_object_is_type(json_object_array_get_idx(v, i), t)) {
			snprintf(why, len, "\"%s\" holds %s, not only %ss", what,
			         json_type_to_name(
			             json_object_get_type(json_object_array_get_idx(v, i))),
			         json_type_to_name(t));
			return false;
		}
	}
	return true;
}

static bool check_view(json_object *st, char *why, size_t len)
{
	json_object *view = jget(st, "view");
	json_object *drives = jget(view, "drives");

	if (!typed(st, "view", json_type_object, false, why, len) ||
	    !typed(view, "drives", json_type_array, true, why, len) ||
	    (drives && !all_of(drives, "view.drives", json_type_object, why, len))) {
		return false;
	}
	for (size_t i = 0; drives && i < json_object_array_length(drives); i++) {
		json_object *d = json_object_array_get_idx(drives, i);
		if (!typed(d, "name", json_type_string, false, why, len) ||
		    !typed(d, "state", json_type_string, false, why, len)) {
			return false;
		}
	}
	return true;
}

static bool check_fields(json_object *st, char *why, size_t len)
{
	static const struct {
		const char *key;
		enum json_type type;
	} want[] = {{"schema", json_type_int},
	            {"pid", json_type_int},
	            {"mountpoint", json_type_string},
	            {"config", json_type_string},
	            {"mode", json_type_string},
	            {"generation", json_type_int},
	            {"started", json_type_string},
	            {"last_change", json_type_object},
	            {"counters", json_type_object},
	            {"healthy", json_type_boolean},
	            {"degraded_reasons", json_type_array}};
	json_object *ch = jget(st, "last_change");
	json_object *pt = jget(st, "passthrough");
	json_object *tr = jget(st, "transport");

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!typed(st, want[i].key, want[i].type, false, why, len)) {
			return false;
		}
	}
	return typed(ch, "time", json_type_string, false, why, len) &&
	       typed(ch, "cause", json_type_string, false, why, len) &&
	       typed(ch, "summary", json_type_string, false, why, len) &&
	       all_of(jget(st, "counters"), "counters", json_type_int, why, len) &&
	       all_of(jget(st, "degraded_reasons"), "degraded_reasons", json_type_string, why,
	              len) &&
	       typed(st, "written", json_type_string, true, why, len) &&
	       typed(st, "share", json_type_object, true, why, len) &&
	       typed(jget(st, "share"), "samba", json_type_string, !jget(st, "share"), why, len) &&
	       typed(jget(st, "share"), "up", json_type_boolean, true, why, len) &&
	       typed(jget(st, "share"), "restarts", json_type_int, true, why, len) &&
	       typed(jget(st, "share"), "reason", json_type_string, true, why, len) &&
	       typed(jget(st, "share"), "state", json_type_string, true, why, len) &&
	       typed(jget(st, "share"), "note", json_type_string, true, why, len) &&
	       typed(jget(st, "share"), "smbd", json_type_string, true, why, len) &&
	       typed(st, "primary_space", json_type_object, true, why, len) &&
	       typed(jget(st, "primary_space"), "free_bytes", json_type_int, true, why, len) &&
	       typed(jget(st, "primary_space"), "size_bytes", json_type_int, true, why, len) &&
	       typed(st, "passthrough", json_type_object, true, why, len) &&
	       (!pt || (typed(pt, "active", json_type_boolean, false, why, len) &&
	                typed(pt, "reason", json_type_string, true, why, len))) &&
	       typed(st, "transport", json_type_object, true, why, len) &&
	       (!tr || (typed(tr, "name", json_type_string, false, why, len) &&
	                typed(tr, "reason", json_type_string, true, why, len))) &&
	       check_view(st, why, len);
}

/* The status object ST of mountpoint MP is one a daemon could have written. */
static bool check_status(json_object *st, const char *mp, char *why, size_t len)
{
	int64_t schema = 0;
	int64_t pid = 0;
	size_t n_why = 0;

	if (!json_object_is_type(st, json_type_object)) {
		return snprintf(why, len, "not a JSON object"), false;
	}
	if (!check_fields(st, why, len)) {
		return false;
	}
	schema = json_object_get_int64(jget(st, "schema"));
	pid = json_object_get_int64(jget(st, "pid"));
	n_why = json_object_array_length(jget(st, "degraded_reasons"));
	if (schema != 1) {
		return snprintf(why, len, "schema %lld, not 1", (long long)schema), false;
	}
	if (pid < 1 || pid > PID_LIMIT) {
		return snprintf(why, len, "\"pid\" %lld is not a process id", (long long)pid),
		       false;
	}
	if (json_object_get_int64(jget(st, "generation")) < 0) {
		return snprintf(why, len, "\"generation\" is negative"), false;
	}
	if (json_object_get_boolean(jget(st, "healthy")) != (n_why == 0)) {
		return snprintf(why, len, "\"healthy\" disagrees with \"degraded_reasons\""), false;
	}
	if (strcmp(json_object_get_string(jget(st, "mountpoint")), mp) != 0) {
		char other[256];
		return snprintf(why, len, "it is the status of %s",
		                jtext(st, "mountpoint", other, sizeof(other))),
		       false;
	}
	return true;
}

/* ---- output -------------------------------------------------------------------------- */

static void print_drives(json_object *view)
{
	json_object *drives = jget(view, "drives");
	char a[128];
	char b[64];
	char c[PATH_MAX];
	char d[512];

	printf("drives:\n");
	for (size_t i = 0; drives && i < json_object_array_length(drives); i++) {
		json_object *x = json_object_array_get_idx(drives, i);
		jtext(x, "mount_path", c, sizeof(c));
		printf("  %-10s %-8s %-24s %s\n", jtext(x, "name", a, sizeof(a)),
		       jtext(x, "state", b, sizeof(b)), c[0] ? c : "-",
		       jtext(x, "reason", d, sizeof(d)));
	}
}

/* transport: io_uring | /dev/fuse[ (io_uring: why not)]; absent in older status files */
static void print_transport(json_object *tr)
{
	char name[32];
	char why[512];

	if (!tr) {
		return;
	}
	jtext(tr, "name", name, sizeof(name));
	if (strcmp(name, "dev") != 0) {
		printf("transport: %s\n", name);
	} else if (jget(tr, "reason")) {
		printf("transport: /dev/fuse (io_uring: %s)\n",
		       jtext(tr, "reason", why, sizeof(why)));
	} else {
		printf("transport: /dev/fuse\n");
	}
}

static void print_counters(json_object *st)
{
	json_object *c = jget(st, "counters");
	json_object *pt = jget(st, "passthrough");
	char v[5][32];
	char why[512];

	printf("counters: opens %s, reads %s, bytes read %s, bytes written %s, errors %s\n",
	       jtext(c, "opens", v[0], 32), jtext(c, "reads", v[1], 32),
	       jtext(c, "bytes_read", v[2], 32), jtext(c, "bytes_written", v[3], 32),
	       jtext(c, "errors", v[4], 32));
	if (pt) { /* absent in status files of older versions */
		bool on = json_object_get_boolean(jget(pt, "active"));
		printf("passthrough: %s%s (%s files opened in passthrough)\n",
		       on ? "active" : "off: ", on ? "" : jtext(pt, "reason", why, sizeof(why)),
		       jtext(c, "passthrough_opens", v[0], 32));
	}
	print_transport(jget(st, "transport"));
}

/* share: not shared | samba = system|ctdb, exported[; note] | NOT exported: why | exporting
 * | samba = private, smbd up | smbd DOWN: why (N restarts). samba = ctdb is the system
 * export plus clustering = yes and fileid: what is checked is the same (the include
 * file written, testparm, smbd reloaded); CTDB's own health is not looked at. */
static void print_share(json_object *sh)
{
	bool up = json_object_get_boolean(jget(sh, "up"));
	char samba[64];
	char state[64];
	char why[512];
	bool sys = false;
	bool ctdb = false;

	jtext(sh, "samba", samba, sizeof(samba));
	jtext(sh, "state", state, sizeof(state));
	jtext(sh, up ? "note" : "reason", why, sizeof(why));
	ctdb = strcmp(samba, "ctdb") == 0;
	sys = ctdb || strcmp(samba, "system") == 0;
	if (strcmp(samba, "none") == 0) {
		printf("share: not shared (samba = none)\n");
	} else if (sys && strcmp(state, "exporting") == 0) {
		printf("share: samba = %s, NOT exported yet: the export runs\n", samba);
	} else if (sys) {
		printf("share: samba = %s, %s%s%s\n", samba, up ? "exported" : "NOT exported",
		       why[0] ? (up ? "; " : ": ") : "", why);
		if (ctdb) {
			printf("share: checked: the include file (clustering = yes, fileid), "
			       "testparm, "
			       "smbd reloaded; not checked: CTDB itself (ctdb status)\n");
		}
	} else {
		printf("share: samba = %s, %s%s%s (%s restarts)\n", samba,
		       up ? "smbd up" : "smbd DOWN", why[0] ? (up ? "; " : ": ") : "", why,
		       jtext(sh, "restarts", state, 32));
	}
}

/* Share, free space of the primary, when written: absent in older status files. */
static void print_extra(json_object *st)
{
	json_object *sh = jget(st, "share");
	json_object *sp = jget(st, "primary_space");
	json_object *w = jget(st, "written_unix");
	char t[3][512];

	if (sh) {
		print_share(sh);
	}
	if (sp && jget(sp, "free_bytes")) {
		double f = (double)json_object_get_int64(jget(sp, "free_bytes"));
		double z = (double)json_object_get_int64(jget(sp, "size_bytes"));
		printf("primary %s: %.1f GiB free of %.1f GiB (%.0f%%)\n",
		       jtext(sp, "drive", t[0], 128), f / 1073741824.0, z / 1073741824.0,
		       z > 0 ? 100.0 * f / z : 0.0);
	} else if (sp) {
		printf("primary %s: free space unknown: %s\n", jtext(sp, "drive", t[0], 128),
		       jtext(sp, "error", t[1], sizeof(t[1])));
	}
	if (w) {
		printf("status written: %s (%lld s ago)\n", jtext(st, "written", t[0], 64),
		       (long long)(time(NULL) - json_object_get_int64(w)));
	}
}

static void print_status(json_object *st, int rc)
{
	json_object *ch = jget(st, "last_change");
	json_object *reasons = jget(st, "degraded_reasons");
	json_object *view = jget(st, "view");
	char t[6][PATH_MAX];

	printf("pxeimagesfs on %s: %s (pid %s, since %s)\n",
	       jtext(st, "mountpoint", t[0], PATH_MAX), st_words[rc], jtext(st, "pid", t[1], 32),
	       jtext(st, "started", t[2], 64));
	printf("config: %s, mode %s, view generation %s\n", jtext(st, "config", t[0], PATH_MAX),
	       jtext(st, "mode", t[1], 64), jtext(st, "generation", t[2], 32));
	jtext(jget(view, "view"), "primary", t[0], 128);
	printf("primary: %s\n", t[0][0] ? t[0] : "none (read-only)");
	printf("last change: %s, %s: %s\n", jtext(ch, "time", t[3], 64),
	       jtext(ch, "cause", t[4], 256), jtext(ch, "summary", t[5], PATH_MAX));
	print_drives(view);
	print_counters(st);
	print_extra(st);
	for (size_t i = 0; i < json_object_array_length(reasons); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(reasons, i));
		size_t n = 0;
		for (; s[n] && n + 1 < PATH_MAX; n++) {
			t[0][n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
		}
		t[0][n] = '\0';
		printf("%s: %s\n", rc == ST_NOT_RESPONDING ? "unhealthy" : "degraded", t[0]);
	}
}

/* The status file at PATH: checked into *out, or the exit status with why in WHY. */
static int load_status(const char *path, const char *mp, json_object **out, char *msg, size_t mlen)
{
	char why[512] = "";
	char *buf = NULL;
	size_t n = 0;
	int rc = read_bounded(path, &buf, &n, why, sizeof(why));

	*out = NULL;
	if (rc == -ENOENT) {
		snprintf(msg, mlen, "not running on %s (no status file %s)", mp, path);
		return ST_NOT_RUNNING;
	}
	*out = rc == 0 ? parse_status(buf, n, why, sizeof(why)) : NULL;
	free(buf);
	if (*out && !check_status(*out, mp, why, sizeof(why))) {
		json_object_put(*out);
		*out = NULL;
	}
	if (!*out) {
		snprintf(msg, mlen, "the status file %s is corrupt: %s; state unknown (%s)", path,
		         why,
		         mounted_view(mp) ? "a pxeimagesfs view is mounted there"
		                          : "no pxeimagesfs view is mounted there");
		return ST_UNKNOWN;
	}
	return 0;
}

/* --json when there is no status to show: what is known, as JSON. */
static void print_json_none(const char *mp, const char *path, int rc, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mountpoint", json_object_new_string(mp));
	json_object_object_add(o, "status_file", json_object_new_string(path));
	json_object_object_add(o, "status", json_object_new_string(st_words[rc]));
	json_object_object_add(o, "healthy", json_object_new_boolean(false));
	json_object_object_add(o, "reason", json_object_new_string(why));
	printf("%s\n",
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* --json: the status file with the verdict of this look at it: "status", "healthy",
 * "probe", and a failed probe among the degraded reasons. */
static void print_json(json_object *st, int rc, bool probed, long ms, const char *why)
{
	json_object *probe = json_object_new_object();

	json_object_object_add(probe, "responding",
	                       json_object_new_boolean(probed && rc != ST_NOT_RESPONDING));
	json_object_object_add(probe, "ms", json_object_new_int64(ms));
	if (rc == ST_NOT_RESPONDING) {
		json_object_object_add(probe, "error", json_object_new_string(why));
		json_object_array_add(jget(st, "degraded_reasons"), json_object_new_string(why));
	}
	json_object_object_add(st, "probe", probe);
	json_object_object_add(st, "status", json_object_new_string(st_words[rc]));
	json_object_object_add(st, "healthy", json_object_new_boolean(rc == ST_HEALTHY));
	printf("%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY |
	                                                      JSON_C_TO_STRING_SPACED |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The daemon writes the share mode it runs in ST's share.samba ("ctdb" too), with "smbd"
 * beside it. A daemon from before "smbd" reported samba = ctdb as "system" (it exports the
 * same way): for its file only, say "ctdb" when the configuration CFG is the one the daemon
 * runs on (ST's "config" is CFG's path as given, or its real path: compared as strings, so
 * nothing named by the status file is ever looked up) and it says samba = ctdb. */
static void name_ctdb(json_object *st, const struct pxe_config *cfg)
{
	json_object *sh = jget(st, "share");
	char samba[64];
	char mine[PATH_MAX];
	const char *used = json_object_get_string(jget(st, "config"));

	if (!sh || jget(sh, "smbd") || cfg->share.samba != CFG_SAMBA_CTDB || !used ||
	    strcmp(jtext(sh, "samba", samba, sizeof(samba)), "system") != 0) {
		return;
	}
	if (strcmp(used, cfg->file) == 0 ||
	    (realpath(cfg->file, mine) && strcmp(mine, used) == 0)) {
		json_object_object_add(sh, "samba", json_object_new_string("ctdb"));
	}
}

/* Exit status for the status file at PATH of mountpoint MP (configuration CFG). */
static int show(const char *path, const char *mp, const struct pxe_config *cfg, bool json)
{
	const char *images = cfg->images_path;
	char why[4 * PATH_MAX] = "";
	json_object *st = NULL;
	int rc = load_status(path, mp, &st, why, sizeof(why));
	pid_t pid = st ? (pid_t)json_object_get_int64(jget(st, "pid")) : 0;
	long ms = 0;

	if (st && kill(pid, 0) < 0 && errno == ESRCH) {
		snprintf(why, sizeof(why), "not running on %s (pid %d is gone; stale %s)", mp,
		         (int)pid, path);
		rc = ST_NOT_RUNNING;
	} else if (st && !mounted_view(mp)) {
		snprintf(why, sizeof(why), "not running: no pxeimagesfs view is mounted on %s", mp);
		rc = ST_NOT_RUNNING;
	} else if (st) {
		name_ctdb(st, cfg);
		rc = status_probe_view(mp, images, pid, &ms, why, sizeof(why)) < 0 ? ST_NOT_RESPONDING : 0;
		if (rc == 0) {
			rc =
			    json_object_get_boolean(jget(st, "healthy")) ? ST_HEALTHY : ST_DEGRADED;
		}
		if (json) {
			print_json(st, rc, true, ms, why);
		} else {
			print_status(st, rc);
			if (rc != ST_NOT_RESPONDING) {
				printf("probe: the view answered in %ld ms\n", ms);
			}
		}
		json_object_put(st);
		st = NULL;
		if (rc != ST_NOT_RESPONDING) {
			return rc;
		}
	}
	fprintf(stderr, "pxeimagesfs status: %s\n", why);
	if (json && rc != ST_NOT_RESPONDING) {
		print_json_none(mp, path, rc, why);
	}
	json_object_put(st);
	return rc;
}

/* The configuration: -c FILE must load. Without -c, for a MOUNTPOINT given, a missing
 * or broken default file means the defaults (the default run directory). */
static struct pxe_config *status_config(const char *config, bool have_mp)
{
	struct pxe_config *cfg = NULL;
	char err[4096];
	const char *path = cfg_default_path();

	if (config || !have_mp) {
		return cli_load_config(config);
	}
	if (access(path, F_OK) == 0 && cfg_load_file(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr,
		        "pxeimagesfs status: note: %s has errors; looking in the default run "
		        "directory\n",
		        path);
	}
	if (!cfg && cfg_load_string("", "(defaults)", &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "pxeimagesfs status: %s\n", err);
		return NULL;
	}
	return cfg;
}

/* GIVEN as the mountpoint's canonical path in OUT (PATH_MAX): its folder's real path and
 * its last name, when a view is mounted there (the mountpoint itself is never stat'ed:
 * a stopped daemon would block that); else realpath(GIVEN), else GIVEN. */
static void canonical_mp(const char *given, char *out)
{
	char dir[PATH_MAX];
	char real[PATH_MAX];
	char *slash = NULL;
	size_t n = strlen(given);

	snprintf(dir, sizeof(dir), "%s", given);
	while (n > 1 && dir[n - 1] == '/') {
		dir[--n] = '\0';
	}
	slash = strrchr(dir, '/');
	if (slash && slash[1] && strcmp(slash + 1, ".") != 0 && strcmp(slash + 1, "..") != 0) {
		*slash = '\0';
		if (realpath(dir[0] ? dir : "/", real) &&
		    snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") == 0 ? "" : real,
		             slash + 1) < PATH_MAX &&
		    mounted_view(out)) {
			return;
		}
	}
	if (!realpath(given, out)) {
		snprintf(out, PATH_MAX, "%s", given);
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	struct pxe_config *cfg = NULL;
	char mp[PATH_MAX];
	char path[2 * PATH_MAX];
	bool json = false;
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		if (c == 'c') {
			config = optarg;
		} else if (c == 'j') {
			json = true;
		} else {
			status_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "pxeimagesfs status: unexpected argument '%s'\n", argv[optind + 1]);
		return 2;
	}
	cfg = status_config(config, optind < argc);
	if (!cfg) {
		return 2;
	}
	canonical_mp(optind < argc ? argv[optind] : cfg->mountpoint, mp);
	if (cfg_status_path(cfg, mp, path, sizeof(path)) < 0) {
		fprintf(stderr, "pxeimagesfs status: %s: name too long for a status file\n", mp);
		c = ST_NOT_RUNNING;
		if (json) {
			print_json_none(mp, "", c, "name too long for a status file");
		}
	} else {
		c = show(path, mp, cfg, json);
	}
	cfg_free(cfg);
	return c;
}
