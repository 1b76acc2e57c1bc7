/* migrate_tmp.c -- the hidden names a migration works under, and removing what they name.
 *
 * A copy is made under MIGRATE_TMP_PREFIX + the run's tag + "." + its name, a replaced copy
 * without a backup waits under MIGRATE_OLD_PREFIX + the tag + "." + its name (a hash of the
 * name when that would be too long); a temporary folder holds MIGRATE_UNFINISHED until it
 * is finished. The tag (fileio_tmp_tag: host, PID, random) is the run's own, so two runs
 * (two hosts over one store) never share a name, and a leftover is removed only when it is
 * provably abandoned (fileio_tmp_stale). Names without a tag are what versions before the
 * tag made: abandoned. Removing one never follows a symlink. No state: any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "migrate_int.h"

static uint64_t name_hash(const char *name)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		h = (h ^ *c) * 1099511628211ULL;
	}
	return h;
}

/* PREFIX, TAG and "." (TAG NULL: PREFIX only, the untagged form), then NAME or, when that
 * would not fit, "~" and a hash of NAME. */
static void prefixed_name(const char *prefix, const char *tag, const char *name, char *out,
                          size_t len)
{
	size_t head = strlen(prefix) + (tag ? FILEIO_TMP_TAG_LEN + 1 : 0);

	if (head + strlen(name) <= NAME_MAX) {
		snprintf(out, len, "%s%s%s%s", prefix, tag ? tag : "", tag ? "." : "", name);
		return;
	}
	snprintf(out, len, "%s%s%s~%016llx", prefix, tag ? tag : "", tag ? "." : "",
	         (unsigned long long)name_hash(name));
}

void migrate_tmp_name(const char *tag, const char *name, char *out, size_t len)
{
	prefixed_name(MIGRATE_TMP_PREFIX, tag, name, out, len);
}

void migrate_old_name(const char *tag, const char *name, char *out, size_t len)
{
	prefixed_name(MIGRATE_OLD_PREFIX, tag, name, out, len);
}

/* The part of the hidden NAME after its prefix (a migrate temporary's or a replaced copy's),
 * or NULL when NAME is neither. */
static const char *after_prefix(const char *name)
{
	if (strncmp(name, MIGRATE_TMP_PREFIX, strlen(MIGRATE_TMP_PREFIX)) == 0) {
		return name + strlen(MIGRATE_TMP_PREFIX);
	}
	if (strncmp(name, MIGRATE_OLD_PREFIX, strlen(MIGRATE_OLD_PREFIX)) == 0) {
		return name + strlen(MIGRATE_OLD_PREFIX);
	}
	return NULL;
}

static bool tagged(const char *rest)
{
	return fileio_tmp_tag_at(rest) && rest[FILEIO_TMP_TAG_LEN] == '.';
}

bool migrate_is_tmp(const char *name)
{
	return after_prefix(name) != NULL;
}

int migrate_tmp_stale(int dirfd, const char *name, time_t now)
{
	const char *rest = after_prefix(name);
	struct stat st;

	if (!rest) {
		return 0;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	return !tagged(rest) || fileio_tmp_stale(rest, &st, now);
}

bool migrate_tmp_of(const char *tmp, const char *name)
{
	char want[NAME_MAX + 1];
	char tag[FILEIO_TMP_TAG_LEN + 1];
	const char *rest = strncmp(tmp, MIGRATE_TMP_PREFIX, strlen(MIGRATE_TMP_PREFIX)) == 0
	                       ? tmp + strlen(MIGRATE_TMP_PREFIX)
	                       : NULL;

	if (!rest) {
		return false;
	}
	if (tagged(rest)) {
		memcpy(tag, rest, FILEIO_TMP_TAG_LEN);
		tag[FILEIO_TMP_TAG_LEN] = '\0';
	}
	migrate_tmp_name(tagged(rest) ? tag : NULL, name, want, sizeof(want));
	return strcmp(want, tmp) == 0;
}

bool migrate_partial_of(const struct migrate_plan *plan, const struct migrate_item *it,
                        const char *stale)
{
	char dir[PATH_MAX];
	char sdir[PATH_MAX];

	if (it->kind != MIGRATE_FILE || plan->priv->src_img[it->source] >= 0 ||
	    (it->action != MIGRATE_COPY && it->action != MIGRATE_REPLACE)) {
		return false;
	}
	return names_parent(it->target, dir, sizeof(dir)) == 0 &&
	       names_parent(stale, sdir, sizeof(sdir)) == 0 && strcmp(dir, sdir) == 0 &&
	       migrate_tmp_of(names_last(stale), names_last(it->target));
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
