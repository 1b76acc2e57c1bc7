/* copyup.c -- make room on the primary drive: cloned parent folders and copy-up.
 *
 * A create below a folder the primary lacks clones the missing folders there
 * (mode, owner, times of the highest-ranked drive that has them). Before a
 * file held only by a read-only drive is changed, it is copied to the primary
 * as a nameless O_TMPFILE (or, where the drive lacks it, under a random hidden
 * name), fsynced and linked into place, so it is never visible half-copied.
 * Stateless; safe from any thread (two racing copy-ups of one file: the
 * second finds the first's result). copyup_clean runs once at start, before
 * the mount is served.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "fs_int.h"

static void clone_attrs(int dirfd, const char *name, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0) {
		/* the folder exists with default attributes; not worth failing the create */
	}
	utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* Make folder NAME (virtual REL) in DIRFD, with the mode, owner and times of
 * the first drive that has REL (looked up before the folder exists here);
 * REL NULL: mode 0755, nothing cloned. */
static int clone_dir(struct fsview *v, int dirfd, const char *name, const char *rel)
{
	struct loc src;
	bool have = rel && loc_find(v, rel, 0, &src) == 0;
	int rc = mkdirat(dirfd, name, have ? (src.st.st_mode & 07777) : 0755) == 0 ? 0 : -errno;

	if (rc == 0 && have) {
		clone_attrs(dirfd, name, &src.st);
	}
	if (have) {
		loc_close(&src);
	}
	return rc == -EEXIST ? 0 : rc;
}

/* Folder NAME made in DIRFD can be gone before it is opened: when two GlusterFS
 * clients (two hosts) make one name at the same moment, the volume now and then
 * keeps no folder at all (both clients then get ENOENT or ESTALE opening it;
 * 7 of 300 rounds measured, GlusterFS 10.3). It is made again, up to this many
 * times, a few milliseconds apart (a different delay per thread). */
#define MKDIR_TRIES 5

/* Make folder NAME (virtual REL) in DIRFD unless it exists, and open it (O_PATH)
 * into *OUT; made again while it vanishes (MKDIR_TRIES). 0 or -errno. */
static int make_dir_open(struct fsview *v, int dirfd, const char *name, const char *rel,
                         int *out)
{
	int rc = -ENOENT;

	*out = -1;
	for (int k = 0; k < MKDIR_TRIES && (rc == -ENOENT || rc == -ESTALE); k++) {
		if (k > 0) {
			struct timespec ts = {0, (long)(2 + (gettid() + k) % 7) * 1000000L};
			nanosleep(&ts, NULL);
		}
		rc = clone_dir(v, dirfd, name, rel);
		if (rc == 0) {
			*out = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = *out < 0 ? -errno : 0;
		}
	}
	return rc == -ESTALE ? -ENOENT : rc;
}

/* Create the images path below the mount root MNTFD (matching existing
 * folders ignoring case); its path below the mount, as spelt, in SPELT. */
