/* metrics.c -- the live state in the Prometheus text format (node-exporter's textfile
 * collector convention): <run directory>/<the status file's name, .prom for .json>.
 *
 * Written atomically beside the status file each time that is written (status.c),
 * removed with it. Every metric is named pxeimagesfs_*, has HELP and TYPE lines and
 * carries the label mountpoint (and drive for the per-drive ones), escaped as the
 * text format wants (backslash, double quote, newline). Runs on the live thread; the share's
 * state comes as the snapshot the status file was written from (struct metrics_extra).
 * The metrics are documented in README.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

/* A growing text buffer; `failed` once out of memory. */
struct text {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	for (int tries = 0; tries < 2 && !t->failed; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt,
		              ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
		} else if (t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		} else {
			size_t cap = (t->cap + (size_t)n + 1) * 2;
			char *nb = realloc(t->buf, cap);
			t->failed = !nb;
			t->buf = nb ? nb : t->buf;
			t->cap = nb ? cap : t->cap;
		}
	}
}

/* S as a label value: \ " and newline escaped. */
static void put_label(struct text *t, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"') {
			put(t, "\\%c", *s);
		} else if (*s == '\n') {
			put(t, "\\n");
		} else {
			put(t, "%c", *s);
		}
	}
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP pxeimagesfs_%s %s\n# TYPE pxeimagesfs_%s %s\n", name, help, name, type);
}

/* One sample of NAME for MOUNTPOINT (and DRIVE, and STATE, when not NULL). */
static void sample(struct text *t, const char *name, const char *mp, const char *drive,
                   const char *state, unsigned long long value)
{
	put(t, "pxeimagesfs_%s{mountpoint=\"", name);
	put_label(t, mp);
	if (drive) {
		put(t, "\",drive=\"");
		put_label(t, drive);
	}
	if (state) {
		put(t, "\",state=\"");
		put_label(t, state);
	}
	put(t, "\"} %llu\n", value);
}

static void gauge(struct text *t, const char *name, const char *help, const char *mp,
                  unsigned long long value)
{
	head(t, name, "gauge", help);
	sample(t, name, mp, NULL, NULL, value);
}

static void counter(struct text *t, const char *name, const char *help, const char *mp,
                    atomic_uint_fast64_t *value)
{
	head(t, name, "counter", help);
	sample(t, name, mp, NULL, NULL, (unsigned long long)atomic_load(value));
}

static void drives(struct text *t, const struct resolver_view *rv, const char *mp)
{
	head(t, "drive_online", "gauge", "1 when the drive's filesystem is mounted (not offline)");
	for (size_t i = 0; i < rv->n_drives; i++) {
		sample(t, "drive_online", mp, rv->drives[i].name, NULL,
		       rv->drives[i].state != DRIVE_OFFLINE);
	}
	head(t, "drive_healthy", "gauge", "1 when the drive serves (state online)");
	for (size_t i = 0; i < rv->n_drives; i++) {
		sample(t, "drive_healthy", mp, rv->drives[i].name, NULL,
		       rv->drives[i].state == DRIVE_ONLINE);
	}
	head(t, "drive_state", "gauge", "1 for the drive's current state");
	for (size_t i = 0; i < rv->n_drives; i++) {
		sample(t, "drive_state", mp, rv->drives[i].name,
		       drive_state_name(rv->drives[i].state), 1);
	}
	head(t, "drive_in_view", "gauge", "1 when the drive's images are part of the view");
	for (size_t i = 0; i < rv->n_drives; i++) {
		sample(t, "drive_in_view", mp, rv->drives[i].name, NULL, rv->drives[i].in_view);
	}
	head(t, "drive_primary", "gauge", "1 for the primary drive (new files are written there)");
	for (size_t i = 0; i < rv->n_drives; i++) {
		sample(t, "drive_primary", mp, rv->drives[i].name, NULL, rv->drives[i].primary);
	}
}

