/* fileio.c -- write all of a buffer, replace a file atomically, fsync a path's folder, move
 * a name without replacing.
 *
 * The one copy of "temporary + fsync + rename + fsync of the folder" (see fileio.h). It does
 * not lock: two writers of one path are the callers' business. Thread-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int fileio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The folder that holds PATH into OUT: "/" for "/x", "." for a bare name. */
static int dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n = 0;

	if (!slash) {
		n = snprintf(out, len, ".");
	} else if (slash == path) {
		n = snprintf(out, len, "/");
	} else {
		n = snprintf(out, len, "%.*s", (int)(slash - path), path);
	}
	return n >= 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int fileio_fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd = -1;
	int rc = dir_of(path, dir, sizeof(dir));

	if (rc < 0) {
		return rc;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/* Create T's temporary: "PATH.tmp" (an old one removed first), or a unique hidden name. */
static int open_tmp(struct fileio_tmp *t)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(t->path, '/');
	int n = 0;

	if (!t->o.unique_tmp) {
		n = snprintf(t->tmp, sizeof(t->tmp), "%s.tmp", t->path);
		if (n < 0 || (size_t)n >= sizeof(t->tmp)) {
			return -ENAMETOOLONG;
		}
		unlink(t->tmp); /* what a crash left, or anything else by that name */
		t->fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		return t->fd < 0 ? -errno : 0;
	}
	if (dir_of(t->path, dir, sizeof(dir)) < 0) {
		return -ENAMETOOLONG;
	}
	n = snprintf(t->tmp, sizeof(t->tmp), "%s/.%s.pxeimagesfs-tmp.XXXXXX", dir,
	             slash ? slash + 1 : t->path);
	if (n < 0 || (size_t)n >= sizeof(t->tmp)) {
		return -ENAMETOOLONG;
	}
	t->fd = mkostemp(t->tmp, O_CLOEXEC);
	return t->fd < 0 ? -errno : 0;
}

int fileio_begin(struct fileio_tmp *t, const char *path, const struct fileio_opts *o)
{
	int rc = 0;

	*t = (struct fileio_tmp){.fd = -1, .path = path, .o = *o};
	rc = open_tmp(t);
	if (rc < 0) {
		t->fd = -1;
		return rc;
	}
	if (fchmod(t->fd, o->mode & 07777) < 0 ||
	    (o->owner && geteuid() == 0 && fchown(t->fd, o->owner->st_uid, o->owner->st_gid) < 0)) {
		rc = -errno;
		fileio_abort(t);
	}
	return rc;
}

int fileio_sync(struct fileio_tmp *t)
{
	return fsync(t->fd) == 0 ? 0 : -errno;
}

int fileio_commit(struct fileio_tmp *t)
{
	int rc = fileio_sync(t);

	if (close(t->fd) < 0 && rc == 0) {
		rc = -errno;
	}
	t->fd = -1;
	if (rc == 0 && t->o.excl && link(t->tmp, t->path) < 0) {
		rc = -errno;
	} else if (rc == 0 && !t->o.excl && rename(t->tmp, t->path) < 0) {
		rc = -errno;
	}
	if (rc < 0 || t->o.excl) {
		unlink(t->tmp);
	}
	if (rc == 0) {
		/* the new name made durable; a failure here changes nothing */
		fileio_fsync_dir(t->path);
	}
	return rc;
}

void fileio_abort(struct fileio_tmp *t)
{
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	unlink(t->tmp);
}

int fileio_replace(const char *path, const void *data, size_t len, const struct fileio_opts *o)
{
	struct fileio_tmp t;
	int rc = fileio_begin(&t, path, o);

	if (rc < 0) {
		return rc;
	}
	rc = fileio_write_all(t.fd, data, len);
	if (rc < 0) {
		fileio_abort(&t);
		return rc;
	}
	return fileio_commit(&t);
}

int fileio_link_noreplace(int olddir, const char *oldname, int newdir, const char *newname)
{
	struct stat st;
	int rc = 0;

	if (fstatat(olddir, oldname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		return -EISDIR;
	}
	if (linkat(olddir, oldname, newdir, newname, 0) < 0) {
		return -errno;
	}
	if (unlinkat(olddir, oldname, 0) < 0) {
		rc = -errno;
		unlinkat(newdir, newname, 0); /* our link: both names were one file */
	}
	return rc;
}

int fileio_rename_noreplace(int olddir, const char *oldname, int newdir, const char *newname)
{
	int rc = 0;

	if (renameat2(olddir, oldname, newdir, newname, RENAME_NOREPLACE) == 0) {
		return 0;
	}
	if (errno != EINVAL) {
		return -errno;
	}
	rc = fileio_link_noreplace(olddir, oldname, newdir, newname);
	return rc == -EISDIR ? -EINVAL : rc;
}
