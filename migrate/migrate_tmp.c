/* migrate_tmp.c -- the hidden names a migration works under, and removing what they name.
 *
 * A copy is made under MIGRATE_TMP_PREFIX + the run's tag + "." + its name, a replaced copy
 * without a backup waits under MIGRATE_OLD_PREFIX + the tag + "." + its name (a hash of the
 * name when that would be too long); a temporary folder holds MIGRATE_UNFINISHED until it
 * is finished. The tag (fileio_tmp_tag: host, PID, random) is the run's own, so two runs
 * (two hosts over one store) never share a name, and a leftover is removed only when it is
 * provably abandoned (fileio_tmp_stale). Names without a tag are what versions before the
 * tag made: abandoned. Removing one never follows a symlink. Also the record of a share
 * file's partial copy, and which leftovers a plan's run continues rather than removes.
 * No state of its own: a plan's thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
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

uint64_t migrate_partial_len(int fd, const struct stat *src, unsigned char want[MIGRATE_SHA_LEN])
{
	char rec[MIGRATE_PARTIAL_MAX + 1];
	char hex[2 * MIGRATE_SHA_LEN + 1];
	unsigned long long size = 0;
	unsigned long long len = 0;
	long long sec = 0;
	long nsec = 0;
	struct stat st;
	ssize_t n = fgetxattr(fd, MIGRATE_PARTIAL_XATTR, rec, MIGRATE_PARTIAL_MAX);

	if (n <= 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		return 0;
	}
	rec[n] = '\0';
	if (sscanf(rec, "v1 %llu %lld.%9ld %llu %64[0-9a-f]", &size, &sec, &nsec, &len, hex) != 5 ||
	    strlen(hex) != 2 * MIGRATE_SHA_LEN || size != (unsigned long long)src->st_size ||
	    sec != (long long)src->st_mtim.tv_sec || nsec != src->st_mtim.tv_nsec || len == 0 ||
	    len > size || len > (unsigned long long)st.st_size) {
		return 0;
	}
	for (size_t i = 0; i < MIGRATE_SHA_LEN; i++) {
		unsigned int b = 0;
		sscanf(hex + 2 * i, "%2x", &b);
		want[i] = (unsigned char)b;
	}
	return len;
}

/* How far the stale temporary STALE (a target path) got as a partial copy of IT: its record's
 * length when that fits IT's source as planned, else 0. */
static uint64_t stale_partial_len(const struct migrate_plan *plan, const struct migrate_item *it,
                                  const char *stale)
{
	unsigned char want[MIGRATE_SHA_LEN];
	char dir[PATH_MAX];
	int dfd = names_parent(stale, dir, sizeof(dir)) < 0
	              ? -1
	              : walk_open(plan->priv->tgt_img, dir, NULL, 0);
	int fd = dfd < 0 ? -1
	                 : openat(dfd, names_last(stale),
	                          O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	uint64_t len = fd < 0 ? 0 : migrate_partial_len(fd, &it->st, want);

	if (fd >= 0) {
		close(fd);
	}
	if (dfd >= 0) {
		close(dfd);
	}
	return len;
}

/* The item STALE is a partial copy of (migrate_partial_of), or SIZE_MAX. */
static size_t partial_item(const struct migrate_plan *plan, const char *stale)
{
	for (size_t k = 0; k < plan->n_items; k++) {
		if (migrate_partial_of(plan, &plan->items[k], stale)) {
			return k;
		}
	}
	return SIZE_MAX;
}

int migrate_note_partials(struct migrate_plan *plan)
{
	if (plan->n_stale == 0) {
		return 0;
	}
	plan->stale_resume = calloc(plan->n_stale, sizeof(*plan->stale_resume));
	plan->stale_item = calloc(plan->n_stale, sizeof(*plan->stale_item));
	if (!plan->stale_resume || !plan->stale_item) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->n_stale; i++) {
		size_t k = partial_item(plan, plan->stale[i]);
		bool claimed = false;
		plan->stale_item[i] = k;
		for (size_t j = 0; j < i && k != SIZE_MAX; j++) {
			claimed =
			    claimed || (plan->stale_item[j] == k && plan->stale_resume[j] > 0);
		}
		if (k != SIZE_MAX && !claimed && plan->priv->tgt_img >= 0) {
			plan->stale_resume[i] =
			    stale_partial_len(plan, &plan->items[k], plan->stale[i]);
		}
	}
	return 0;
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
