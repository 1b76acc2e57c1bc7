/* status.c -- the live state as JSON in <run directory>/<mount-name>.json.
 *
 * Written atomically (temporary file, fsync, rename) at start, on every
 * change, on a change of the share's state and on the periodic rescan, with
 * its Prometheus twin (metrics.c); both removed on a clean exit. Runs on the
 * live thread only (and once before it starts). The schema (1) is documented
 * in README.md. The free space of the primary is asked of the drive on a
 * helper thread and waited for at most SPACE_WAIT_MS, with no lock held: a hung
 * drive leaves that thread behind (one at most), never the live thread.
 * The share's state (struct fs_share) is the one thing here other threads write: every
 * field sits behind its mutex, taken only for a copy, never across a call out.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "fs_int.h"
#include "refcount.h"

#define SPACE_WAIT_MS 1000

/* ---- free space: statvfs on a helper thread, waited for a bounded time ------------- */

struct space_probe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char path[PATH_MAX];
	struct statvfs sv;
	int rc;
	bool done;
	bool abandoned; /* the caller gave up: the thread frees the probe */
};

static atomic_bool space_busy; /* an abandoned probe still waits on its drive */

static void space_probe_free(struct space_probe *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	atomic_store(&space_busy, false);
}

static void *space_thread(void *arg)
{
	struct space_probe *p = arg;
	struct statvfs sv = {0};
	int rc = statvfs(p->path, &sv) == 0 ? 0 : -errno;
	bool abandoned = false;

	pthread_mutex_lock(&p->mu);
	p->sv = sv;
	p->rc = rc;
	p->done = true;
	abandoned = p->abandoned;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (abandoned) {
		space_probe_free(p);
	}
	return NULL;
}

/* statvfs(PATH) into *OUT within SPACE_WAIT_MS: 0, -ETIMEDOUT, -EBUSY (an earlier
 * probe still hangs) or the negative errno of statvfs. */
static int space_of(const char *path, struct statvfs *out)
{
	struct space_probe *p = NULL;
	struct timespec until;
	int rc = 0;

	if (atomic_exchange(&space_busy, true)) {
		return -EBUSY;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		atomic_store(&space_busy, false);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	snprintf(p->path, sizeof(p->path), "%s", path);
	rc = pxe_thread_start(NULL, 0, space_thread, p);
	if (rc != 0) {
		space_probe_free(p);
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)SPACE_WAIT_MS % 1000 * 1000000L;
	until.tv_sec += SPACE_WAIT_MS / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&p->mu);
	while (!p->done && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
	}
	if (!p->done) {
		p->abandoned = true;
		pthread_mutex_unlock(&p->mu);
		return -ETIMEDOUT;
	}
	pthread_mutex_unlock(&p->mu);
	rc = p->rc;
	*out = p->sv;
	space_probe_free(p);
	return rc;
}

/* The primary's free space into X and a JSON object for it; NULL without a primary.
 * A primary that does not answer is a degraded reason in WHY. */
static json_object *primary_space(const struct resolver_view *rv, struct metrics_extra *x,
                                  json_object *why)
{
	const struct drive *d = rv->primary >= 0 ? &rv->drives[rv->primary] : NULL;
	const char *path = d && d->holds_images && d->images_dir ? d->images_dir
	                   : d                                   ? d->mount_path
	                                                         : NULL;
	json_object *o = NULL;
	struct statvfs sv = {0};
	char buf[600];
	int rc = 0;

	if (!path) {
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "drive", json_object_new_string(d->name));
	rc = space_of(path, &sv);
	if (rc < 0) {
		snprintf(buf, sizeof(buf), "%s",
		         rc == -ETIMEDOUT || rc == -EBUSY ? "the drive did not answer statvfs"
		                                          : strerror(-rc));
		json_object_object_add(o, "error", json_object_new_string(buf));
		if (rc == -ETIMEDOUT || rc == -EBUSY) {
			snprintf(buf, sizeof(buf),
			         "primary drive %s does not answer (statvfs of %s "
			         "took more than %d ms)",
			         d->name, path, SPACE_WAIT_MS);
			json_object_array_add(why, json_object_new_string(buf));
		}
		return o;
	}
	x->have_free = true;
	x->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	x->size_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	json_object_object_add(o, "free_bytes", json_object_new_int64((int64_t)x->free_bytes));
	json_object_object_add(o, "size_bytes", json_object_new_int64((int64_t)x->size_bytes));
	return o;
}

