/* migrate_run.c -- carry a migration plan out: temporary, fsync, SHA-256, rename.
 *
 * Each entry lands under a hidden temporary name in its target folder and is renamed
 * into place only once fsynced and verified, so the view never shows it half-copied;
 * with a move, a source entry goes only after its copy (or the target's equal copy)
 * is verified and the target folder fsynced. New folders carry MIGRATE_UNFINISHED
 * until their times are set, after their contents. A target copy is replaced only
 * while it is still the one planned: it is first moved aside (into the backup folder,
 * or to a hidden name removed once the new copy is in place), so nothing newer that
 * landed meanwhile is ever lost. Does not follow symlinks, does not copy hard links
 * as links. Single-threaded; the callback runs on this thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migrate_int.h"

/* A folder of the images path the run created on the target (times set last). */
struct made_parent {
	int dirfd; /* O_PATH fd of the folder holding it, or -1 */
	bool made;
	struct stat st; /* the first source's folder of that name */
};

struct mrun {
	struct migrate_plan *plan;
	struct migrate_priv *p;
	migrate_progress_fn cb;
	void *arg;
	struct migrate_progress pr;
	uint64_t base;    /* bytes_done before the current file */
	uint64_t copied;  /* bytes copied */
	bool stop;        /* the callback asked to stop */
	const char *step; /* what the current item was doing, for its error */
	int img_parent;   /* O_PATH fd of the target folder that holds the images folder */
	int backup_fd;    /* O_PATH fd of this run's backup folder, or -1 before the first */
	struct made_parent *parents; /* n_parts - 1 of them */
};

static bool emit(struct mrun *r, enum migrate_event ev, const struct migrate_item *it,
                 const char *text)
{
	r->pr.event = ev;
	r->pr.item = it;
	r->pr.text = text;
	if (r->cb && r->cb(r->arg, &r->pr) != 0) {
		r->stop = true;
	}
	return r->stop;
}

static int on_bytes(void *arg, off_t pos)
{
	struct mrun *r = arg;

	r->pr.bytes_done = r->base + (uint64_t)pos;
	return emit(r, MIGRATE_EV_BYTES, r->pr.item, NULL);
}

static int on_tick(void *arg, uint64_t done, uint64_t total)
{
	struct mrun *r = arg;

	r->pr.verify_done = done;
	r->pr.verify_total = total;
	return emit(r, MIGRATE_EV_VERIFY, r->pr.item, NULL);
}

static void close_fd(int fd)
{
	if (fd >= 0) {
		close(fd);
	}
}

static void item_fail(struct mrun *r, struct migrate_item *it, int rc)
{
	const char *why = rc == -EBADMSG  ? "the contents differ"
	                  : rc == -ESTALE ? "the source changed meanwhile (run again)"
	                  : rc == -EEXIST ? "the target got an entry of that name meanwhile"
	                  : rc == -EAGAIN ? "the target's copy changed meanwhile: left as it is "
	                                    "(run again)"
	                                  : strerror(-rc);

	free(it->error);
	if (asprintf(&it->error, "%s: %s", r->step, why) < 0) {
		it->error = NULL;
	}
	it->result = MIGRATE_FAILED;
	for (size_t j = it->parent; j != SIZE_MAX; j = r->plan->items[j].parent) {
		r->plan->items[j].incomplete = true;
	}
}

/* O_PATH fd of the source folder holding IT. */
static int src_dir(struct mrun *r, const struct migrate_item *it)
{
	char dir[PATH_MAX];
	int rc = names_parent(it->path, dir, sizeof(dir));

	return rc < 0 ? rc : walk_open(r->p->src_img[it->source], dir, NULL, 0);
}

