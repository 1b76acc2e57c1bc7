/* status.c -- the live state as JSON in <run directory>/<mount-name>.json.
 *
 * Written atomically (temporary file, fsync, rename) at start, on every
 * change and on the periodic rescan; removed on a clean exit. Runs on the
 * live thread only. The schema (1) is documented in README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"

static json_object *iso_time(const struct timespec *ts)
{
	char buf[64];
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(buf);
}

static json_object *counters(struct fs *fs)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "opens", json_object_new_int64((int64_t)fs->n_opens));
	json_object_object_add(c, "reads", json_object_new_int64((int64_t)fs->n_reads));
	json_object_object_add(c, "bytes_read", json_object_new_int64((int64_t)fs->n_bytes_read));
	json_object_object_add(c, "bytes_written",
	                       json_object_new_int64((int64_t)fs->n_bytes_written));
	json_object_object_add(c, "errors", json_object_new_int64((int64_t)fs->n_errors));
	json_object_object_add(c, "passthrough_opens",
	                       json_object_new_int64((int64_t)fs->n_pt_opens));
	json_object_object_add(c, "stale_opens", json_object_new_int64((int64_t)fs->n_stale_opens));
	json_object_object_add(c, "folder_events", json_object_new_int64((int64_t)fs->n_dw_events));
	return c;
}

/* {"active": bool, "reason": why not (absent when active)} */
static json_object *passthrough(struct fs *fs)
{
	json_object *p = json_object_new_object();
	const char *why = atomic_load(&fs->pt_reason);

	json_object_object_add(p, "active", json_object_new_boolean(atomic_load(&fs->pt_active)));
	if (why) {
		json_object_object_add(p, "reason", json_object_new_string(why));
	}
	return p;
}

/* Degraded: a configured drive offline, any drive unavailable (hung or failing),
 * or no drive holding the images. */
static json_object *degraded(const struct resolver_view *v)
{
	json_object *a = json_object_new_array();
	char buf[512];

	for (size_t i = 0; i < v->n_drives; i++) {
		const struct drive *d = &v->drives[i];
		if ((d->configured && d->state != DRIVE_ONLINE) || d->state == DRIVE_UNAVAILABLE) {
			snprintf(buf, sizeof(buf), "drive %s %s: %s", d->name,
			         drive_state_name(d->state), d->reason);
			json_object_array_add(a, json_object_new_string(buf));
		}
	}
	if (v->n_roots == 0) {
		json_object_array_add(a, json_object_new_string("no drive holds the images"));
	}
	return a;
}

static json_object *status_json(struct live *l, struct fsview *v)
{
	json_object *o = json_object_new_object();
	json_object *change = json_object_new_object();
	json_object *why = degraded(v->rv);

	json_object_object_add(o, "schema", json_object_new_int(1));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "mountpoint", json_object_new_string(l->mountpoint));
	json_object_object_add(o, "config", json_object_new_string((*l->cfg)->file));
	json_object_object_add(o, "mode", json_object_new_string(cfg_mode_name(v->rv->mode)));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)v->generation));
	json_object_object_add(o, "started", iso_time(&l->started));
	json_object_object_add(change, "time", iso_time(&l->changed));
	json_object_object_add(change, "cause", json_object_new_string(l->cause));
	json_object_object_add(change, "summary", json_object_new_string(l->summary));
	json_object_object_add(o, "last_change", change);
	json_object_object_add(o, "counters", counters(l->fs));
	json_object_object_add(o, "passthrough", passthrough(l->fs));
	json_object_object_add(o, "healthy",
	                       json_object_new_boolean(json_object_array_length(why) == 0));
	json_object_object_add(o, "degraded_reasons", why);
	json_object_object_add(o, "view", resolver_view_json_object(v->rv, (*l->cfg)->file));
	return o;
}

static int write_all(int fd, const char *text)
{
	size_t len = strlen(text);

	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			return -errno;
		}
		off += (size_t)n;
	}
	return fsync(fd) == 0 ? 0 : -errno;
}

int status_write(struct live *l)
{
	char tmp[PATH_MAX + 16];
	struct fsview *v = fsview_get(l->fs);
	json_object *o = status_json(l, v);
	int fd = -1;
	int rc = 0;

	fsview_put(v);
	if (cfg_status_path(*l->cfg, l->mountpoint, l->status_path, sizeof(l->status_path)) < 0) {
		json_object_put(o);
		return -ENAMETOOLONG;
	}
	mkdir((*l->cfg)->run_dir, 0755);
	snprintf(tmp, sizeof(tmp), "%s.tmp", l->status_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = fd < 0 ? -errno
	            : write_all(fd, json_object_to_json_string_ext(
	                                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                       JSON_C_TO_STRING_NOSLASHESCAPE));
	if (fd >= 0) {
		close(fd);
	}
	if (rc == 0 && rename(tmp, l->status_path) < 0) {
		rc = -errno;
	}
	if (rc < 0) {
		unlink(tmp);
		log_warnx("status: cannot write %s: %s", l->status_path, strerror(-rc));
	}
	json_object_put(o);
	return rc;
}

void status_remove(struct live *l)
{
	if (l->status_path[0]) {
		unlink(l->status_path);
	}
}