/* ---- the share's state: posted from any thread, read on the live thread ------------- */

/* No data race by construction: every field below `mu` is read and written with `mu` held,
 * by fs_share_set/get/changed only, which copy bounded strings and call nothing else (no
 * lock order to get wrong). `refs` (atomic, not under `mu`) counts the holders: the mount
 * command's and each export thread's, which may outlive the mount (a stop never waits for Samba's
 * tools). The wake-up (kill) happens after the unlock: the live thread that reads the signal then
 * finds `changed` set, or a later snapshot already took it -- either way no post is lost. */
struct fs_share {
	pthread_mutex_t mu;
	struct refcount refs;
	bool changed; /* posted since the last snapshot the files were written from */
	struct fs_share_state st;
};

struct fs_share *fs_share_new(enum fs_share_kind kind)
{
	struct fs_share *sh = calloc(1, sizeof(*sh));

	if (!sh || pthread_mutex_init(&sh->mu, NULL) != 0) {
		free(sh);
		return NULL;
	}
	refcount_init(&sh->refs);
	sh->st.kind = kind;
	sh->st.pending = kind != FS_SHARE_NONE;
	return sh;
}

struct fs_share *fs_share_hold(struct fs_share *sh)
{
	refcount_hold(&sh->refs);
	return sh;
}

void fs_share_drop(struct fs_share *sh)
{
	if (sh && refcount_drop(&sh->refs)) {
		pthread_mutex_destroy(&sh->mu);
		free(sh);
	}
}

void fs_share_set(struct fs_share *sh, bool up, const char *reason, const char *note)
{
	const char *why = up || !reason ? "" : reason;
	const char *n = up && note ? note : "";

	pthread_mutex_lock(&sh->mu);
	sh->st.up = up;
	sh->st.pending = false;
	snprintf(sh->st.reason, sizeof(sh->st.reason), "%.*s", (int)strcspn(why, "\n"), why);
	snprintf(sh->st.note, sizeof(sh->st.note), "%.*s", (int)strcspn(n, "\n"), n);
	sh->changed = true;
	pthread_mutex_unlock(&sh->mu);
}

void fs_share_post(struct fs_share *sh, bool up, const char *reason, const char *note)
{
	fs_share_set(sh, up, reason, note);
	/* SIGCHLD is blocked in every thread (watch_block_signals, before any thread) and read
	 * by the live thread's signalfd: it wakes with WATCH_CHILD and, finding `changed`,
	 * writes the files. Nothing else takes SIGCHLD as more than "look again". */
	kill(getpid(), SIGCHLD);
}

void fs_share_restarted(struct fs_share *sh)
{
	pthread_mutex_lock(&sh->mu);
	sh->st.restarts++;
	pthread_mutex_unlock(&sh->mu);
	fs_share_set(sh, true, NULL, NULL);
}

/* fs_share_snapshot -- a copy of the state; TAKE: also clear `changed` (the files are about
 * to be written from this copy). */
static void fs_share_snapshot(struct fs_share *sh, struct fs_share_state *out, bool take)
{
	memset(out, 0, sizeof(*out));
	if (!sh) {
		return;
	}
	pthread_mutex_lock(&sh->mu);
	*out = sh->st;
	sh->changed = take ? false : sh->changed;
	pthread_mutex_unlock(&sh->mu);
}

void fs_share_get(struct fs_share *sh, struct fs_share_state *out)
{
	fs_share_snapshot(sh, out, false);
}

bool fs_share_changed(struct fs_share *sh)
{
	bool changed = false;

	if (sh) {
		pthread_mutex_lock(&sh->mu);
		changed = sh->changed;
		pthread_mutex_unlock(&sh->mu);
	}
	return changed;
}

/* The share goes into the system smbd's smb.conf (samba = system or ctdb). */
static bool share_system(const struct fs_share_state *sh)
{
	return sh->kind == FS_SHARE_SYSTEM || sh->kind == FS_SHARE_CTDB;
}

/* The share's state in words: "not shared"; system: "exported", "not exported" or
 * "exporting" (the first export still runs); private: "up", "down" or "starting". */
static const char *share_state_word(const struct fs_share_state *sh)
{
	if (sh->kind == FS_SHARE_NONE) {
		return "not shared";
	}
	if (share_system(sh)) {
		return sh->up ? "exported" : sh->pending ? "exporting" : "not exported";
	}
	return sh->up ? "up" : sh->pending ? "starting" : "down";
}

