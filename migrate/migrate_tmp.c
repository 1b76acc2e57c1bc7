/* migrate_tmp.c -- the hidden names a migration works under, and removing what they name.
 *
 * A copy is made under MIGRATE_TMP_PREFIX + its name, a replaced copy without a backup
 * waits under MIGRATE_OLD_PREFIX + its name (a hash of the name when that would be too
 * long); a temporary folder holds MIGRATE_UNFINISHED until it is finished. Removing
 * one never follows a symlink. No state: any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate_int.h"

static void prefixed_name(const char *prefix, const char *name, char *out, size_t len)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	if (strlen(prefix) + strlen(name) <= NAME_MAX) {
		snprintf(out, len, "%s%s", prefix, name);
		return;
	}
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		h = (h ^ *c) * 1099511628211ULL;
	}
	snprintf(out, len, "%s~%016llx", prefix, (unsigned long long)h);
}

void migrate_tmp_name(const char *name, char *out, size_t len)
{
	prefixed_name(MIGRATE_TMP_PREFIX, name, out, len);
}

void migrate_old_name(const char *name, char *out, size_t len)
{
	prefixed_name(MIGRATE_OLD_PREFIX, name, out, len);
}

int migrate_remove_tmp(int dirfd, const char *name)
{
	struct stat st;
	int fd = -1;
	int rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : -errno;
	}
	fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		unlinkat(fd, MIGRATE_UNFINISHED, 0);
		close(fd);
	}
	rc = unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -errno;
	return rc;
}
