/* walk.c -- resolve a path beneath a drive's images folder, safely.
 *
 * Uses openat2() with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so neither a
 * symlink nor ".." can take the daemon out of the folder; where the kernel
 * lacks openat2, a component walk with O_NOFOLLOW does the same. Names are
 * matched exactly first, then case-insensitively (the smallest spelling when
 * several differ only in case). A path longer than openat2 takes is walked in
 * pieces (walk_long). Not stateless: a process-wide index of folders' names
 * (case-insensitive, checked against each folder's times) answers misses of
 * the exact spelling without a scan; it is this file's own, under its own
 * lock (dc.lock), never held across a syscall. Thread-safe. Shared by the
 * FUSE filesystem (fs/) and migrate (migrate/); no FUSE here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "names.h"
#include "walk.h"

static atomic_int have_openat2 = 1;

/* openat2 gives up with EXDEV (EAGAIN after "..") when a rename or mount change
 * leaves it unsure the object is still beneath the folder (the object was
 * moved out while the walk ran): asked again up to WALK_RETRIES times, then
 * walked one component at a time. Never an answer for a caller. */
#define WALK_RETRIES 4

static bool races(int err)
{
	return err == EXDEV || err == EAGAIN;
}

/* PATH opened beneath DIRFD: the fd or -errno; -EAGAIN when PATH has several
 * components and must be walked one at a time (no openat2, or it kept
 * meeting renames); ".." is not beneath (-ENOENT). */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;

	if (atomic_load(&have_openat2)) {
		for (int i = 0; i < WALK_RETRIES; i++) {
			fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
			if (fd >= 0 || !races(errno)) {
				break;
			}
		}
		if (fd >= 0 || (errno != ENOSYS && !races(errno))) {
			return fd >= 0 ? fd : -errno;
		}
		if (errno == ENOSYS) {
			atomic_store(&have_openat2, 0);
		}
	}
	/* one component: what openat2 would do, with O_NOFOLLOW */
	if (strchr(path, '/')) {
		return -EAGAIN;
	}
	if (strcmp(path, "..") == 0) {
		return -ENOENT;
	}
	fd = openat(dirfd, path, flags | O_CLOEXEC | O_NOFOLLOW);
	return fd >= 0 ? fd : -errno;
}

/* ---- the case-insensitive directory index -----------------------------------------------------
 * A lookup that misses the exact name must not scan the whole folder each time (Samba asks for
 * many names that do not exist). The index keeps, per folder (st_dev, st_ino), the set of its
 * names ignoring case, valid while the folder's mtime and ctime are unchanged. Timestamps are
 * coarse, so an index built within DC_RACY_NS of the folder's last change is not trusted (the
 * racy-git rule). It is process-wide on purpose, like the kernel's dcache: a folder is the same
 * folder in every view. Bounded: past DC_MAX_NAMES names it starts afresh. Guarded by dc.lock. */

#define DC_BUCKETS 4096
#define DC_MAX_NAMES (1u << 21)
#define DC_RACY_NS (100 * 1000 * 1000LL)

struct dc_entry {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	struct timespec ctime;
	bool dups; /* two names differ only in case: answer by scanning */
	struct names_set names;
	struct dc_entry *next;
};