/* O_PATH fd of the target folder holding IT (for the images folder: its parent). */
static int tgt_dir(struct mrun *r, const struct migrate_item *it)
{
	char dir[PATH_MAX];
	int rc = 0;

	if (it->parent == SIZE_MAX) {
		rc = r->img_parent >= 0 ? dup(r->img_parent) : -1;
		return rc >= 0 ? rc : r->img_parent >= 0 ? -errno : -ENOENT;
	}
	if (r->p->tgt_img < 0) {
		return -ENOENT;
	}
	rc = names_parent(it->target, dir, sizeof(dir));
	return rc < 0 ? rc : walk_open(r->p->tgt_img, dir, NULL, 0);
}

static const char *tgt_name(struct mrun *r, const struct migrate_item *it)
{
	return it->parent == SIZE_MAX ? names_last(r->plan->target.images_dir)
	                              : names_last(it->target);
}

static int fsync_dir(int pathfd)
{
	int fd = walk_reopen(pathfd, O_RDONLY | O_DIRECTORY);
	int rc = fd < 0 ? fd : fsync(fd) < 0 ? -errno : 0;

	close_fd(fd);
	return rc;
}

static bool changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static int set_owner_mode(int fd, const struct stat *st)
{
	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0) {
		return -errno;
	}
	return 0;
}

/* Data, xattrs, owner and mode of the open source IN into the new OUT; fsynced and
 * compared by SHA-256; then the times, fsynced again. */
static int fill_file(struct mrun *r, struct migrate_item *it, int in, int out,
                     const struct stat *before)
{
	struct timespec ts[2] = {before->st_atim, before->st_mtim};
	struct stat after;
	int rc = 0;

	r->step = "copying";
	rc = copy_data(in, out, before->st_size, on_bytes, r);
	r->step = "copying the xattrs";
	rc = rc < 0 ? rc : copy_xattrs(in, out);
	r->step = "setting owner and mode";
	rc = rc < 0 ? rc : set_owner_mode(out, before);
	r->step = "fsync";
	rc = rc < 0 ? rc : fsync(out) < 0 ? -errno : 0;
	r->step = "verifying the copy";
	rc = rc < 0 ? rc : migrate_same_data(in, out, on_tick, r);
	rc = rc == 0 ? -EBADMSG : rc == 1 ? 0 : rc;
	if (rc == 0 && (fstat(in, &after) < 0 || changed(before, &after) ||
	                after.st_ctim.tv_sec != before->st_ctim.tv_sec ||
	                after.st_ctim.tv_nsec != before->st_ctim.tv_nsec)) {
		rc = -ESTALE;
	}
	it->verified = rc == 0;
	r->step = "setting the times";
	rc = rc < 0 ? rc : futimens(out, ts) < 0 || fsync(out) < 0 ? -errno : 0;
	return rc;
}