static void share(struct text *t, const struct fs_share_state *sh, const char *mp)
{
	if (sh->kind == FS_SHARE_NONE) {
		return;
	}
	gauge(t, "share_up",
	      "1 when the share is exported (samba = system) or the private smbd runs", mp, sh->up);
	head(t, "share_restarts_total", "counter", "restarts of the private smbd after it died");
	sample(t, "share_restarts_total", mp, NULL, NULL, sh->restarts);
}

static void build(struct text *t, struct live *l, const struct fsview *v,
                  const struct metrics_extra *x)
{
	const char *mp = l->mountpoint;
	struct fs *fs = l->fs;

	gauge(t, "healthy", "1 when the status file says healthy (no degraded reason)", mp,
	      x->healthy);
	gauge(t, "status_written_timestamp_seconds",
	      "when this file and the status file were written", mp,
	      (unsigned long long)x->written.tv_sec);
	gauge(t, "started_timestamp_seconds", "when the daemon started", mp,
	      (unsigned long long)l->started.tv_sec);
	gauge(t, "view_generation", "the view's generation (bumped at every change)", mp,
	      (unsigned long long)v->generation);
	drives(t, v->rv, mp);
	if (x->have_free) {
		gauge(t, "primary_free_bytes", "bytes free for new files on the primary drive", mp,
		      (unsigned long long)x->free_bytes);
		gauge(t, "primary_size_bytes", "size of the primary drive's filesystem", mp,
		      (unsigned long long)x->size_bytes);
	}
	gauge(t, "passthrough_active", "1 when kernel FUSE passthrough is in use", mp,
	      atomic_load(&fs->pt_active));
	gauge(t, "io_uring_active", "1 when the kernel's requests come over io_uring", mp,
	      atomic_load(&fs->ur_active));
	counter(t, "opens_total", "files opened", mp, &fs->n_opens);
	counter(t, "reads_total", "read requests answered by the daemon", mp, &fs->n_reads);
	counter(t, "xattrs_kept_total", "xattr reads answered from what the view kept", mp,
	        &fs->n_xattr_cached);
	counter(t, "read_bytes_total", "bytes read through the daemon", mp, &fs->n_bytes_read);
	counter(t, "written_bytes_total", "bytes written through the daemon", mp,
	        &fs->n_bytes_written);
	counter(t, "errors_total", "requests answered with an error that is not routine", mp,
	        &fs->n_errors);
	counter(t, "passthrough_opens_total", "files opened in passthrough mode", mp,
	        &fs->n_pt_opens);
	counter(t, "stale_opens_total", "opens sent back to look the name up again", mp,
	        &fs->n_stale_opens);
	counter(t, "folder_events_total", "changes seen in watched folders on the drives", mp,
	        &fs->n_dw_events);
	share(t, &x->share, mp);
}

/* The metrics file's path: the status file's with .prom for .json. */
static int metrics_path(const struct live *l, char *out, size_t len)
{
	size_t n = strlen(l->status_path);

	if (n < 5 || strcmp(l->status_path + n - 5, ".json") != 0 || n + 1 > len) {
		return -EINVAL;
	}
	snprintf(out, len, "%.*s.prom", (int)(n - 5), l->status_path);
	return 0;
}

int metrics_write(struct live *l, int dirfd, const struct fsview *v, const struct metrics_extra *x)
{
	struct text t = {0};
	char path[PATH_MAX];
	int rc = metrics_path(l, path, sizeof(path));

	if (rc < 0) {
		return rc;
	}
	build(&t, l, v, x);
	rc = t.failed || !t.buf ? -ENOMEM : status_replace_at(dirfd, strrchr(path, '/') + 1, t.buf);
	if (rc < 0) {
		log_warnx("metrics: cannot write %s: %s", path, strerror(-rc));
	}
	free(t.buf);
	return rc;
}

void metrics_remove(struct live *l)
{
	char path[PATH_MAX];

	if (metrics_path(l, path, sizeof(path)) == 0) {
		unlink(path);
	}
}