static struct {
	pthread_mutex_t lock;
	struct dc_entry *bucket[DC_BUCKETS]; /* protected by lock */
	size_t names;                        /* protected by lock */
} dc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t dc_slot(dev_t dev, ino_t ino)
{
	return (size_t)(((uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev) % DC_BUCKETS);
}

static bool ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static void dc_clear_locked(void)
{
	for (size_t i = 0; i < DC_BUCKETS; i++) {
		while (dc.bucket[i]) {
			struct dc_entry *e = dc.bucket[i];
			dc.bucket[i] = e->next;
			names_set_fini(&e->names);
			free(e);
		}
	}
	dc.names = 0;
}

/* Answer from the index: 0 (FOUND filled), -ENOENT, or 1 (not known). */
static int dc_lookup(const struct stat *dir, const char *name, char *found, size_t len)
{
	int rc = 1;

	pthread_mutex_lock(&dc.lock);
	for (struct dc_entry *e = dc.bucket[dc_slot(dir->st_dev, dir->st_ino)]; e; e = e->next) {
		if (e->dev == dir->st_dev && e->ino == dir->st_ino) {
			if (!e->dups && ts_eq(&e->mtime, &dir->st_mtim) && ts_eq(&e->ctime, &dir->st_ctim)) {
				const char *hit = names_set_get(&e->names, name);
				rc = !hit ? -ENOENT : snprintf(found, len, "%s", hit) < (int)len ? 0 : -ENAMETOOLONG;
			}
			break;
		}
	}
	pthread_mutex_unlock(&dc.lock);
	return rc;
}

/* Keep the index E of a folder (takes ownership), replacing an older one. */
static void dc_store(struct dc_entry *e)
{
	size_t slot = dc_slot(e->dev, e->ino);

	pthread_mutex_lock(&dc.lock);
	for (struct dc_entry **p = &dc.bucket[slot]; *p; p = &(*p)->next) {
		if ((*p)->dev == e->dev && (*p)->ino == e->ino) {
			struct dc_entry *old = *p;
			*p = old->next;
			dc.names -= names_set_count(&old->names);
			names_set_fini(&old->names);
			free(old);
			break;
		}
	}
	if (dc.names + names_set_count(&e->names) > DC_MAX_NAMES) {
		dc_clear_locked();
	}
	dc.names += names_set_count(&e->names);
	e->next = dc.bucket[slot];
	dc.bucket[slot] = e;
	pthread_mutex_unlock(&dc.lock);
}

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Scan the folder DIRFD (stat DIR): the match for NAME by the one rule (names_match_better:
 * exact, else the smallest spelling when several differ only in case) and, when E is not
 * NULL, every name into E. */
static int dc_scan(int dirfd, const char *name, char *found, size_t len, struct dc_entry *e)
{
	struct dirent *de = NULL;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	int rc = -ENOENT;

	if (!d) {
		rc = -errno;
		if (fd >= 0) {
			close(fd);
		}
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (e && names_set_add(&e->names, de->d_name) == 0) {
			e->dups = true;
		}
		if (names_match_better(name, de->d_name, rc == 0 ? found : NULL) &&
		    strlen(de->d_name) < len) {
			strcpy(found, de->d_name);
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

/* walk_find -- the entry of DIRFD matching NAME: exactly, else ignoring case.
 * Writes the on-disk name to FOUND. Returns 0 or -ENOENT (or another -errno). */
static int find_ci(int dirfd, const char *name, char *found, size_t found_len);

int walk_find(int dirfd, const char *name, char *found, size_t found_len)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		return snprintf(found, found_len, "%s", name) < (int)found_len ? 0 : -ENAMETOOLONG;
	}
	return errno == ENOENT ? find_ci(dirfd, name, found, found_len) : -errno;
}

/* NAME is not in DIRFD as spelt: find it ignoring case, through the index. */
static int find_ci(int dirfd, const char *name, char *found, size_t found_len)
{
	struct stat st;
	struct timespec now;
	struct dc_entry *e = NULL;
	int rc = 0;

	if (fstat(dirfd, &st) < 0) {
		return -errno;
	}
	rc = dc_lookup(&st, name, found, found_len);
	if (rc <= 0) {
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	e = calloc(1, sizeof(*e));
	if (e) {
		names_set_init(&e->names);
		*e = (struct dc_entry){.dev = st.st_dev, .ino = st.st_ino, .mtime = st.st_mtim,
		                       .ctime = st.st_ctim, .names = e->names};
	}
	rc = dc_scan(dirfd, name, found, found_len, e);
	/* trusted only when the folder had been still for a while before the scan */
	if (e && (rc == 0 || rc == -ENOENT) && ns_of(&now) - ns_of(&st.st_mtim) > DC_RACY_NS &&
	    ns_of(&now) - ns_of(&st.st_ctim) > DC_RACY_NS) {
		dc_store(e);
	} else if (e) {
		names_set_fini(&e->names);
		free(e);
	}
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

/* The common miss: the folder is spelt exactly, only the last name is not
 * (or does not exist). Returns an fd, -errno, or -EAGAIN (walk it all). */
static int walk_leaf(int imgfd, const char *rel, char *spelt, size_t spelt_len)
{
	char dir[PATH_MAX];
	char found[NAME_MAX + 1];
	const char *leaf = names_last(rel);
	int dfd = -1;
	int fd = -EAGAIN;

	if (leaf == rel || names_parent(rel, dir, sizeof(dir)) < 0) {
		dfd = dup(imgfd); /* a name right in the images folder */
	} else {
		dfd = open_beneath(imgfd, dir, O_PATH | O_DIRECTORY);
	}
	if (dfd < 0) {
		return -EAGAIN;
	}
	/* the exact spelling just failed: go straight to the index */
	fd = find_ci(dfd, leaf, found, sizeof(found));
	if (fd == 0) {
		fd = open_beneath(dfd, found, O_PATH);
		fd = fd == -ELOOP ? -ENOTDIR : fd;
	}
	if (fd >= 0 && spelt &&
	    snprintf(spelt, spelt_len, "%.*s%s", (int)(leaf - rel), rel, found) >= (int)spelt_len) {
		close(fd);
		fd = -ENAMETOOLONG;
	}
	close(dfd);
	return fd;
}

/* The exact spelling REL opened with FLAGS, with O_PATH's outcome where the
 * open with FLAGS fails otherwise than ENOENT (a symlink, a FIFO's ENXIO, a
 * flag openat2 refuses): *REAL says which the fd is. */
static int open_exact(int imgfd, const char *rel, int flags, bool *real)
{
	int fd = open_beneath(imgfd, rel, flags);

	*real = fd >= 0 && flags != O_PATH;
	if (fd < 0 && fd != -ENOENT && fd != -ENOSYS && flags != O_PATH) {
		fd = open_beneath(imgfd, rel, O_PATH);
	}
	return fd;
}

/* One piece of a path, shorter than PATH_MAX (what openat2 takes); its exact
 * spelling opened with FLAGS (open_exact), any other one with O_PATH. */
static int walk_piece(int imgfd, const char *rel, int flags, bool *real, char *spelt,
                      size_t spelt_len)
{
	int fd = -1;

	*real = false;
	if (rel[0] == '\0') {
		if (spelt) {
			spelt[0] = '\0';
		}
		fd = dup(imgfd);
		return fd >= 0 ? fd : -errno;
	}
	if (atomic_load(&have_openat2)) {
		fd = open_exact(imgfd, rel, flags, real);
		if (fd >= 0) {
			if (spelt && snprintf(spelt, spelt_len, "%s", rel) >= (int)spelt_len) {
				close(fd);
				*real = false;
				return -ENAMETOOLONG;
			}
			return fd;
		}
		if (fd != -ENOENT && fd != -EAGAIN) { /* EAGAIN: open_beneath says walk it */
			return fd == -ELOOP ? -ENOTDIR : fd;
		}
		fd = fd == -ENOENT ? walk_leaf(imgfd, rel, spelt, spelt_len) : fd;
		if (fd != -EAGAIN) {
			return fd;
		}
	}
	return walk_slow(imgfd, rel, spelt, spelt_len);
}

/* A path of PATH_MAX bytes or more (a tree deeper than the kernel's path
 * limit): walked in pieces cut at a '/', each by walk_piece beneath the folder
 * the piece before reached, with the same rules (no symlink, no ".." above
 * that folder, exact spelling first). A piece that reached a non-folder makes
 * the next one fail with ENOTDIR (openat2 and openat say so themselves). */
static int walk_long(int imgfd, const char *rel, char *spelt, size_t spelt_len)
{
	char piece[PATH_MAX];
	size_t used = 0;
	size_t len = strlen(rel);
	int cur = imgfd; /* not owned while it is IMGFD */

	for (;;) {
		const char *cut = len < PATH_MAX ? rel + len : memrchr(rel, '/', PATH_MAX - 1);
		int fd = -1;

		if (!cut || cut == rel) {
			fd = -ENAMETOOLONG; /* no '/' in PATH_MAX bytes: a name longer than NAME_MAX */
		} else {
			memcpy(piece, rel, (size_t)(cut - rel));
			piece[cut - rel] = '\0';
			bool real = false;
			fd = walk_piece(cur, piece, O_PATH, &real, spelt ? spelt + used : NULL,
			                spelt ? spelt_len - used : 0);
		}
		if (cur != imgfd) {
			close(cur);
		}
		if (fd < 0 || *cut == '\0') {
			return fd;
		}
		used += spelt ? strlen(spelt + used) : 0;
		if (spelt && used + 1 >= spelt_len) {
			close(fd);
			return -ENAMETOOLONG;
		}
		if (spelt) {
			spelt[used++] = '/';
			spelt[used] = '\0';
		}
		cur = fd;
		len -= (size_t)(cut + 1 - rel);
		rel = cut + 1;
	}
}

/* walk_open -- an O_PATH fd of REL beneath IMGFD (a symlink as itself).
 * SPELT, when not NULL, receives the on-disk spelling. Returns fd or -errno. */
int walk_open(int imgfd, const char *rel, char *spelt, size_t spelt_len)
{
	bool real = false;

	return walk_open_as(imgfd, rel, O_PATH, &real, spelt, spelt_len);
}

int walk_open_as(int imgfd, const char *rel, int flags, bool *real, char *spelt, size_t spelt_len)
{
	*real = false;
	if (strlen(rel) < PATH_MAX) {
		return walk_piece(imgfd, rel, flags, real, spelt, spelt_len);
	}
	return walk_long(imgfd, rel, spelt, spelt_len);
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

/* The longest spelling a walk of REL can write: each name as found on the
 * drive is at most NAME_MAX bytes, and at most 4 bytes per byte of the name
 * asked for (a case-insensitive match pairs code points of 1 to 4 bytes). */
static size_t spelt_bound(const char *rel)
{
	size_t most = 1;

	for (const char *c = rel; *c;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		most += (len * 4 < NAME_MAX ? len * 4 : len > NAME_MAX ? len : NAME_MAX) + 1;
		c += len + (slash ? 1 : 0);
	}
	return most;
}

int walk_open_alloc(int imgfd, const char *rel, char *small, size_t small_len, char **spelt)
{
	bool real = false;

	return walk_open_alloc_as(imgfd, rel, O_PATH, &real, small, small_len, spelt);
}

int walk_open_alloc_as(int imgfd, const char *rel, int flags, bool *real, char *small,
                       size_t small_len, char **spelt)
{
	size_t most = 0;
	char *buf = NULL;
	int fd = -ENAMETOOLONG;

	*spelt = NULL;
	*real = false;
	if (strlen(rel) < small_len) {
		fd = walk_open_as(imgfd, rel, flags, real, small, small_len);
		if (fd != -ENAMETOOLONG) {
			*spelt = fd >= 0 ? small : NULL;
			return fd;
		}
	}
	most = spelt_bound(rel);
	if (most <= small_len) {
		return fd; /* it did fit: the name or path itself is too long */
	}
	buf = malloc(most);
	if (!buf) {
		return -ENOMEM;
	}
	fd = walk_open_as(imgfd, rel, flags, real, buf, most);
	if (fd < 0) {
		free(buf);
	} else {
		*spelt = buf;
	}
	return fd;
}

/* walk_parent -- an O_PATH fd of the directory holding REL, and REL's last
 * component in LEAF as the client spelt it. */
int walk_parent(int imgfd, const char *rel, char *leaf, size_t leaf_len)
{
	char small[PATH_MAX];
	const char *last = names_last(rel);
	size_t len = last > rel ? (size_t)(last - rel) - 1 : 0;
	char *dir = len < sizeof(small) ? small : malloc(len + 1);
	int fd = -ENAMETOOLONG;

	if (!dir) {
		return -ENOMEM;
	}
	memcpy(dir, rel, len);
	dir[len] = '\0';
	if (snprintf(leaf, leaf_len, "%s", last) < (int)leaf_len) {
		fd = walk_open(imgfd, dir, NULL, 0);
	}
	if (dir != small) {
		free(dir);
	}
	return fd;
}