static int make_images_dir(int mntfd, const char *images_path, char *spelt, size_t len)
{
	char found[NAME_MAX + 1];
	char buf[PATH_MAX];
	char *save = NULL;
	int cur = dup(mntfd);
	int rc = cur < 0 ? -errno : 0;

	spelt[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", images_path);
	for (char *c = strtok_r(buf, "/", &save); c && rc == 0; c = strtok_r(NULL, "/", &save)) {
		int next = -1;
		rc = walk_find(cur, c, found, sizeof(found));
		if (rc == 0) {
			next = openat(cur, found, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = next < 0 ? -errno : 0;
		}
		if (rc == -ENOENT) {
			rc = make_dir_open(NULL, cur, c, NULL, &next);
			snprintf(found, sizeof(found), "%s", c);
		}
		rc = rc < 0 ? rc : names_join(spelt, found, spelt, len);
		close(cur);
		cur = next;
	}
	if (cur >= 0) {
		close(cur);
	}
	return rc;
}

/* Make the images folder on the primary P (it lacks one) and remember it. */
static int make_primary_images(struct fsview *v, struct fsdrive *p)
{
	char spelt[PATH_MAX];
	char *path = NULL;
	char *expect = NULL;
	/* the mount root as published, else -ENOENT: never the bare mountpoint */
	int mnt = root_mount_open(v, (size_t)(p - v->roots));
	int rc = mnt < 0 ? mnt : 0;

	rc = rc < 0 ? rc : make_images_dir(mnt, v->rv->view_path, spelt, sizeof(spelt));
	if (rc == 0 && asprintf(&path, "%s/%s", p->d->mount_path, spelt) < 0) {
		rc = -ENOMEM;
		path = NULL;
	}
	if (rc == 0 && !atomic_compare_exchange_strong(&p->made, &expect, path)) {
		free(path); /* another thread made it first */
	}
	if (mnt >= 0) {
		close(mnt);
	}
	return rc;
}

/* An fd of the primary's images folder, created there if the primary lacks
 * it. Returns a new fd (caller closes) or -errno (-EROFS: no primary). */
int primary_images_fd(struct fsview *v)
{
	struct fsdrive *p = v->primary_root >= 0 ? &v->roots[v->primary_root] : NULL;
	int fd = p ? root_open(v, (size_t)v->primary_root) : -EROFS;

	if (fd == -ENOENT && !root_has_images(v, (size_t)v->primary_root)) {
		fd = make_primary_images(v, p);
		fd = fd < 0 ? fd : root_open(v, (size_t)v->primary_root);
	}
	return fd;
}

/* An fd of the images folder of root ROOT (the primary's is made if missing). */
static int root_images_fd(struct fsview *v, int root)
{
	int fd = -1;

	if (root < 0) {
		return -EROFS;
	}
	if (root == v->primary_root) {
		return primary_images_fd(v);
	}
	fd = root_open(v, (size_t)root);
	return fd;
}

/* copyup_dirs -- make sure REL_DIR exists on root ROOT (folders it lacks are
 * cloned from the first drive that has them); an O_PATH fd of it in
 * *dirfd_out (caller closes). */
int copyup_dirs(struct fsview *v, int root, const char *rel_dir, int *dirfd_out)
{
	struct rel sofar;
	char c[NAME_MAX + 1];
	char found[NAME_MAX + 1];
	int cur = root_images_fd(v, root);
	int rc = cur < 0 ? cur : 0;

	rel_init(&sofar);
	for (const char *p = rel_dir; rc == 0 && *p;) {
		size_t len = strcspn(p, "/");
		int next = -1;
		if (len == 0) {
			p++;
			continue;
		}
		rc = len < sizeof(c) ? 0 : -ENAMETOOLONG;
		if (rc == 0) {
			memcpy(c, p, len);
			c[len] = '\0';
			p += len;
			rc = rel_join(&sofar, c);
		}
		rc = rc < 0 ? rc : walk_find(cur, c, found, sizeof(found));
		if (rc == 0) {
			next = openat(cur, found, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = next < 0 ? -errno : 0;
		}
		if (rc == -ENOENT) {
			rc = make_dir_open(v, cur, c, sofar.s, &next);
			snprintf(found, sizeof(found), "%s", c);
		}
		close(cur);
		cur = next;
	}
	rel_fini(&sofar);
	if (rc < 0) {
		if (cur >= 0) {
			close(cur);
		}
		return rc;
	}
	*dirfd_out = cur;
	return 0;
}

static int copy_file(int in, int out, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	int rc = copy_data(in, out, st->st_size, NULL, NULL);

	if (rc == 0) {
		(void)copy_xattrs(in, out); /* best effort, as before */
		if (fchown(out, st->st_uid, st->st_gid) < 0 ||
		    fchmod(out, st->st_mode & 07777) < 0 || futimens(out, ts) < 0 ||
		    fsync(out) < 0) {
			rc = -errno;
		}
	}
	return rc;
}

/* The root a file of SRC_ROOT is copied up to: the primary, or, when its
 * filesystem turned read-only (errors=remount-ro), the first other writable
 * root holding the images. -EROFS when there is none. */
static int copy_target(struct fsview *v, int src_root)
{
	if (v->primary_root >= 0 && v->primary_root != src_root &&
	    !root_read_only(v, (size_t)v->primary_root)) {
		return v->primary_root;
	}
	for (size_t r = 0; r < v->n_roots; r++) {
		if ((int)r != src_root && root_has_images(v, r) && !root_read_only(v, r)) {
			return (int)r;
		}
	}
	return -EROFS;
}

/* copyup_tmp_name -- a fresh temporary name (see fs_int.h): the prefix and a tag naming
 * this host and process (fileio_tmp_tag), so that copyup_clean on another host, or after a
 * restart here, can tell a copy in progress from an abandoned one. */
int copyup_tmp_name(char *out, size_t len)
{
	size_t plen = strlen(COPYUP_TMP_PREFIX);

	if (len <= plen) {
		return -ENAMETOOLONG;
	}
	memcpy(out, COPYUP_TMP_PREFIX, plen);
	return fileio_tmp_tag(out + plen, len - plen);
}

/* A new file for the copy in DIRFD: nameless (O_TMPFILE, TMP set to "") where
 * the drive supports it, else under a fresh hidden name written to TMP.
 * Returns the fd or -errno. */
static int open_tmp(int dirfd, char *tmp, size_t len)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	int rc = 0;

	tmp[0] = '\0';
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) {
		return fd >= 0 ? fd : -errno;
	}
	rc = copyup_tmp_name(tmp, len);
	fd = rc < 0
	         ? -1
	         : openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		tmp[0] = '\0';
	}
	return rc < 0 ? rc : fd >= 0 ? fd : -errno;
}

