/* inomap.c -- the inode numbers that moved with a rename, kept in the state directory.
 *
 * An entry's st_ino is made from its parent's and its name (names_ino_child);
 * a rename through the view records the number the entry had under its new
 * (parent, name), so it keeps it after the kernel forgot it and after a
 * restart, and its children keep theirs. The map is an append-only log of
 * set/delete records with a checksum each (a torn last record is ignored),
 * rewritten compactly at start and when it holds mostly dead records. It is
 * not fsynced per record: a kill -9 loses nothing, a power cut the last few.
 * No lock of its own: the caller serialises every call (node.c, under fs->lock;
 * the log append is the one write made under it, in the state directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inomap.h"
#include "config.h"
#include "fileio.h"
#include "names.h"

#define MAGIC       "PXEINO1\n"
#define MAGIC_LEN   8
#define MAX_ENTRIES (1u << 20)         /* beyond this, renames are not recorded */
#define MAX_FILE    (128 * 1024 * 1024) /* a longer log is not read */
#define HEAD_LEN    (1 + 2 + 8 + 8)     /* op, name length, parent, state */
#define REC_MAX     (HEAD_LEN + NAME_MAX + 4)
#define MIN_BUCKETS 256u

struct ient {
	uint64_t parent;
	uint64_t state;
	uint64_t ino; /* names_ino_of(state) */
	struct ient *next_key;
	struct ient *next_ino;
	char name[]; /* exact, as served */
};

struct inomap {
	struct ient **by_key;
	struct ient **by_ino;
	size_t n_buckets; /* a power of two */
	size_t count;
	size_t records; /* in the log file */
	int fd;         /* the log, O_APPEND; -1: in memory only */
	int lock_fd;
	char *path;
	bool full_said;
};

static uint64_t key_hash(uint64_t parent, const char *name)
{
	uint64_t h = parent ^ 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h = (h ^ *p) * 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static size_t slot(const struct inomap *m, uint64_t h)
{
	return (size_t)((h * 0x9e3779b97f4a7c15ull) >> 17) & (m->n_buckets - 1);
}

static struct ient **find_key(struct inomap *m, uint64_t parent, const char *name)
{
	struct ient **p = &m->by_key[slot(m, key_hash(parent, name))];

	for (; *p; p = &(*p)->next_key) {
		if ((*p)->parent == parent && strcmp((*p)->name, name) == 0) {
			return p;
		}
	}
	return p;
}

static void link_in(struct inomap *m, struct ient *e)
{
	struct ient **k = &m->by_key[slot(m, key_hash(e->parent, e->name))];
	struct ient **i = &m->by_ino[slot(m, e->ino)];

	e->next_key = *k;
	*k = e;
	e->next_ino = *i;
	*i = e;
}

static void grow(struct inomap *m)
{
	size_t n = m->n_buckets * 2;
	struct ient **k = calloc(n, sizeof(*k));
	struct ient **i = calloc(n, sizeof(*i));
	struct ient **old = m->by_key;
	size_t old_n = m->n_buckets;

	if (!k || !i) {
		free(k);
		free(i);
		return; /* slower, still correct */
	}
	free(m->by_ino);
	m->by_key = k;
	m->by_ino = i;
	m->n_buckets = n;
	for (size_t s = 0; s < old_n; s++) {
		for (struct ient *e = old[s], *next = NULL; e; e = next) {
			next = e->next_key;
			link_in(m, e);
		}
	}
	free(old);
}

static void unlink_ino(struct inomap *m, struct ient *e)
{
	for (struct ient **p = &m->by_ino[slot(m, e->ino)]; *p; p = &(*p)->next_ino) {
		if (*p == e) {
			*p = e->next_ino;
			return;
		}
	}
}

/* Change the table only (no record); false when full or out of memory. */
static bool mem_set(struct inomap *m, uint64_t parent, const char *name, uint64_t state)
{
	struct ient **p = find_key(m, parent, name);
	struct ient *e = *p;
	size_t len = strlen(name);

	if (e) {
		unlink_ino(m, e);
		*p = e->next_key;
		m->count--;
	} else if (m->count >= MAX_ENTRIES || !(e = malloc(sizeof(*e) + len + 1))) {
		return false;
	} else {
		memcpy(e->name, name, len + 1);
	}
	e->parent = parent;
	e->state = state;
	e->ino = names_ino_of(state);
	link_in(m, e);
	m->count++;
	if (m->count > m->n_buckets) {
		grow(m);
	}
	return true;
}

static bool mem_del(struct inomap *m, uint64_t parent, const char *name)
{
	struct ient **p = find_key(m, parent, name);
	struct ient *e = *p;

	if (!e) {
		return false;
	}
	*p = e->next_key;
	unlink_ino(m, e);
	free(e);
	m->count--;
	return true;
}

static uint32_t check32(const unsigned char *p, size_t len)
{
	uint32_t h = 0x811c9dc5u;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ p[i]) * 0x01000193u;
	}
	return h;
}

