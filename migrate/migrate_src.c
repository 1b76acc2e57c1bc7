/* migrate_src.c -- the drive source of a migration (see migrate_src.h), and the SHA-256
 * comparisons of a source file, whatever the source, with a file on the target.
 *
 * A drive's folders and files are reached with openat-family calls beneath its images
 * folder, never following a symlink. No state of its own: one thread per plan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate_int.h"
#include "sha256.h"

static int local_list(void *ctx, struct msrc_dir *dir, msrc_add_fn add, void *arg)
{
	struct dirent *de = NULL;
	DIR *d = NULL;
	int fd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;

	(void)ctx;
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (fd >= 0 && !d) {
		rc = -errno;
		close(fd);
	}
	while (d && rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			rc = add(arg, de->d_name);
		}
	}
	rc = rc == 0 && d && errno != 0 ? -errno : rc;
	if (d) {
		closedir(d);
	}
	return rc;
}

static int local_lstat(void *ctx, struct msrc_dir *d, const char *name, struct stat *st)
{
	(void)ctx;
	if (!name) {
		return fstat(d->fd, st) < 0 ? -errno : 0;
	}
	return fstatat(d->fd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int local_opendir(void *ctx, const struct msrc_dir *d, const char *name,
                         struct msrc_dir *out)
{
	(void)ctx;
	*out = (struct msrc_dir){
	    .fd = openat(d->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
	return out->fd < 0 ? -errno : 0;
}

static int local_open(void *ctx, const struct msrc_dir *d, const char *name, struct msrc_file *f)
{
	(void)ctx;
	*f = (struct msrc_file){
	    .fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
	if (f->fd < 0 || fstat(f->fd, &f->st) < 0) {
		int rc = -errno;
		if (f->fd >= 0) {
			close(f->fd);
		}
		f->fd = -1;
		return rc;
	}
	return 0;
}

static ssize_t local_read(void *ctx, struct msrc_file *f, void *buf, size_t n)
{
	ssize_t got = 0;

	(void)ctx;
	do {
		got = pread(f->fd, buf, n, (off_t)f->pos);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		return -errno;
	}
	f->pos += (uint64_t)got;
	return got;
}

static void local_close(void *ctx, struct msrc_file *f)
{
	(void)ctx;
	if (f->fd >= 0) {
		close(f->fd);
	}
	f->fd = -1;
}

static void local_cache_free(void *ctx, void *cache)
{
	(void)ctx;
	(void)cache;
}

static const char *local_why(void *ctx)
{
	(void)ctx;
	return NULL;
}

static int local_dos(void *ctx, struct msrc_dir *d, const char *name, uint32_t *attrs,
                     struct timespec *btime)
{ /* a drive's DOS attributes, if any, travel in its xattrs */
	(void)ctx;
	(void)d;
	(void)name;
	*attrs = 0;
	*btime = (struct timespec){0};
	return -ENODATA;
}

static int local_seek(void *ctx, struct msrc_file *f, uint64_t pos)
{
	(void)ctx;
	f->pos = pos; /* reads are preads */
	return 0;
}

const struct msrc_ops msrc_local_ops = {
    .list = local_list,
    .lstat = local_lstat,
    .opendir = local_opendir,
    .open = local_open,
    .read = local_read,
    .close = local_close,
    .cache_free = local_cache_free,
    .why = local_why,
    .dos = local_dos,
    .seek = local_seek,
};

void msrc_dir_fini(const struct msrc *s, struct msrc_dir *d)
{
	if (d->fd >= 0) {
		close(d->fd);
	}
	if (d->cache) {
		s->ops->cache_free(s->ctx, d->cache);
	}
	free(d->rel);
	*d = (struct msrc_dir){.fd = -1};
}

/* A hash pass's progress for the caller's TICK: BASE + the bytes read, of TOTAL. */
struct hash_tick {
	msrc_tick_fn tick;
	void *arg;
	uint64_t base;
	uint64_t total;
};

static int hash_tick(void *arg, uint64_t done)
{
	struct hash_tick *h = arg;

	return h->tick ? h->tick(h->arg, h->base + done, h->total) : 0;
}

struct src_reader {
	const struct msrc *s;
	struct msrc_file *f;
};

static ssize_t read_src(void *h, void *buf, size_t n)
{
	struct src_reader *r = h;

	return r->s->ops->read(r->s->ctx, r->f, buf, n);
}

int msrc_hash_pair(const struct msrc *s, struct msrc_file *f, int t,
                   unsigned char sa[MIGRATE_SHA_LEN], unsigned char st_[MIGRATE_SHA_LEN],
                   msrc_tick_fn tick, void *arg)
{
	struct stat tst;
	struct hash_tick ha = {.tick = tick, .arg = arg};
	struct hash_tick hb = {.tick = tick, .arg = arg};
	struct src_reader rd = {.s = s, .f = f};
	int rc = fstat(t, &tst) < 0 ? -errno : 0;

	if (rc < 0) {
		return rc;
	}
	if (!S_ISREG(f->st.st_mode) || !S_ISREG(tst.st_mode)) {
		return -EINVAL;
	}
	ha.total = hb.total = (uint64_t)f->st.st_size + (uint64_t)tst.st_size;
	hb.base = (uint64_t)f->st.st_size;
	rc = sha256_stream(read_src, &rd, hash_tick, &ha, sa);
	rc = rc < 0 ? rc : sha256_fd(t, hash_tick, &hb, st_);
	return rc;
}

int msrc_same_file(const struct msrc *s, const struct msrc_dir *d, const char *name, int t,
                   msrc_tick_fn tick, void *arg)
{
	unsigned char sa[MIGRATE_SHA_LEN];
	unsigned char sb[MIGRATE_SHA_LEN];
	struct msrc_file f = {.fd = -1};
	struct stat tst;
	int rc = fstat(t, &tst) < 0 ? -errno : s->ops->open(s->ctx, d, name, &f);

	if (rc == 0 &&
	    (!S_ISREG(f.st.st_mode) || !S_ISREG(tst.st_mode) || f.st.st_size != tst.st_size)) {
		s->ops->close(s->ctx, &f);
		return 0;
	}
	rc = rc < 0 ? rc : msrc_hash_pair(s, &f, t, sa, sb, tick, arg);
	if (f.fd >= 0 || f.h) {
		s->ops->close(s->ctx, &f);
	}
	return rc < 0 ? rc : memcmp(sa, sb, sizeof(sa)) == 0;
}
