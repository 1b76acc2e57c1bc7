/* passfs.c -- a tiny FUSE filesystem that shows a folder as it is: a drive that is a FUSE
 * filesystem, for tests/integration/open_swapped.sh.
 *
 *   passfs FOLDER MOUNTPOINT [FUSE OPTIONS...]
 *
 * Serves FOLDER's tree at MOUNTPOINT (fstype fuse.passfs): lookups, attributes, listings,
 * symlinks, and reads and writes of the regular files already there; nothing is created,
 * removed or renamed through it. Nothing is cached by the kernel (timeouts 0), so every
 * lookup sees FOLDER as it is now; FIFOs and devices are the kernel's own (as on any FUSE
 * filesystem). The view does not watch such a drive's folders (inotify does not see every
 * change of a FUSE filesystem), which is what the test needs. Runs in the foreground,
 * multi-threaded, until unmounted or signalled. Not part of the product.
 */
#define FUSE_USE_VERSION 312

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static const char *folder;

/* FOLDER/PATH into BUF, or -ENAMETOOLONG */
static int real(char *buf, size_t len, const char *path)
{
	int n = snprintf(buf, len, "%s%s", folder, path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void *pf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 1;
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	return NULL;
}

static int pf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	char p[PATH_MAX];
	int rc = real(p, sizeof(p), path);

	if (rc == 0 && fi) {
		rc = fstat((int)fi->fh, st) < 0 ? -errno : 0;
	} else if (rc == 0) {
		rc = lstat(p, st) < 0 ? -errno : 0;
	}
	return rc;
}

static int pf_readlink(const char *path, char *buf, size_t len)
{
	char p[PATH_MAX];
	int rc = real(p, sizeof(p), path);
	ssize_t n = rc == 0 ? readlink(p, buf, len - 1) : rc;

	if (n < 0) {
		return rc < 0 ? rc : -errno;
	}
	buf[n] = '\0';
	return 0;
}

static int pf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	char p[PATH_MAX];
	int rc = real(p, sizeof(p), path);
	DIR *d = NULL;
	struct dirent *e = NULL;

	(void)off;
	(void)fi;
	(void)flags;
	if (rc < 0) {
		return rc;
	}
	d = opendir(p);
	if (!d) {
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type)};
		if (fill(buf, e->d_name, &st, 0, 0) != 0) {
			break;
		}
	}
	closedir(d);
	return 0;
}

static int pf_open(const char *path, struct fuse_file_info *fi)
{
	char p[PATH_MAX];
	int rc = real(p, sizeof(p), path);
	int fd = rc == 0 ? open(p, fi->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) : rc;

	if (fd < 0) {
		return rc < 0 ? rc : -errno;
	}
	fi->fh = (uint64_t)fd;
	return 0;
}

static int pf_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	ssize_t n = pread((int)fi->fh, buf, len, off);

	(void)path;
	return n < 0 ? -errno : (int)n;
}

static int pf_write(const char *path, const char *buf, size_t len, off_t off,
                    struct fuse_file_info *fi)
{
	ssize_t n = pwrite((int)fi->fh, buf, len, off);

	(void)path;
	return n < 0 ? -errno : (int)n;
}

static int pf_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int pf_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	return statvfs(folder, sv) < 0 ? -errno : 0;
}

static const struct fuse_operations ops = {
    .init = pf_init,
    .getattr = pf_getattr,
    .readlink = pf_readlink,
    .readdir = pf_readdir,
    .open = pf_open,
    .read = pf_read,
    .write = pf_write,
    .release = pf_release,
    .statfs = pf_statfs,
};

int main(int argc, char **argv)
{
	if (argc < 3 || argv[1][0] != '/') {
		fprintf(stderr, "usage: passfs /FOLDER MOUNTPOINT [FUSE OPTIONS...]\n");
		return 2;
	}
	folder = argv[1];
	argv[1] = argv[0];
	return fuse_main(argc - 1, argv + 1, &ops, NULL);
}
