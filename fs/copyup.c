/* copyup.c -- make room on the primary drive: cloned parent folders and copy-up.
 *
 * A create below a folder the primary lacks clones the missing folders there
 * (mode, owner, times of the highest-ranked drive that has them). Before a
 * file held only by a read-only drive is changed, it is copied to the primary
 * under a hidden temporary name, fsynced and renamed into place, so it is
 * never visible half-copied. Stateless; safe from any thread (two racing
 * copy-ups of one file: the second finds the first's result).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs_int.h"

#define COPY_CHUNK (1024 * 1024)
#define COPY_SLICE (8 * 1024 * 1024) /* between progress calls */

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
		if (rc == -ENOENT) {
			rc = mkdirat(cur, c, 0755) == 0 || errno == EEXIST ? 0 : -errno;
			snprintf(found, sizeof(found), "%s", c);
		}
		rc = rc < 0 ? rc : names_join(spelt, found, spelt, len);
		if (rc == 0) {
			next = openat(cur, found, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = next < 0 ? -errno : 0;
		}
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

	rc = rc < 0 ? rc : make_images_dir(mnt, v->rv->images_path, spelt, sizeof(spelt));
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
 * the first drive that has REL (looked up before the folder exists here). */
static int clone_dir(struct fsview *v, int dirfd, const char *name, const char *rel)
{
	struct loc src;
	bool have = loc_find(v, rel, 0, &src) == 0;
	int rc = mkdirat(dirfd, name, have ? (src.st.st_mode & 07777) : 0755) == 0 ? 0 : -errno;

	if (rc == 0 && have) {
		clone_attrs(dirfd, name, &src.st);
	}
	if (have) {
		loc_close(&src);
	}
	return rc == -EEXIST ? 0 : rc;
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
	char buf[PATH_MAX];
	char sofar[PATH_MAX] = "";
	char found[NAME_MAX + 1];
	char *save = NULL;
	int cur = root_images_fd(v, root);
	int rc = cur < 0 ? cur : 0;

	snprintf(buf, sizeof(buf), "%s", rel_dir);
	for (char *c = strtok_r(buf, "/", &save); c && rc == 0; c = strtok_r(NULL, "/", &save)) {
		int next = -1;
		names_join(sofar, c, sofar, sizeof(sofar));
		rc = walk_find(cur, c, found, sizeof(found));
		if (rc == -ENOENT) {
			rc = clone_dir(v, cur, c, sofar);
			snprintf(found, sizeof(found), "%s", c);
		}
		if (rc == 0) {
			next = openat(cur, found, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = next < 0 ? -errno : 0;
		}
		close(cur);
		cur = next;
	}
	if (rc < 0) {
		if (cur >= 0) {
			close(cur);
		}
		return rc;
	}
	*dirfd_out = cur;
	return 0;
}

/* copy_data -- copy the data of IN to OUT, keeping holes (see fs_int.h). */
int copy_data(int in, int out, off_t size, copy_progress_fn progress, void *arg)
{
	char *buf = NULL;
	off_t pos = 0;
	int rc = 0;

	while (pos < size && rc == 0) {
		off_t data = lseek(in, pos, SEEK_DATA);
		off_t hole = data < 0 ? size : lseek(in, data, SEEK_HOLE);
		if (data < 0) {
			break; /* only a hole is left */
		}
		hole = hole < 0 ? size : hole;
		for (off_t p = data; p < hole && rc == 0;) {
			size_t want = (size_t)(hole - p);
			ssize_t n = 0;
			if (progress && want > COPY_SLICE) {
				want = COPY_SLICE;
			}
			n = copy_file_range(in, &p, out, &(off_t){p}, want, 0);
			if (n > 0) {
				rc = progress && progress(arg, p) ? -ECANCELED : 0;
				continue;
			}
			if (n == 0) {
				break;
			}
			if (!buf && !(buf = malloc(COPY_CHUNK))) {
				rc = -ENOMEM;
				break;
			}
			n = pread(in, buf, (size_t)(hole - p < COPY_CHUNK ? hole - p : COPY_CHUNK),
			          p);
			if (n <= 0 || pwrite(out, buf, (size_t)n, p) != n) {
				rc = n == 0 ? -EIO : -errno;
				break;
			}
			p += n;
			rc = progress && progress(arg, p) ? -ECANCELED : 0;
		}
		pos = hole;
	}
	free(buf);
	return rc == 0 && ftruncate(out, size) < 0 ? -errno : rc;
}

/* copy_xattrs -- copy every xattr of IN to OUT (see fs_int.h). */
int copy_xattrs(int in, int out)
{
	char list[64 * 1024];
	char *val = NULL;
	ssize_t len = flistxattr(in, list, sizeof(list));
	int rc = len < 0 && errno != ENOTSUP ? -errno : 0;

	for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(list + off) + 1) {
		ssize_t vlen = fgetxattr(in, list + off, NULL, 0);
		int err = vlen < 0 ? (errno == ENODATA ? 0 : -errno) : -ENOMEM; /* ENODATA: gone */
		char *nv = vlen >= 0 ? realloc(val, (size_t)vlen + 1) : NULL;
		if (!nv) {
			rc = rc < 0 ? rc : err;
			continue;
		}
		val = nv;
		vlen = fgetxattr(in, list + off, val, (size_t)vlen);
		if (vlen >= 0 && fsetxattr(out, list + off, val, (size_t)vlen, 0) < 0) {
			rc = rc < 0 ? rc : -errno;
		}
	}
	free(val);
	return rc;
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

/* copyup_file -- copy the regular file SRC (found at REL on a read-only
 * drive) to the same path on the primary. OUT describes the copy. */
int copyup_file(struct fsview *v, const char *rel, const struct loc *src, struct loc *out)
{
	char dir[PATH_MAX];
	char tmp[NAME_MAX + 1];
	int dirfd = -1;
	int in = -1;
	int outfd = -1;
	int rc = names_parent(rel, dir, sizeof(dir));

	if (!S_ISREG(src->st.st_mode)) {
		return -EROFS;
	}
	rc = rc < 0 ? rc : copyup_dirs(v, v->primary_root, dir, &dirfd);
	if (rc < 0) {
		return rc;
	}
	snprintf(tmp, sizeof(tmp), NAMES_TEMP_PREFIX "%lx.%x", (unsigned long)src->st.st_ino,
	         (unsigned)random());
	in = walk_reopen(src->fd, O_RDONLY);
	outfd = in < 0 ? -1 : openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	rc = in < 0 ? in : outfd < 0 ? -errno : copy_file(in, outfd, &src->st);
	if (rc == 0 && renameat2(dirfd, tmp, dirfd, names_last(src->spelt), RENAME_NOREPLACE) < 0) {
		rc = errno == EEXIST ? 0 : -errno; /* someone else copied it up first */
	}
	if (rc < 0 && outfd >= 0) {
		unlinkat(dirfd, tmp, 0);
	} else if (rc == 0) {
		int sync = walk_reopen(dirfd, O_RDONLY | O_DIRECTORY);
		unlinkat(dirfd, tmp, 0); /* gone already unless the rename lost the race */
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
	return rc == 0 ? loc_find(v, rel, v->primary_root, out) : rc;
}
