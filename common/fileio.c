/* fileio.c -- write all of a buffer, replace a file atomically, fsync a path's folder, move
 * a name without replacing, tag a hidden temporary with its maker (and tell an abandoned one).
 *
 * The one copy of "temporary + fsync + rename + fsync of the folder" (see fileio.h). It does
 * not lock: two writers of one path are the callers' business. Thread-safe.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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

/* FNV-1a of LEN bytes of P into H. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	for (const unsigned char *c = p; len > 0; c++, len--) {
		h = (h ^ *c) * 1099511628211ULL;
	}
	return h;
}

/* This host, as a tag names it: its boot id, host name and PID namespace (what a PID is
 * meaningful within), each read bounded; a part that cannot be read counts as empty. */
static uint64_t host_hash(void)
{
	char buf[256];
	uint64_t h = 14695981039346656037ULL;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	if (fd >= 0) {
		close(fd);
	}
	h = fnv1a(h, buf, n > 0 ? (size_t)n : 0);
	h = fnv1a(h, "\n", 1);
	if (gethostname(buf, sizeof(buf)) == 0) {
		buf[sizeof(buf) - 1] = '\0';
		h = fnv1a(h, buf, strlen(buf));
	}
	h = fnv1a(h, "\n", 1);
	n = readlink("/proc/self/ns/pid", buf, sizeof(buf));
	return fnv1a(h, buf, n > 0 ? (size_t)n : 0);
}

int fileio_tmp_tag(char *out, size_t len)
{
	uint64_t rnd = 0;
	int n = 0;

	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		return -errno;
	}
	n = snprintf(out, len, "%016llx-%08x-%016llx", (unsigned long long)host_hash(),
	             (unsigned int)getpid(), (unsigned long long)rnd);
	return n == FILEIO_TMP_TAG_LEN && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

bool fileio_tmp_tag_at(const char *s)
{
	return strnlen(s, FILEIO_TMP_TAG_LEN) == FILEIO_TMP_TAG_LEN && hex_run(s, 16) &&
	       s[16] == '-' && hex_run(s + 17, 8) && s[25] == '-' && hex_run(s + 26, 16);
}

/* Whether process PID of this host is gone (kill(0): ESRCH). */
static bool pid_gone(unsigned long pid)
{
	return pid > 0 && pid <= INT_MAX && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

bool fileio_tmp_stale(const char *tag, const struct stat *st, time_t now)
{
	char host[17];
	char pid[9];
	time_t newest =
	    st->st_mtim.tv_sec > st->st_ctim.tv_sec ? st->st_mtim.tv_sec : st->st_ctim.tv_sec;

	if (newest < now - FILEIO_TMP_STALE_SEC) {
		return true;
	}
	if (!fileio_tmp_tag_at(tag)) {
		return false;
	}
	snprintf(host, sizeof(host), "%016llx", (unsigned long long)host_hash());
	memcpy(pid, tag + 17, 8);
	pid[8] = '\0';
	return memcmp(tag, host, 16) == 0 && pid_gone(strtoul(pid, NULL, 16));
}