/* Give the complete, fsynced copy OUTFD (named TMP, or nameless) the name
 * NAME in DIRFD, never replacing what is there: an existing NAME is another
 * thread's copy-up that got there first (0). */
static int land(int dirfd, int outfd, const char *tmp, const char *name)
{
	char proc[64];
	int rc = 0;

	if (tmp[0] != '\0') {
		rc = fileio_rename_noreplace(dirfd, tmp, dirfd, name); /* GlusterFS: a link */
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", outfd);
		rc = linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
	}
	return rc == -EEXIST ? 0 : rc;
}

/* copyup_file -- copy the regular file SRC (found at REL on a read-only
 * drive) to the same path on the primary (or another writable drive, see
 * copy_target), where loc_find then finds it first. OUT describes the copy.
 * No name exists before the copy is complete and fsynced; a crash leaves
 * nothing, or a named fallback temporary that copyup_clean removes. */
int copyup_file(struct fsview *v, const char *rel, const struct loc *src, struct loc *out)
{
	struct rel dir;
	char tmp[NAME_MAX + 1] = "";
	int target = copy_target(v, src->root);
	int dirfd = -1;
	int in = -1;
	int outfd = -1;
	int rc = 0;

	if (!S_ISREG(src->st.st_mode)) {
		return -EROFS;
	}
	rel_init(&dir);
	rc = rel_set(&dir, rel, strlen(rel));
	if (rc == 0) {
		rel_up(&dir);
	}
	/* the folder can vanish before the copy is made in it (make_dir_open): made again */
	for (int k = 0; rc == 0 && k < MKDIR_TRIES; k++) {
		rc = target < 0 ? target : copyup_dirs(v, target, dir.s, &dirfd);
		outfd = rc < 0 ? -1 : open_tmp(dirfd, tmp, sizeof(tmp));
		if (rc == 0 && (outfd == -ENOENT || outfd == -ESTALE) && k + 1 < MKDIR_TRIES) {
			close(dirfd);
			dirfd = -1;
			continue;
		}
		break;
	}
	rel_fini(&dir);
	if (rc < 0) {
		return rc;
	}
	in = walk_reopen(src->fd, O_RDONLY);
	rc = in < 0 ? in : outfd < 0 ? outfd : copy_file(in, outfd, &src->st);
	rc = rc < 0 ? rc : land(dirfd, outfd, tmp, src->leaf);
	if (tmp[0] != '\0') {
		unlinkat(dirfd, tmp, 0); /* gone already unless it failed or lost the race */
	}
	if (rc == 0) {
		int sync = walk_reopen(dirfd, O_RDONLY | O_DIRECTORY);
		if (sync >= 0) {
			fsync(sync);
			close(sync);
		}
	}
	if (in >= 0) {
		close(in);
	}
	if (outfd >= 0) {
		close(outfd);
	}
	close(dirfd);
	return rc == 0 ? loc_find(v, rel, target, out) : rc;
}

/* What a hidden NAME is to copyup_clean: TMP_TAGGED for the view's copy-up temporaries
 * (COPYUP_TMP_PREFIX and a tag, fileio_tmp_tag: removed only when abandoned), TMP_OLD for
 * those of versions before the tag (COPYUP_TMP_PREFIX and 32 hex digits, or
 * ".<hex ino>.<hex random()>": no version makes them now, so abandoned), TMP_NOT for the
 * rest (never migrate's, MIGRATE_TMP_PREFIX: "migrate" is not hex). Exact bytes: it never
 * makes another spelling. */
