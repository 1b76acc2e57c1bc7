/* walk.c -- resolve a path beneath a drive's images folder, safely.
 *
 * Uses openat2() with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so neither a
 * symlink nor ".." can take the daemon out of the folder; where the kernel
 * lacks openat2, a component walk with O_NOFOLLOW does the same. Names are
 * matched exactly first, then case-insensitively (the smallest spelling when
 * several differ only in case). Stateless and thread-safe.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs_int.h"

static atomic_int have_openat2 = 1;

static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;

	if (atomic_load(&have_openat2)) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS) {
			return fd >= 0 ? fd : -errno;
		}
		atomic_store(&have_openat2, 0);
	}
	/* fallback: only single components reach here (see walk_open) */
	if (strchr(path, '/') || strcmp(path, "..") == 0) {
		return -EINVAL;
	}
	fd = openat(dirfd, path, flags | O_CLOEXEC | O_NOFOLLOW);
	return fd >= 0 ? fd : -errno;
}

/* walk_find -- the entry of DIRFD matching NAME: exactly, else ignoring case.
 * Writes the on-disk name to FOUND. Returns 0 or -ENOENT (or another -errno). */
int walk_find(int dirfd, const char *name, char *found, size_t found_len)
{
	struct stat st;
	DIR *d = NULL;
	struct dirent *de = NULL;
	int fd = -1;
	int rc = -ENOENT;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		return snprintf(found, found_len, "%s", name) < (int)found_len ? 0 : -ENAMETOOLONG;
	}
	if (errno != ENOENT) {
		return -errno;
	}
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		rc = -errno;
		if (fd >= 0) {
			close(fd);
		}
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (names_casecmp(de->d_name, name) == 0 &&
		    (rc != 0 || strcmp(de->d_name, found) < 0) && strlen(de->d_name) < found_len) {
			strcpy(found, de->d_name);
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

/* Component walk: exact or case-insensitive per component. */
static int walk_slow(int imgfd, const char *rel, char *spelt, size_t spelt_len)
{
	char buf[PATH_MAX];
	char found[NAME_MAX + 1];
	char *save = NULL;
	int cur = dup(imgfd);
	size_t used = 0;
	int rc = 0;

	if (cur < 0) {
		return -errno;
	}
	snprintf(buf, sizeof(buf), "%s", rel);
	if (spelt) {
		spelt[0] = '\0';
	}
	for (char *c = strtok_r(buf, "/", &save); c && rc == 0; c = strtok_r(NULL, "/", &save)) {
		int next = -1;
		rc = walk_find(cur, c, found, sizeof(found));
		if (rc == 0) {
			next = open_beneath(cur, found, O_PATH);
			rc = next < 0 ? next : 0;
		}
		if (rc == 0 && spelt) {
			int n = snprintf(spelt + used, spelt_len - used, "%s%s", used ? "/" : "",
			                 found);
			used += (size_t)n;
			rc = used < spelt_len ? 0 : -ENAMETOOLONG;
		}
		close(cur);
		cur = next;
	}
	if (rc < 0) {
		if (cur >= 0) {
			close(cur);
		}
		return rc == -ELOOP ? -ENOTDIR : rc;
	}
	return cur;
}

/* walk_open -- an O_PATH fd of REL beneath IMGFD (a symlink as itself).
 * SPELT, when not NULL, receives the on-disk spelling. Returns fd or -errno. */
int walk_open(int imgfd, const char *rel, char *spelt, size_t spelt_len)
{
	int fd = -1;

	if (rel[0] == '\0') {
		if (spelt) {
			spelt[0] = '\0';
		}
		fd = dup(imgfd);
		return fd >= 0 ? fd : -errno;
	}
	if (atomic_load(&have_openat2)) {
		fd = open_beneath(imgfd, rel, O_PATH);
		if (fd >= 0) {
			if (spelt && snprintf(spelt, spelt_len, "%s", rel) >= (int)spelt_len) {
				close(fd);
				return -ENAMETOOLONG;
			}
			return fd;
		}
		if (fd != -ENOENT && fd != -ENOSYS) {
			return fd == -ELOOP ? -ENOTDIR : fd;
		}
	}
	return walk_slow(imgfd, rel, spelt, spelt_len);
}

/* walk_reopen -- a real fd with FLAGS for the object behind an O_PATH fd. */
int walk_reopen(int pathfd, int flags)
{
	char proc[64];
	int fd = -1;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

/* walk_parent -- an O_PATH fd of the directory holding REL, and REL's last
 * component in LEAF as the client spelt it. */
int walk_parent(int imgfd, const char *rel, char *leaf, size_t leaf_len)
{
	char dir[PATH_MAX];

	if (names_parent(rel, dir, sizeof(dir)) < 0 ||
	    snprintf(leaf, leaf_len, "%s", names_last(rel)) >= (int)leaf_len) {
		return -ENAMETOOLONG;
	}
	return walk_open(imgfd, dir, NULL, 0);
}