/* One record into BUF (REC_MAX bytes); returns its length. */
static size_t encode(unsigned char *buf, char op, uint64_t parent, const char *name, uint64_t state)
{
	uint16_t len = (uint16_t)strlen(name);
	uint32_t sum = 0;

	buf[0] = (unsigned char)op;
	memcpy(buf + 1, &len, 2);
	memcpy(buf + 3, &parent, 8);
	memcpy(buf + 11, &state, 8);
	memcpy(buf + HEAD_LEN, name, len);
	sum = check32(buf, HEAD_LEN + len);
	memcpy(buf + HEAD_LEN + len, &sum, 4);
	return HEAD_LEN + len + 4;
}

/* One record from P (REM bytes) into the table; its length, or 0 when it is
 * torn or not a record (the rest of the log is ignored). */
static size_t decode(struct inomap *m, const unsigned char *p, size_t rem)
{
	char name[NAME_MAX + 1];
	uint16_t len = 0;
	uint64_t parent = 0;
	uint64_t state = 0;
	uint32_t sum = 0;

	if (rem < HEAD_LEN + 4) {
		return 0;
	}
	memcpy(&len, p + 1, 2);
	if (len == 0 || len > NAME_MAX || rem < HEAD_LEN + (size_t)len + 4 ||
	    (p[0] != 'S' && p[0] != 'D')) {
		return 0;
	}
	memcpy(&sum, p + HEAD_LEN + len, 4);
	if (sum != check32(p, HEAD_LEN + len)) {
		return 0;
	}
	memcpy(&parent, p + 3, 8);
	memcpy(&state, p + 11, 8);
	memcpy(name, p + HEAD_LEN, len);
	name[len] = '\0';
	if (strlen(name) != len || names_check_component(name) < 0) {
		return 0;
	}
	if (p[0] == 'S') {
		mem_set(m, parent, name, state);
	} else {
		mem_del(m, parent, name);
	}
	return HEAD_LEN + len + 4;
}