/* {"samba": "none"|"system"|"private"|"ctdb" (the mode the daemon runs), "state", "smbd":
 * "system"|"private" (which smbd serves it), "up", "restarts", "reason", "note"}; a share
 * that is not up (also while its first export or start runs) is a degraded reason in WHY:
 * clients do not see it. Daemons before "smbd" wrote "system" for ctdb. */
static json_object *share_json(const struct fs_share_state *sh, json_object *why)
{
	static const char *const kinds[] = {"none", "system", "private", "ctdb"};
	json_object *o = json_object_new_object();
	char buf[700];

	json_object_object_add(o, "samba", json_object_new_string(kinds[sh->kind]));
	json_object_object_add(o, "state", json_object_new_string(share_state_word(sh)));
	if (sh->kind == FS_SHARE_NONE) {
		return o;
	}
	json_object_object_add(o, "smbd",
	                       json_object_new_string(share_system(sh) ? "system" : "private"));
	json_object_object_add(o, "up", json_object_new_boolean(sh->up));
	json_object_object_add(o, "restarts", json_object_new_int64((int64_t)sh->restarts));
	if (sh->up && sh->note[0]) {
		json_object_object_add(o, "note", json_object_new_string(sh->note));
	}
	if (!sh->up) {
		const char *r = sh->reason[0]      ? sh->reason
		                : share_system(sh) ? "the export has not finished yet"
		                                   : "not started yet";
		json_object_object_add(o, "reason", json_object_new_string(r));
		snprintf(buf, sizeof(buf), "share %s: %s",
		         share_system(sh) ? "not exported" : "private smbd down", r);
		json_object_array_add(why, json_object_new_string(buf));
	}
	return o;
}

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
	size_t nodes = 0;

	json_object_object_add(c, "opens", json_object_new_int64((int64_t)fs->n_opens));
	json_object_object_add(c, "reads", json_object_new_int64((int64_t)fs->n_reads));
	json_object_object_add(c, "xattrs_kept",
	                       json_object_new_int64((int64_t)fs->n_xattr_cached));
	json_object_object_add(c, "bytes_read", json_object_new_int64((int64_t)fs->n_bytes_read));
	json_object_object_add(c, "bytes_written",
	                       json_object_new_int64((int64_t)fs->n_bytes_written));
	json_object_object_add(c, "errors", json_object_new_int64((int64_t)fs->n_errors));
	json_object_object_add(c, "passthrough_opens",
	                       json_object_new_int64((int64_t)fs->n_pt_opens));
	json_object_object_add(c, "stale_opens", json_object_new_int64((int64_t)fs->n_stale_opens));
	json_object_object_add(c, "folder_events", json_object_new_int64((int64_t)fs->n_dw_events));
	nodes = nodes_count(fs); /* the names the kernel knows (goes down as it forgets) */
	json_object_object_add(c, "nodes", json_object_new_int64((int64_t)nodes));
	return c;
}

/* {"name": "io_uring" or "dev" (/dev/fuse), "reason": why not io_uring, when asked for} */
static json_object *transport(struct fs *fs)
{
	json_object *t = json_object_new_object();
	bool uring = atomic_load(&fs->ur_active);
	const char *why = atomic_load(&fs->ur_reason);

	json_object_object_add(t, "name", json_object_new_string(uring ? "io_uring" : "dev"));
	if (!uring && why) {
		json_object_object_add(t, "reason", json_object_new_string(why));
	}
	return t;
}

/* {"active": bool, "reason": why not (absent when active), "o_path": whether the kernel
 * takes an O_PATH fd as a backing file (absent until the first read-only open asks)} */
static json_object *passthrough(struct fs *fs)
{
	json_object *p = json_object_new_object();
	const char *why = atomic_load(&fs->pt_reason);
	int opath = atomic_load(&fs->pt_opath);

	json_object_object_add(p, "active", json_object_new_boolean(atomic_load(&fs->pt_active)));
	if (why) {
		json_object_object_add(p, "reason", json_object_new_string(why));
	}
	if (opath != 0) {
		json_object_object_add(p, "o_path", json_object_new_boolean(opath > 0));
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
		const char *why = v->no_drive[0] ? v->no_drive : "no drive holds the images";
		json_object_array_add(a, json_object_new_string(why));
	}
	return a;
}