enum tmp_kind { TMP_NOT = 0, TMP_TAGGED, TMP_OLD };

static enum tmp_kind stale_tmp(const char *name)
{
	const char *p = name + strlen(NAMES_TEMP_PREFIX);
	size_t a = 0;
	size_t b = 0;

	if (strncmp(name, NAMES_TEMP_PREFIX, strlen(NAMES_TEMP_PREFIX)) != 0) {
		return TMP_NOT;
	}
	if (strncmp(name, COPYUP_TMP_PREFIX, strlen(COPYUP_TMP_PREFIX)) == 0) {
		p = name + strlen(COPYUP_TMP_PREFIX);
		if (fileio_tmp_tag_at(p) && p[FILEIO_TMP_TAG_LEN] == '\0') {
			return TMP_TAGGED;
		}
		return strlen(p) == 32 && strspn(p, "0123456789abcdef") == 32 ? TMP_OLD : TMP_NOT;
	}
	a = strspn(p, "0123456789abcdef");
	if (a == 0 || a > 16 || p[a] != '.') {
		return TMP_NOT;
	}
	b = strspn(p + a + 1, "0123456789abcdef");
	return b > 0 && b <= 8 && p[a + 1 + b] == '\0' ? TMP_OLD : TMP_NOT;
}

#define CLEAN_MAX_DEPTH   64      /* folders deeper than this are not looked into */
#define CLEAN_MAX_ENTRIES 1000000 /* per drive */

struct clean {
	dev_t dev;      /* the drive's filesystem: never cross into another */
	time_t now;     /* when the cleaning began */
	size_t spared;  /* temporaries of copy-ups in progress (another host's) left alone */
	size_t seen;    /* entries looked at */
	size_t removed; /* stale temporaries removed */
};

/* Remove the stale temporaries below the folder FD (taken and closed). */
static void clean_dir(int fd, int depth, struct clean *c)
{
	DIR *d = fdopendir(fd);
	struct dirent *de = NULL;

	if (!d) {
		close(fd);
		return;
	}
	while (c->seen < CLEAN_MAX_ENTRIES && (de = readdir(d)) != NULL) {
		struct stat st;
		enum tmp_kind kind = TMP_NOT;
		int sub = -1;
		c->seen++;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			continue;
		}
		kind = stale_tmp(de->d_name);
		if (kind != TMP_NOT) {
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode) || st.st_dev != c->dev) {
				continue;
			}
			if (kind == TMP_TAGGED &&
			    !fileio_tmp_stale(de->d_name + strlen(COPYUP_TMP_PREFIX), &st,
			                      c->now)) {
				c->spared++;
			} else if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
				c->removed++;
			}
			continue;
		}
		if (depth >= CLEAN_MAX_DEPTH ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)) {
			continue;
		}
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0 && fstat(sub, &st) == 0 && st.st_dev == c->dev) {
			clean_dir(sub, depth + 1, c);
		} else if (sub >= 0) {
			close(sub);
		}
	}
	closedir(d);
}

/* copyup_clean -- remove stale copy-up temporaries (see fs_int.h). */
void copyup_clean(struct fs *fs)
{
	struct fsview *v = fsview_get(fs);

	for (size_t r = 0; r < v->n_roots; r++) {
		struct clean c = {.dev = 0, .now = time(NULL)};
		struct stat st;
		int img = root_read_only(v, r) ? -EROFS : root_open(v, r);
		int fd = img < 0 ? -1 : walk_reopen(img, O_RDONLY | O_DIRECTORY);
		if (img >= 0) {
			close(img);
		}
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0) {
				close(fd);
			}
			continue;
		}
		c.dev = st.st_dev;
		clean_dir(fd, 0, &c);
		if (c.removed > 0) {
			log_info("removed %zu stale copy-up temporaries from %s", c.removed,
			         v->roots[r].d->view_dir);
		}
		if (c.spared > 0) {
			log_info(
			    "left %zu copy-up temporaries of another process (in progress) in %s",
			    c.spared, v->roots[r].d->view_dir);
		}
		if (c.seen >= CLEAN_MAX_ENTRIES) {
			log_warnx("looked for stale copy-up temporaries in the first %d entries of "
			          "%s only",
			          CLEAN_MAX_ENTRIES, v->roots[r].d->view_dir);
		}
	}
	fsview_put(v);
}
