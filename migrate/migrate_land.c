/* migrate_land.c -- put a verified temporary in place, setting a replaced target copy aside.
 *
 * A target copy is replaced only while it is still the one planned: it is first moved
 * aside (into this run's backup folder, or to a hidden name removed once the new copy is
 * in place), so nothing newer that landed meanwhile is ever lost; on a failure it is put
 * back. Every rename is made durable with an fsync of the folder. Single-threaded, as
 * the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "migrate_run_int.h"

/* This run's backup folder, MIGRATE_BACKUP_DIR/<UTC time> on the target's root (made
 * at the first backup); 0 or -errno. */
static int backup_root(struct mrun *r)
{
	char stamp[32];
	char name[48];
	struct tm tm;
	time_t now = time(NULL);
	int top = -1;
	int rc = 0;

	if (r->backup_fd >= 0) {
		return 0;
	}
	if (mkdirat(r->p->tgt_mnt, MIGRATE_BACKUP_DIR, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	top = openat(r->p->tgt_mnt, MIGRATE_BACKUP_DIR,
	             O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0) {
		return -errno;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	rc = -EEXIST;
	for (int i = 1; i < 100 && rc == -EEXIST; i++) {
		snprintf(name, sizeof(name), i == 1 ? "%s" : "%s-%d", stamp, i);
		rc = mkdirat(top, name, 0700) < 0 ? -errno : 0;
	}
	r->backup_fd =
	    rc < 0 ? -1 : openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	rc = rc < 0 ? rc : r->backup_fd < 0 ? -errno : 0;
	close_fd(top);
	if (rc == 0 && asprintf(&r->plan->backup_dir, "%s/%s/%s", r->p->tgt_mount,
	                        MIGRATE_BACKUP_DIR, name) < 0) {
		r->plan->backup_dir = NULL;
		rc = -ENOMEM;
	}
	return rc;
}

/* O_PATH fd of the backup folder for IT's target path (made as needed), or -errno. */
static int backup_folder(struct mrun *r, const struct migrate_item *it)
{
	char dir[PATH_MAX];
	char *save = NULL;
	int cur = -1;
	int rc = backup_root(r);

	rc = rc < 0 ? rc : names_parent(it->target, dir, sizeof(dir));
	cur = rc < 0 ? -1 : dup(r->backup_fd);
	rc = rc < 0 ? rc : cur < 0 ? -errno : 0;
	for (char *c = rc == 0 ? strtok_r(dir, "/", &save) : NULL; c && rc == 0;
	     c = strtok_r(NULL, "/", &save)) {
		int next = -1;
		if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		next = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = next < 0 ? -errno : 0;
		close_fd(cur);
		cur = next;
	}
	if (rc < 0) {
		close_fd(cur);
		return rc;
	}
	return cur;
}

/* Where a replaced copy goes: the backup folder, or a hidden name beside it. */
struct aside {
	int dir; /* owned fd, -1 when nothing was moved */
	char name[NAME_MAX + 1];
};

static bool same_entry_as_planned(const struct stat *was, const struct stat *now)
{
	return !mrun_changed(was, now) && (was->st_mode & S_IFMT) == (now->st_mode & S_IFMT);
}

/* REPLACE: move the target's TNAME in TDIR aside, provided it is still the entry that
 * was planned (else -EAGAIN, and it stays). 0 also when it is gone. */
static int set_aside(struct mrun *r, struct migrate_item *it, int tdir, const char *tname,
                     struct aside *a)
{
	struct stat now;
	int dir = -1;
	int rc = 0;

	r->step = "checking the target's copy";
	if (fstatat(tdir, tname, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!it->have_tst || !same_entry_as_planned(&it->tst, &now) ||
	    now.st_ctim.tv_sec != it->tst.st_ctim.tv_sec ||
	    now.st_ctim.tv_nsec != it->tst.st_ctim.tv_nsec) {
		return -EAGAIN;
	}
	r->step = r->plan->backup ? "keeping the target's copy as a backup"
	                          : "setting the target's copy aside";
	if (r->plan->backup) {
		dir = backup_folder(r, it);
		snprintf(a->name, sizeof(a->name), "%s", tname);
	} else {
		dir = dup(tdir);
		dir = dir < 0 ? -errno : dir;
		migrate_old_name(r->p->tag, tname, a->name, sizeof(a->name));
	}
	rc = dir < 0 ? dir : fileio_rename_noreplace(tdir, tname, dir, a->name);
	if (rc < 0) {
		close_fd(dir);
		return rc;
	}
	a->dir = dir;
	if (fstatat(dir, a->name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !same_entry_as_planned(&it->tst, &now)) { /* changed just now: put it back */
		if (fileio_rename_noreplace(dir, a->name, tdir, tname) == 0) {
			close_fd(a->dir);
			a->dir = -1;
		}
		return -EAGAIN;
	}
	return 0;
}

/* After landing: drop the copy set aside, or note where its backup is. */
static int settle_aside(struct mrun *r, struct migrate_item *it, struct aside *a)
{
	int rc = 0;

	if (a->dir < 0) {
		return 0;
	}
	if (!r->plan->backup) {
		r->step = "removing the replaced copy";
		rc = unlinkat(a->dir, a->name, 0) < 0 ? -errno : 0;
	} else {
		r->step = "fsync of the backup folder";
		rc = mrun_fsync_dir(a->dir);
		free(it->backup);
		if (asprintf(&it->backup, "%s/%s", r->plan->backup_dir, it->target) < 0) {
			it->backup = NULL;
		}
	}
	return rc;
}

/* Rename the verified temporary into place and make that durable; a target copy that
 * is replaced is set aside first. */
int mrun_land(struct mrun *r, struct migrate_item *it, int tdir, const char *tmp)
{
	const char *tname = mrun_tgt_name(r, it);
	struct aside a = {.dir = -1};
	int rc = it->action == MIGRATE_REPLACE ? set_aside(r, it, tdir, tname, &a) : 0;

	if (rc == 0) {
		r->step = "renaming into place";
		rc = fileio_rename_noreplace(tdir, tmp, tdir, tname);
	}
	if (rc < 0 && a.dir >= 0 && fileio_rename_noreplace(a.dir, a.name, tdir, tname) == 0) {
		close_fd(a.dir); /* put back */
		a.dir = -1;
	} else if (rc < 0 && a.dir >= 0 && r->plan->backup) {
		settle_aside(r, it, &a); /* it stays in the backup folder: say where */
	}
	if (rc == 0) {
		r->step = "fsync of the target folder";
		rc = mrun_fsync_dir(tdir);
	}
	rc = rc < 0 ? rc : settle_aside(r, it, &a);
	close_fd(a.dir);
	return rc;
}