/* Read the log at m->path (bounded) into the table. */
static void load(struct inomap *m)
{
	struct stat st;
	unsigned char *buf = NULL;
	int fd = open(m->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		if (fd >= 0) {
			log_warnx("inode map %s: not a regular file of at most %d bytes; starting "
			          "a new one",
			          m->path, MAX_FILE);
		}
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	if (got < MAGIC_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0) {
		goto out;
	}
	for (size_t off = MAGIC_LEN, n = 1; off < got && n > 0; off += n) {
		n = decode(m, buf + off, got - off);
	}
out:
	free(buf);
	if (fd >= 0) {
		close(fd);
	}
}

/* Rewrite the log with one record per entry (a temporary, fsynced, renamed
 * over it), then append to the new one. */
static int compact(struct inomap *m)
{
	unsigned char rec[REC_MAX];
	struct fileio_opts o = {.mode = 0600};
	struct fileio_tmp t;
	int rc = fileio_begin(&t, m->path, &o);

	rc = rc < 0 ? rc : fileio_write_all(t.fd, MAGIC, MAGIC_LEN);
	for (size_t s = 0; rc == 0 && s < m->n_buckets; s++) {
		for (struct ient *e = m->by_key[s]; rc == 0 && e; e = e->next_key) {
			rc = fileio_write_all(t.fd, rec,
			                      encode(rec, 'S', e->parent, e->name, e->state));
		}
	}
	if (rc < 0 && t.fd >= 0) {
		fileio_abort(&t);
	} else if (rc == 0) {
		rc = fileio_commit(&t);
	}
	if (m->fd >= 0) {
		close(m->fd);
	}
	m->fd = rc < 0 ? -1 : open(m->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	m->records = m->count;
	return rc < 0 ? rc : m->fd < 0 ? -errno : 0;
}

/* Append one record; a log that cannot be written leaves the map in memory. */
static void append(struct inomap *m, char op, uint64_t parent, const char *name, uint64_t state)
{
	unsigned char rec[REC_MAX];
	int rc = 0;

	if (m->fd < 0) {
		return;
	}
	rc = fileio_write_all(m->fd, rec, encode(rec, op, parent, name, state));
	m->records++;
	if (rc == 0 && m->records > 2 * m->count + 4096) {
		rc = compact(m);
	}
	if (rc < 0) {
		log_warnx("inode map %s: %s; renamed entries keep their numbers only until the "
		          "next start",
		          m->path, strerror(-rc));
		if (m->fd >= 0) {
			close(m->fd);
		}
		m->fd = -1;
	}
}

void inomap_open(struct inomap *m, const char *dir, const char *mountpoint)
{
	char *lock = NULL;
	int rc = 0;
	uint64_t tag = 0;

	if (!m || !dir || !mountpoint || m->path) {
		return;
	}
	tag = names_fold_hash(mountpoint, strlen(mountpoint));
	(void)mkdir(dir, 0755);
	if (asprintf(&m->path, "%s/inodes-%016llx.map", dir, (unsigned long long)tag) < 0) {
		m->path = NULL;
		return;
	}
	if (asprintf(&lock, "%s.lock", m->path) < 0) {
		return;
	}
	m->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(lock);
	if (m->lock_fd < 0 || flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		log_warnx("inode map %s: %s; renamed entries keep their numbers only until the "
		          "next start",
		          m->path, m->lock_fd < 0 ? strerror(errno) : "in use by another mount");
		return;
	}
	load(m);
	rc = compact(m);
	if (rc < 0) {
		log_warnx("inode map %s: cannot write it (%s); renamed entries keep their "
		          "numbers only until the next start",
		          m->path, strerror(-rc));
	}
}

struct inomap *inomap_new(void)
{
	struct inomap *m = calloc(1, sizeof(*m));

	if (!m) {
		return NULL;
	}
	m->fd = -1;
	m->lock_fd = -1;
	m->n_buckets = MIN_BUCKETS;
	m->by_key = calloc(m->n_buckets, sizeof(*m->by_key));
	m->by_ino = calloc(m->n_buckets, sizeof(*m->by_ino));
	if (!m->by_key || !m->by_ino) {
		inomap_free(m);
		return NULL;
	}
	return m;
}

void inomap_free(struct inomap *m)
{
	if (!m) {
		return;
	}
	for (size_t s = 0; m->by_key && s < m->n_buckets; s++) {
		for (struct ient *e = m->by_key[s], *next = NULL; e; e = next) {
			next = e->next_key;
			free(e);
		}
	}
	if (m->fd >= 0) {
		close(m->fd);
	}
	if (m->lock_fd >= 0) {
		close(m->lock_fd);
	}
	free(m->by_key);
	free(m->by_ino);
	free(m->path);
	free(m);
}

bool inomap_get(struct inomap *m, uint64_t parent, const char *name, uint64_t *state)
{
	struct ient *e = m ? *find_key(m, parent, name) : NULL;

	if (e) {
		*state = e->state;
	}
	return e != NULL;
}

bool inomap_taken(struct inomap *m, uint64_t ino)
{
	for (struct ient *e = m ? m->by_ino[slot(m, ino)] : NULL; e; e = e->next_ino) {
		if (e->ino == ino) {
			return true;
		}
	}
	return false;
}

void inomap_set(struct inomap *m, uint64_t parent, const char *name, uint64_t state)
{
	uint64_t old = 0;

	if (!m || (inomap_get(m, parent, name, &old) && old == state)) {
		return;
	}
	if (!mem_set(m, parent, name, state)) {
		if (!m->full_said) {
			log_warnx("inode map: %zu entries or no memory; further renamed entries "
			          "get numbers from their new names",
			          m->count);
			m->full_said = true;
		}
		mem_del(m, parent, name);
		append(m, 'D', parent, name, 0);
		return;
	}
	append(m, 'S', parent, name, state);
}

void inomap_del(struct inomap *m, uint64_t parent, const char *name)
{
	if (m && mem_del(m, parent, name)) {
		append(m, 'D', parent, name, 0);
	}
}