static int copy_regular(struct mrun *r, struct migrate_item *it, int sdir, int tdir,
                        const char *tmp, struct stat *before)
{
	int in = openat(sdir, names_last(it->path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	int out = -1;
	int rc = in < 0 ? -errno : fstat(in, before) < 0 ? -errno : 0;

	r->step = "opening the source";
	rc = rc == 0 && !S_ISREG(before->st_mode) ? -ESTALE : rc;
	if (rc == 0) {
		r->step = "creating the temporary";
		out = openat(tdir, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		rc = out < 0 ? -errno : 0;
	}
	rc = rc < 0 ? rc : fill_file(r, it, in, out, before);
	close_fd(in);
	close_fd(out);
	return rc;
}

static int copy_symlink(struct mrun *r, struct migrate_item *it, int sdir, int tdir,
                        const char *tmp, struct stat *before)
{
	const char *name = names_last(it->path);
	char text[PATH_MAX];
	char back[PATH_MAX];
	ssize_t n = 0;
	ssize_t m = 0;

	r->step = "reading the link";
	if (fstatat(sdir, name, before, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (n = readlinkat(sdir, name, text, sizeof(text))) < 0) {
		return -errno;
	}
	if (!S_ISLNK(before->st_mode) || n >= (ssize_t)sizeof(text)) {
		return S_ISLNK(before->st_mode) ? -ENAMETOOLONG : -ESTALE;
	}
	text[n] = '\0';
	r->step = "creating the link";
	if (symlinkat(text, tdir, tmp) < 0 ||
	    fchownat(tdir, tmp, before->st_uid, before->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(tdir, tmp, (struct timespec[2]){before->st_atim, before->st_mtim},
	              AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	r->step = "verifying the link";
	m = readlinkat(tdir, tmp, back, sizeof(back));
	if (m < 0) {
		return -errno;
	}
	it->verified = m == n && memcmp(text, back, (size_t)n) == 0;
	return it->verified ? 0 : -EBADMSG;
}

/* A fifo, socket or device node: made anew with the same type, rdev and attributes. */
static int copy_node(struct mrun *r, struct migrate_item *it, int sdir, int tdir, const char *tmp,
                     struct stat *before)
{
	r->step = "making the node";
	if (fstatat(sdir, names_last(it->path), before, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if ((before->st_mode & S_IFMT) != (it->st.st_mode & S_IFMT)) {
		return -ESTALE;
	}
	if (mknodat(tdir, tmp, (before->st_mode & S_IFMT) | 0600, before->st_rdev) < 0 ||
	    fchownat(tdir, tmp, before->st_uid, before->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(tdir, tmp, before->st_mode & 07777, 0) < 0 ||
	    utimensat(tdir, tmp, (struct timespec[2]){before->st_atim, before->st_mtim},
	              AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	return 0;
}

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
	return !changed(was, now) && (was->st_mode & S_IFMT) == (now->st_mode & S_IFMT);
}

/* REPLACE: move the target's TNAME in TDIR aside, provided it is still the entry that
 * was planned (else -EAGAIN, and it stays). 0 also when it is gone. */
static int set_aside(struct mrun *r, struct migrate_item *it, int tdir, const char *tname,
                     struct aside *a)
{
	struct stat now;
	int dir = -1;

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
		migrate_old_name(tname, a->name, sizeof(a->name));
	}
	if (dir < 0 || renameat2(tdir, tname, dir, a->name, RENAME_NOREPLACE) < 0) {
		int rc = dir < 0 ? dir : -errno;
		close_fd(dir);
		return rc;
	}
	a->dir = dir;
	if (fstatat(dir, a->name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !same_entry_as_planned(&it->tst, &now)) { /* changed just now: put it back */
		if (renameat2(dir, a->name, tdir, tname, RENAME_NOREPLACE) == 0) {
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
		rc = fsync_dir(a->dir);
		free(it->backup);
		if (asprintf(&it->backup, "%s/%s", r->plan->backup_dir, it->target) < 0) {
			it->backup = NULL;
		}
	}
	return rc;
}

/* Rename the verified temporary into place and make that durable; a target copy that
 * is replaced is set aside first. */
static int land(struct mrun *r, struct migrate_item *it, int tdir, const char *tmp)
{
	const char *tname = tgt_name(r, it);
	struct aside a = {.dir = -1};
	int rc = it->action == MIGRATE_REPLACE ? set_aside(r, it, tdir, tname, &a) : 0;

	if (rc == 0) {
		r->step = "renaming into place";
		rc = renameat2(tdir, tmp, tdir, tname, RENAME_NOREPLACE) < 0 ? -errno : 0;
	}
	if (rc < 0 && a.dir >= 0 && renameat2(a.dir, a.name, tdir, tname, RENAME_NOREPLACE) == 0) {
		close_fd(a.dir); /* put back */
		a.dir = -1;
	} else if (rc < 0 && a.dir >= 0 && r->plan->backup) {
		settle_aside(r, it, &a); /* it stays in the backup folder: say where */
	}
	if (rc == 0) {
		r->step = "fsync of the target folder";
		rc = fsync_dir(tdir);
	}
	rc = rc < 0 ? rc : settle_aside(r, it, &a);
	close_fd(a.dir);
	return rc;
}

/* --move: remove the source entry, unless it changed since WAS. */
static int remove_source(struct mrun *r, struct migrate_item *it, int sdir, const struct stat *was)
{
	const char *name = names_last(it->path);
	struct stat now;

	r->step = "removing the source";
	if (fstatat(sdir, name, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (changed(was, &now)) {
		return -ESTALE;
	}
	if (unlinkat(sdir, name, 0) < 0) {
		return -errno;
	}
	it->source_removed = true;
	return 0;
}

static int copy_entry(struct mrun *r, struct migrate_item *it, int sdir, int tdir,
                      struct stat *before)
{
	char tmp[NAME_MAX + 1];
	int rc = 0;

	migrate_tmp_name(tgt_name(r, it), tmp, sizeof(tmp));
	r->step = "removing an old temporary";
	rc = migrate_remove_tmp(tdir, tmp);
	if (rc == 0 && it->kind == MIGRATE_FILE) {
		rc = copy_regular(r, it, sdir, tdir, tmp, before);
	} else if (rc == 0) {
		rc = it->kind == MIGRATE_SYMLINK ? copy_symlink(r, it, sdir, tdir, tmp, before)
		                                 : copy_node(r, it, sdir, tdir, tmp, before);
	}
	rc = rc < 0 ? rc : land(r, it, tdir, tmp);
	if (rc < 0) {
		unlinkat(tdir, tmp, 0);
	}
	return rc;
}

static void copy_item(struct mrun *r, struct migrate_item *it)
{
	struct stat before = it->st;
	int sdir = src_dir(r, it);
	int tdir = sdir < 0 ? -1 : tgt_dir(r, it);
	int rc = sdir < 0 ? sdir : tdir < 0 ? tdir : 0;

	r->step = sdir < 0 ? "opening the source folder" : "opening the target folder";
	rc = rc < 0 ? rc : copy_entry(r, it, sdir, tdir, &before);
	if (rc == 0) {
		it->result = MIGRATE_DONE;
		r->copied += it->kind == MIGRATE_FILE ? (uint64_t)before.st_size : 0;
	}
	if (rc == 0 && r->plan->move) {
		rc = remove_source(r, it, sdir, &before);
	}
	if (rc < 0 && rc != -ECANCELED) {
		item_fail(r, it, rc);
	}
	close_fd(sdir);
	close_fd(tdir);
}

/* 1 when the source entry of IT and the target's are the same, 0, or -errno. */
static int same_entry(struct mrun *r, const struct migrate_item *it, int sdir, int tdir)
{
	const char *sn = names_last(it->path);
	const char *tn = tgt_name(r, it);
	struct stat a;
	struct stat b;
	int fa = -1;
	int fb = -1;
	int rc = 0;

	if (it->kind == MIGRATE_FILE) {
		fa = openat(sdir, sn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		fb = fa < 0 ? -1 : openat(tdir, tn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		rc = fa < 0 || fb < 0 ? -errno : migrate_same_data(fa, fb, on_tick, r);
	} else if (it->kind == MIGRATE_SYMLINK) {
		char x[PATH_MAX];
		char y[PATH_MAX];
		ssize_t n = readlinkat(sdir, sn, x, sizeof(x));
		ssize_t m = n < 0 ? -1 : readlinkat(tdir, tn, y, sizeof(y));
		rc = n < 0 || m < 0 ? -errno : n == m && memcmp(x, y, (size_t)n) == 0;
	} else {
		rc = fstatat(sdir, sn, &a, AT_SYMLINK_NOFOLLOW) < 0 ||
		             fstatat(tdir, tn, &b, AT_SYMLINK_NOFOLLOW) < 0
		         ? -errno
		         : (a.st_mode & S_IFMT) == (b.st_mode & S_IFMT) && a.st_rdev == b.st_rdev;
	}
	close_fd(fa);
	close_fd(fb);
	return rc;
}

/* SKIP or SHADOWED: nothing to copy; with --move, remove the source once the target's
 * entry is verified equal to it. */
static void settle_item(struct mrun *r, struct migrate_item *it)
{
	int sdir = -1;
	int tdir = -1;
	int rc = 0;

	if (r->plan->move) {
		r->step = "opening the folders";
		sdir = src_dir(r, it);
		tdir = sdir < 0 ? -1 : tgt_dir(r, it);
		rc = sdir < 0 ? sdir : tdir < 0 ? tdir : 0;
	}
	if (rc == 0 && r->plan->move && (it->action == MIGRATE_SHADOWED || !it->verified)) {
		r->step = "comparing with the target's copy (the source is kept)";
		rc = same_entry(r, it, sdir, tdir);
		rc = rc == 0 ? -EBADMSG : rc == 1 ? 0 : rc;
		it->verified = rc == 0;
	}
	rc = rc == 0 && r->plan->move ? remove_source(r, it, sdir, &it->st) : rc;
	if (rc == 0) {
		it->result = MIGRATE_DONE;
	} else if (rc != -ECANCELED) {
		item_fail(r, it, rc);
	}
	close_fd(sdir);
	close_fd(tdir);
}

/* A new folder under the temporary name TMP in TDIR: marked unfinished, with the
 * source's xattrs, owner and mode. The fd of the source folder is SREAL. */
static int make_tmp_dir(struct mrun *r, const struct migrate_item *it, int tdir, const char *tmp,
                        int sreal)
{
	int dfd = -1;
	int mfd = -1;
	int rc = migrate_remove_tmp(tdir, tmp);

	r->step = "creating the folder";
	rc = rc < 0 ? rc : mkdirat(tdir, tmp, 0700) < 0 ? -errno : 0;
	if (rc == 0) {
		dfd = openat(tdir, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		mfd = dfd < 0
		          ? -1
		          : openat(dfd, MIGRATE_UNFINISHED, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		rc = dfd < 0 || mfd < 0 ? -errno : 0;
	}
	r->step = "copying the folder's xattrs";
	rc = rc < 0 ? rc : copy_xattrs(sreal, dfd);
	r->step = "setting the folder's owner and mode";
	rc = rc < 0 ? rc : set_owner_mode(dfd, &it->st);
	rc = rc < 0 || fsync(dfd) == 0 ? rc : -errno;
	close_fd(mfd);
	close_fd(dfd);
	return rc;
}

static int make_dir(struct mrun *r, struct migrate_item *it, int sdir, int tdir)
{
	char tmp[NAME_MAX + 1];
	const char *tname = tgt_name(r, it);
	struct stat st;
	int spath = it->parent == SIZE_MAX ? dup(r->p->src_img[it->source])
	                                   : openat(sdir, names_last(it->path),
	                                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int sreal = spath < 0 ? -errno : walk_reopen(spath, O_RDONLY | O_DIRECTORY);
	int rc = sreal < 0 ? sreal : 0;

	r->step = "opening the source folder";
	migrate_tmp_name(tname, tmp, sizeof(tmp));
	rc = rc < 0 ? rc : make_tmp_dir(r, it, tdir, tmp, sreal);
	r->step = "renaming the folder into place";
	rc = rc < 0 || renameat2(tdir, tmp, tdir, tname, RENAME_NOREPLACE) == 0 ? rc : -errno;
	if (rc == -EEXIST && fstatat(tdir, tname, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		rc = migrate_remove_tmp(tdir, tmp); /* made meanwhile, e.g. through the view */
	} else if (rc == 0) {
		it->unfinished = true;
		r->step = "fsync of the target folder";
		rc = fsync_dir(tdir);
	} else {
		migrate_remove_tmp(tdir, tmp);
	}
	close_fd(spath);
	close_fd(sreal);
	return rc;
}

static void mkdir_item(struct mrun *r, struct migrate_item *it)
{
	bool root = it->parent == SIZE_MAX;
	int sdir = root ? -1 : src_dir(r, it);
	int tdir = !root && sdir < 0 ? -1 : tgt_dir(r, it);
	int rc = !root && sdir < 0 ? sdir : tdir < 0 ? tdir : 0;

	r->step = "opening the folders";
	rc = rc < 0 ? rc : make_dir(r, it, sdir, tdir);
	if (rc == 0 && root) {
		r->step = "opening the new images folder";
		r->p->tgt_img = walk_open(tdir, tgt_name(r, it), NULL, 0);
		rc = r->p->tgt_img < 0 ? r->p->tgt_img : 0;
	}
	if (rc == 0) {
		it->result = MIGRATE_DONE;
	} else {
		item_fail(r, it, rc);
	}
	close_fd(sdir);
	close_fd(tdir);
}

static void run_item(struct mrun *r, struct migrate_item *it)
{
	bool file = it->kind != MIGRATE_FOLDER;

	if (it->action == MIGRATE_DIR) {
		it->result = MIGRATE_DONE;
		return;
	}
	r->pr.item = it;
	if (emit(r, MIGRATE_EV_BEGIN, it, NULL)) {
		return;
	}
	if (it->action == MIGRATE_CONFLICT) {
		item_fail(r, it, -EEXIST);
		free(it->error);
		it->error = strdup(it->reason); /* the whole story */
	} else if (it->action == MIGRATE_MKDIR) {
		mkdir_item(r, it);
	} else if (it->action == MIGRATE_COPY || it->action == MIGRATE_REPLACE) {
		copy_item(r, it);
	} else {
		settle_item(r, it);
	}
	if (file && (it->action == MIGRATE_COPY || it->action == MIGRATE_REPLACE)) {
		r->base += (uint64_t)it->st.st_size; /* as planned: the total stays right */
		r->pr.bytes_done = r->base;
	}
	if (it->result == MIGRATE_PENDING) {
		return; /* stopped midway: the next run does it */
	}
	r->pr.files_done += file;
	emit(r, MIGRATE_EV_END, it, NULL);
}

/* The images path's folders above the images folder, on a target that lacks them:
 * made with the first source's mode and owner (times at the end). */
static int make_parent(struct mrun *r, size_t i, int cur, int scur, char *found, size_t len)
{
	struct migrate_priv *p = r->p;
	struct made_parent *mp = &r->parents[i];
	int rc = walk_find(cur, p->parts[i], found, len);

	mp->dirfd = dup(cur);
	if (rc != -ENOENT || mp->dirfd < 0) {
		return mp->dirfd < 0 ? -errno : rc;
	}
	snprintf(found, len, "%s", p->parts[i]);
	if (scur < 0 || i >= p->n_src0_parts ||
	    fstatat(scur, p->src0_parts[i], &mp->st, AT_SYMLINK_NOFOLLOW) < 0) {
		mp->st.st_mode = S_IFDIR | 0755;
		mp->st.st_uid = geteuid();
		mp->st.st_gid = getegid();
		clock_gettime(CLOCK_REALTIME, &mp->st.st_mtim);
		mp->st.st_atim = mp->st.st_mtim;
	}
	if (mkdirat(cur, found, mp->st.st_mode & 07777) < 0) {
		return errno == EEXIST ? 0 : -errno;
	}
	mp->made = true;
	if (fchownat(cur, found, mp->st.st_uid, mp->st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(cur, found, mp->st.st_mode & 07777, 0) < 0) {
		return -errno;
	}
	return 0;
}

static int descend_fd(int *cur, const char *name)
{
	int next =
	    *cur < 0 ? -1 : openat(*cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = next < 0 ? -errno : 0;

	close_fd(*cur);
	*cur = next;
	return rc;
}

static int make_parents(struct mrun *r, char *errbuf, size_t errlen)
{
	struct migrate_priv *p = r->p;
	char found[NAME_MAX + 1];
	int cur = dup(p->tgt_mnt);
	int scur = dup(p->src_mnt[0]);
	int rc = cur < 0 ? -errno : 0;

	for (size_t i = 0; i + 1 < p->n_parts && rc == 0; i++) {
		rc = make_parent(r, i, cur, scur, found, sizeof(found));
		rc = rc < 0 ? rc : descend_fd(&cur, found);
		if (scur >= 0 && i < p->n_src0_parts) {
			descend_fd(&scur, p->src0_parts[i]);
		}
	}
	close_fd(scur);
	if (rc < 0) {
		close_fd(cur);
		snprintf(errbuf, errlen, "cannot make the images path on target drive %s: %s",
		         r->plan->target.name, strerror(-rc));
		return -1;
	}
	r->img_parent = cur;
	return 0;
}

static void finish_parents(struct mrun *r)
{
	for (size_t i = r->p->n_parts > 0 ? r->p->n_parts - 1 : 0; i-- > 0;) {
		struct made_parent *mp = &r->parents[i];
		struct timespec ts[2] = {mp->st.st_atim, mp->st.st_mtim};
		if (mp->made) {
			utimensat(mp->dirfd, r->p->parts[i], ts, AT_SYMLINK_NOFOLLOW);
		}
	}
}

/* Remove what an interrupted run left on the target. */
static void clean_stale(struct mrun *r)
{
	struct migrate_plan *plan = r->plan;
	char dir[PATH_MAX];
	char note[PATH_MAX + 128];

	for (size_t i = 0; i < plan->n_stale && !r->stop; i++) {
		int dfd = names_parent(plan->stale[i], dir, sizeof(dir)) < 0
		              ? -ENAMETOOLONG
		              : walk_open(r->p->tgt_img, dir, NULL, 0);
		int rc = dfd < 0 ? dfd : migrate_remove_tmp(dfd, names_last(plan->stale[i]));
		if (rc == 0) {
			emit(r, MIGRATE_EV_CLEANUP, NULL, plan->stale[i]);
		} else {
			snprintf(note, sizeof(note), "cannot remove the temporary %s: %s",
			         plan->stale[i], strerror(-rc));
			emit(r, MIGRATE_EV_NOTE, NULL, note);
		}
		close_fd(dfd);
	}
}

/* Set a finished folder's times (and owner and mode again, for one an interrupted
 * run made), after its marker is gone. */
static int finish_dir(struct mrun *r, struct migrate_item *it)
{
	struct timespec ts[2] = {it->st.st_atim, it->st.st_mtim};
	int pfd = it->parent == SIZE_MAX ? dup(r->p->tgt_img)
	                                 : walk_open(r->p->tgt_img, it->target, NULL, 0);
	int fd = pfd < 0 ? -1 : walk_reopen(pfd, O_RDONLY | O_DIRECTORY);
	int rc = pfd < 0 ? (it->parent == SIZE_MAX ? -errno : pfd) : fd < 0 ? fd : 0;

	r->step = "finishing the folder";
	if (rc == 0 && unlinkat(fd, MIGRATE_UNFINISHED, 0) < 0 && errno != ENOENT) {
		rc = -errno;
	}
	rc = rc < 0 ? rc : set_owner_mode(fd, &it->st);
	rc = rc < 0 || (futimens(fd, ts) == 0 && fsync(fd) == 0) ? rc : -errno;
	it->unfinished = rc < 0;
	close_fd(fd);
	close_fd(pfd);
	return rc;
}

static void finish_dirs(struct mrun *r)
{
	for (size_t i = r->plan->n_items; i-- > 0;) {
		struct migrate_item *it = &r->plan->items[i];
		int rc = 0;
		if (it->kind != MIGRATE_FOLDER || !it->unfinished || it->incomplete ||
		    it->result == MIGRATE_FAILED) {
			continue;
		}
		rc = finish_dir(r, it);
		if (rc < 0) {
			item_fail(r, it, rc);
			emit(r, MIGRATE_EV_END, it, NULL);
		}
	}
}

/* --move: remove the source folders that are empty now, deepest first. */
static void remove_source_dirs(struct mrun *r)
{
	char note[PATH_MAX + 256];

	for (size_t i = r->plan->n_items; i-- > 0;) {
		struct migrate_item *it = &r->plan->items[i];
		const char *src = r->plan->sources[it->source].name;
		int sdir = -1;
		if (it->kind != MIGRATE_FOLDER || it->parent == SIZE_MAX ||
		    it->result != MIGRATE_DONE) {
			continue;
		}
		sdir = src_dir(r, it);
		if (sdir >= 0 && unlinkat(sdir, names_last(it->path), AT_REMOVEDIR) == 0) {
			it->source_removed = true;
			emit(r, MIGRATE_EV_REMOVED, it, NULL);
		} else {
			int err = sdir < 0 ? -sdir : errno;
			snprintf(note, sizeof(note), "kept the folder %s:%s: %s", src, it->path,
			         err == ENOTEMPTY || err == EEXIST ? "not empty" : strerror(err));
			emit(r, MIGRATE_EV_NOTE, it, note);
		}
		close_fd(sdir);
	}
}

static void summarise(const struct mrun *r, struct migrate_summary *sum)
{
	for (size_t i = 0; i < r->plan->n_items; i++) {
		const struct migrate_item *it = &r->plan->items[i];
		bool done = it->result == MIGRATE_DONE;
		bool copy = it->action == MIGRATE_COPY || it->action == MIGRATE_REPLACE;
		sum->copied += done && copy;
		sum->dirs_created += done && it->action == MIGRATE_MKDIR;
		sum->skipped +=
		    done && (it->action == MIGRATE_SKIP || it->action == MIGRATE_SHADOWED);
		sum->verified += it->verified && (done || it->action == MIGRATE_SKIP);
		sum->failed += it->result == MIGRATE_FAILED && it->action != MIGRATE_CONFLICT;
		sum->conflicts += it->action == MIGRATE_CONFLICT;
		sum->backed_up += it->backup != NULL && done;
		sum->removed += it->source_removed;
	}
	sum->bytes = r->copied;
	sum->interrupted = r->stop;
}

static void run_all(struct mrun *r)
{
	clean_stale(r);
	for (size_t i = 0; i < r->plan->n_items && !r->stop; i++) {
		run_item(r, &r->plan->items[i]);
	}
	if (r->stop) {
		return; /* folders stay marked unfinished: the next run finishes them */
	}
	finish_dirs(r);
	finish_parents(r);
	if (r->plan->move) {
		remove_source_dirs(r);
	}
}

int migrate_run(struct migrate_plan *plan, migrate_progress_fn progress, void *arg,
                struct migrate_summary *sum, char *errbuf, size_t errlen)
{
	struct mrun r = {.plan = plan,
	                 .p = plan->priv,
	                 .cb = progress,
	                 .arg = arg,
	                 .img_parent = -1,
	                 .backup_fd = -1};
	size_t n_par = plan->priv->n_parts ? plan->priv->n_parts : 1;
	int rc = -1;

	*sum = (struct migrate_summary){0};
	if (plan->dry_run) {
		snprintf(errbuf, errlen, "a dry-run plan cannot be carried out");
		return -1;
	}
	if (migrate_check_space(plan, errbuf, errlen) < 0) {
		return -1;
	}
	r.parents = calloc(n_par, sizeof(*r.parents));
	if (!r.parents) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n_par; i++) {
		r.parents[i].dirfd = -1;
	}
	for (size_t i = 0; i < plan->n_items; i++) {
		r.pr.files_total += plan->items[i].kind != MIGRATE_FOLDER;
	}
	r.pr.bytes_total = plan->bytes;
	if (plan->priv->tgt_img >= 0 || make_parents(&r, errbuf, errlen) == 0) {
		run_all(&r);
		summarise(&r, sum);
		rc = 0;
	}
	for (size_t i = 0; i < n_par; i++) {
		close_fd(r.parents[i].dirfd);
	}
	free(r.parents);
	close_fd(r.img_parent);
	close_fd(r.backup_fd);
	return rc;
}