static json_object *status_json(struct live *l, struct fsview *v, struct metrics_extra *x)
{
	json_object *o = json_object_new_object();
	json_object *change = json_object_new_object();
	json_object *why = degraded(v->rv);
	json_object *share = share_json(&x->share, why);
	json_object *space = primary_space(v->rv, x, why);

	json_object_object_add(o, "schema", json_object_new_int(1));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "mountpoint", json_object_new_string(l->mountpoint));
	json_object_object_add(o, "config", json_object_new_string((*l->cfg)->file));
	json_object_object_add(o, "mode", json_object_new_string(cfg_mode_name(v->rv->mode)));
	json_object_object_add(o, "generation", json_object_new_int64((int64_t)v->generation));
	json_object_object_add(o, "started", iso_time(&l->started));
	json_object_object_add(o, "written", iso_time(&x->written));
	json_object_object_add(o, "written_unix",
	                       json_object_new_int64((int64_t)x->written.tv_sec));
	json_object_object_add(change, "time", iso_time(&l->changed));
	json_object_object_add(change, "cause", json_object_new_string(l->cause));
	json_object_object_add(change, "summary", json_object_new_string(l->summary));
	json_object_object_add(o, "last_change", change);
	json_object_object_add(o, "counters", counters(l->fs));
	json_object_object_add(o, "passthrough", passthrough(l->fs));
	json_object_object_add(o, "transport", transport(l->fs));
	json_object_object_add(o, "share", share);
	if (space) {
		json_object_object_add(o, "primary_space", space);
	}
	x->healthy = json_object_array_length(why) == 0;
	json_object_object_add(o, "healthy", json_object_new_boolean(x->healthy));
	json_object_object_add(o, "degraded_reasons", why);
	json_object_object_add(o, "view", resolver_view_json_object(v->rv, (*l->cfg)->file));
	return o;
}

/* status_dir_open -- the run directory DIR, made (0755) when missing, opened without following
 * a symlink and checked as config check does (owned by root or us, writable by nobody else):
 * the files are written relative to it, so nothing on its path is looked up again. An open
 * fd, or a negative errno (-EPERM: another user could change it; a symlink: -ENOTDIR or
 * -ELOOP; both said in WHY). */
static int status_dir_open(const char *dir, char *why, size_t len)
{
	struct stat st;
	int fd = -1;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		return -errno;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) { /* ELOOP, or ENOTDIR */
			snprintf(why, len,
			         "it is a symlink (the files are never written through one)");
		}
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != 0 && st.st_gid != getegid())) {
		snprintf(why, len, "owned by uid %u, mode %04o: another user could change it",
		         (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

int status_replace_at(int dirfd, const char *name, const char *text)
{
	char tmp[NAME_MAX + 8];
	int fd = -1;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	unlinkat(dirfd, tmp, 0); /* what a crash left, or anything else by that name */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	rc = fchmod(fd, 0644) == 0 ? fileio_write_all(fd, text, strlen(text)) : -errno;
	if (rc == 0 && fsync(fd) < 0) {
		rc = -errno;
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
	}
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0) {
		rc = -errno;
	}
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
	} else {
		fsync(dirfd); /* the new name made durable; a failure here changes nothing */
	}
	return rc;
}

int status_write(struct live *l)
{
	struct fsview *v = fsview_get(l->fs);
	struct metrics_extra x = {0};
	json_object *o = NULL;
	const char *dir = (*l->cfg)->run_dir;
	char why[128] = "";
	int dirfd = -1;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &x.written);
	fs_share_snapshot(l->share, &x.share, true);
	o = status_json(l, v, &x);
	if (cfg_status_path(*l->cfg, l->mountpoint, l->status_path, sizeof(l->status_path)) < 0) {
		fsview_put(v);
		json_object_put(o);
		return -ENAMETOOLONG;
	}
	dirfd = rc = status_dir_open(dir, why, sizeof(why));
	if (rc >= 0) {
		rc = status_replace_at(dirfd, strrchr(l->status_path, '/') + 1,
		                       json_object_to_json_string_ext(
		                           o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		                                  JSON_C_TO_STRING_NOSLASHESCAPE));
		if (rc < 0) {
			log_warnx("status: cannot write %s: %s", l->status_path, strerror(-rc));
		}
		metrics_write(l, dirfd, v, &x);
		close(dirfd);
	} else {
		log_warnx("status: not writing into the run directory %s: %s", dir,
		          why[0] ? why : strerror(-rc));
	}
	fsview_put(v);
	json_object_put(o);
	return rc < 0 ? rc : 0;
}

void status_remove(struct live *l)
{
	if (l->status_path[0]) {
		unlink(l->status_path);
		metrics_remove(l);
	}
}
