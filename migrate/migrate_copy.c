/* migrate_copy.c -- copy one entry of a plan: a file, symlink or node to a verified temporary.
 *
 * A file's data, xattrs, owner and mode go into a temporary that is fsynced and compared
 * by SHA-256 with the source (which must not have changed meanwhile); a symlink is read
 * back, a fifo, socket or device node made anew. Then migrate_land.c puts it in place.
 * With --move the source entry is removed once its copy, or the target's equal copy, is
 * verified. Does not follow symlinks, does not copy hard links as links.
 * Single-threaded, as the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "migrate_run_int.h"
#include "sha256.h"

static int on_bytes(void *arg, off_t pos)
{
	struct mrun *r = arg;

	r->pr.bytes_done = r->base + (uint64_t)pos;
	return mrun_emit(r, MIGRATE_EV_BYTES, r->pr.item, NULL);
}

static int on_tick(void *arg, uint64_t done, uint64_t total)
{
	struct mrun *r = arg;

	r->pr.verify_done = done;
	r->pr.verify_total = total;
	return mrun_emit(r, MIGRATE_EV_VERIFY, r->pr.item, NULL);
}

/* Data, xattrs, owner and mode of the open source IN into the new OUT; fsynced and
 * compared by SHA-256; then the times, fsynced again. */
static int fill_file(struct mrun *r, struct migrate_item *it, int in, int out,
                     const struct stat *before)
{
	struct timespec ts[2] = {before->st_atim, before->st_mtim};
	struct stat after;
	int rc = 0;

	rc = mrun_at(r, rc, "copying") ? copy_data(in, out, before->st_size, on_bytes, r) : rc;
	rc = mrun_at(r, rc, "copying the xattrs") ? copy_xattrs(in, out) : rc;
	rc = mrun_at(r, rc, "setting owner and mode") ? mrun_set_owner_mode(out, before) : rc;
	rc = mrun_at(r, rc, "fsync") ? (fsync(out) < 0 ? -errno : 0) : rc;
	rc = mrun_at(r, rc, "verifying the copy") ? migrate_same_data(in, out, on_tick, r) : rc;
	rc = rc == 0 ? -EBADMSG : rc == 1 ? 0 : rc;
	if (rc == 0 && (fstat(in, &after) < 0 || mrun_changed(before, &after) ||
	                after.st_ctim.tv_sec != before->st_ctim.tv_sec ||
	                after.st_ctim.tv_nsec != before->st_ctim.tv_nsec)) {
		rc = -ESTALE;
	}
	it->verified = rc == 0;
	rc = mrun_at(r, rc, "setting the times")
	         ? (futimens(out, ts) < 0 || fsync(out) < 0 ? -errno : 0)
	         : rc;
	return rc;
}

/* A share's file is streamed into its temporary. When a copy stops while streaming (the
 * server gone, the run interrupted), the temporary is kept with a record of how far it got:
 * the source's size and mtime and the SHA-256 of the bytes written so far (also written every
 * PARTIAL_EVERY bytes, for a run that is killed). A rerun continues it when the source still
 * has that size and mtime and the temporary's first bytes still hash to the record; else it
 * starts over. */
#define PARTIAL_EVERY (64ULL * 1024 * 1024)

/* The stream of a share's file: each slice read is written to OUT at once (and hashed). */
struct tee {
	struct mrun *r;
	const struct migrate_item *it;
	struct msrc_file *f;
	int out;
	struct sha256_run *h;
	uint64_t saved; /* the length the record on OUT names */
};

static ssize_t tee_read(void *h, void *buf, size_t n)
{
	struct tee *t = h;
	const struct msrc *s = &t->r->p->src;
	ssize_t got = s->ops->read(s->ctx, t->f, buf, n);
	uint64_t at = t->f->pos - (uint64_t)(got > 0 ? got : 0);

	for (size_t off = 0; got > 0 && off < (size_t)got;) {
		ssize_t w = pwrite(t->out, (char *)buf + off, (size_t)got - off, (off_t)(at + off));
		if (w < 0 && errno != EINTR) {
			return -errno;
		}
		off += w > 0 ? (size_t)w : 0;
	}
	return got;
}

/* The record on T's temporary: the bytes hashed so far (all written to it). 0 or -errno. */
static int partial_save(struct tee *t)
{
	unsigned char sum[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	char rec[MIGRATE_PARTIAL_MAX];
	const struct stat *st = &t->f->st;
	uint64_t len = sha256_run_len(t->h);
	int n = 0;

	if (len == 0 || sha256_run_peek(t->h, sum) < 0) {
		return -EIO;
	}
	sha256_hex(sum, hex);
	n = snprintf(rec, sizeof(rec), "v1 %llu %lld.%09ld %llu %s",
	             (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
	             st->st_mtim.tv_nsec, (unsigned long long)len, hex);
	if (fsetxattr(t->out, MIGRATE_PARTIAL_XATTR, rec, (size_t)n, 0) < 0) {
		return -errno;
	}
	t->saved = len;
	return 0;
}

static int on_stream(void *arg, uint64_t done)
{
	struct tee *t = arg;

	if (done - t->saved >= PARTIAL_EVERY) {
		partial_save(t); /* best effort: on a target without xattrs a rerun starts over */
	}
	return on_bytes(t->r, (off_t)done);
}

static int on_readback(void *arg, uint64_t done)
{
	struct mrun *r = arg;

	return on_tick(r, done, (uint64_t)r->pr.item->st.st_size);
}

static int on_prefix(void *arg, uint64_t done)
{
	struct tee *t = arg;

	return on_tick(t->r, done, 0);
}

/* The stale temporary NAME in TDIR (another run's partial copy of T's file) becomes this
 * run's TMP when its record fits the source and nothing has it yet; else it is removed. */
static void claim_one(struct tee *t, int tdir, const char *name, const char *tmp, bool *claimed)
{
	unsigned char want[SHA256_LEN];
	int fd = *claimed ? -1
	                  : openat(tdir, name,
	                           O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	bool fits = fd >= 0 && migrate_partial_len(fd, &t->f->st, want) > 0;

	close_fd(fd);
	if (fits && renameat(tdir, name, tdir, tmp) == 0) { /* TMP is this run's: not there */
		*claimed = true;
		return;
	}
	migrate_remove_tmp(tdir, name);
}

/* The partial copies interrupted runs left of T's file (the provably abandoned temporaries
 * of its name: migrate_partial_of): the first whose record fits is renamed to TMP, the
 * others removed. */
static void claim_partial(struct tee *t, int tdir, const char *tmp)
{
	const struct migrate_plan *plan = t->r->plan;
	bool claimed = false;

	t->r->step = "looking for a partial copy an interrupted run left";
	for (size_t i = 0; i < plan->n_stale; i++) {
		if (migrate_partial_of(plan, t->it, plan->stale[i])) {
			claim_one(t, tdir, names_last(plan->stale[i]), tmp, &claimed);
		}
	}
}

/* The temporary TMP in TDIR for T's share file: an interrupted run's partial copy that fits
 * it (T->h fed with its bytes, verified; *FROM how many), or a new one. The fd or -errno. */
static int open_partial(struct tee *t, int tdir, const char *tmp, uint64_t *from)
{
	unsigned char want[SHA256_LEN];
	unsigned char got[SHA256_LEN];
	int fd = -1;
	uint64_t len = 0;
	int rc = 0;

	claim_partial(t, tdir, tmp);
	fd = openat(tdir, tmp, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	len = fd < 0 ? 0 : migrate_partial_len(fd, &t->f->st, want);

	*from = 0;
	if (len > 0) {
		t->r->step = "checking the partial copy an interrupted run left";
		rc = sha256_fd_prefix(t->h, fd, len, on_prefix, t);
		rc = rc < 0 ? rc : sha256_run_peek(t->h, got);
		if (rc == 0 && sha256_run_len(t->h) == len && memcmp(got, want, sizeof(got)) == 0 &&
		    ftruncate(fd, (off_t)len) == 0) {
			fcntl(fd, F_SETFL, 0);
			t->saved = len;
			*from = len;
			return fd;
		}
		sha256_run_free(t->h); /* start over */
		t->h = rc == -ECANCELED ? NULL : sha256_run_new();
		rc = rc == -ECANCELED ? rc : t->h ? 0 : -ENOMEM;
	}
	close_fd(fd);
	if (rc < 0) {
		return rc;
	}
	t->r->step = "removing an old temporary";
	rc = migrate_remove_tmp(tdir, tmp);
	t->r->step = "creating the temporary";
	fd = rc < 0 ? -1
	            : openat(tdir, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return rc < 0 ? rc : fd < 0 ? -errno : fd;
}

/* A file of a share into its temporary T->out: written as it is read and hashed (after the
 * FROM bytes of a partial copy, hashed in T->h), fsynced, read back and compared by SHA-256
 * with what was read; the source stat'ed again (it must not have changed meanwhile); then
 * its DOS attributes and times. No other xattrs: a share gives none. */
static int fill_stream(struct mrun *r, struct migrate_item *it, struct msrc_dir *sd, struct tee *t,
                       uint64_t from)
{
	const struct msrc *s = &r->p->src;
	struct msrc_file *f = t->f;
	struct timespec ts[2] = {f->st.st_atim, f->st.st_mtim};
	unsigned char got[MIGRATE_SHA_LEN];
	unsigned char back[MIGRATE_SHA_LEN];
	struct stat after;
	int out = t->out;
	int rc = from ? s->ops->seek(s->ctx, f, from) : 0;

	rc = mrun_at(r, rc, "copying")
	         ? sha256_run_feed(t->h, tee_read, t, UINT64_MAX, on_stream, t)
	         : rc;
	if (rc < 0 && sha256_run_len(t->h) > 0 && partial_save(t) == 0) {
		r->keep_tmp = true; /* a rerun continues it */
	}
	rc = rc < 0 ? rc : sha256_run_peek(t->h, got);
	rc = rc < 0 ? rc : f->pos != (uint64_t)f->st.st_size ? -ESTALE : 0;
	if (rc == 0 && fremovexattr(out, MIGRATE_PARTIAL_XATTR) < 0 && errno != ENODATA &&
	    errno != EOPNOTSUPP) {
		rc = -errno;
	}
	rc = mrun_at(r, rc, "setting owner and mode") ? mrun_set_owner_mode(out, &f->st) : rc;
	if (rc == 0) {
		mrun_keep_dos(r, it, out);
	}
	rc = mrun_at(r, rc, "fsync") ? (fsync(out) < 0 ? -errno : 0) : rc;
	rc = mrun_at(r, rc, "verifying the copy") ? sha256_fd(out, on_readback, r, back) : rc;
	rc = rc < 0 ? rc : memcmp(got, back, sizeof(got)) != 0 ? -EBADMSG : 0;
	rc = mrun_at(r, rc, "checking the source again")
	         ? s->ops->lstat(s->ctx, sd, names_last(it->path), &after)
	         : rc;
	rc = rc < 0 ? rc : mrun_changed(&f->st, &after) ? -ESTALE : 0;
	it->verified = rc == 0;
	rc = mrun_at(r, rc, "setting the times")
	         ? (futimens(out, ts) < 0 || fsync(out) < 0 ? -errno : 0)
	         : rc;
	return rc;
}

/* A share's open file F into the temporary TMP in TDIR, continuing a partial copy. */
static int copy_stream(struct mrun *r, struct migrate_item *it, struct msrc_dir *sd,
                       struct msrc_file *f, int tdir, const char *tmp)
{
	struct tee t = {.r = r, .it = it, .f = f, .out = -1, .h = sha256_run_new()};
	uint64_t from = 0;
	int rc = t.h ? 0 : -ENOMEM;

	t.out = rc < 0 ? rc : open_partial(&t, tdir, tmp, &from);
	rc = t.out < 0 ? t.out : 0;
	if (rc == 0 && from > 0) {
		char note[PATH_MAX + 160];
		const struct migrate_item *cur = r->pr.item;
		it->resumed = from;
		snprintf(note, sizeof(note),
		         "%s: continuing the partial copy an interrupted run left at byte %llu of "
		         "%llu (those bytes verified)",
		         it->path, (unsigned long long)from, (unsigned long long)f->st.st_size);
		mrun_emit(r, MIGRATE_EV_NOTE, NULL, note);
		r->pr.item = cur;
	}
	rc = rc < 0 ? rc : fill_stream(r, it, sd, &t, from);
	close_fd(t.out);
	sha256_run_free(t.h);
	return rc;
}

static int copy_regular(struct mrun *r, struct migrate_item *it, struct msrc_dir *sd, int tdir,
                        const char *tmp, struct stat *before)
{
	const struct msrc *s = &r->p->src;
	struct msrc_file f = {.fd = -1};
	int out = -1;
	int rc = s->ops->open(s->ctx, sd, names_last(it->path), &f);

	r->step = "opening the source";
	*before = rc == 0 ? f.st : *before;
	rc = rc == 0 && !S_ISREG(before->st_mode) ? -ESTALE : rc;
	if (rc == 0 && f.fd >= 0) {
		r->step = "removing an old temporary";
		rc = migrate_remove_tmp(tdir, tmp);
		r->step = "creating the temporary";
		out = rc < 0 ? -1
		             : openat(tdir, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		                      0600);
		rc = rc < 0 ? rc : out < 0 ? -errno : 0;
	}
	if (rc == 0 && f.fd >= 0) {
		fcntl(f.fd, F_SETFL, 0); /* opened O_NONBLOCK (a fifo in its place) */
		rc = fill_file(r, it, f.fd, out, before);
	} else if (rc == 0) {
		rc = copy_stream(r, it, sd, &f, tdir, tmp);
	}
	if (f.fd >= 0 || f.h) {
		s->ops->close(s->ctx, &f);
	}
	close_fd(out);
	return rc;
}

static int copy_symlink(struct mrun *r, struct migrate_item *it, int sdir, int tdir,
                        const char *tmp, struct stat *before)
{ /* a drive's: a share shows no symlinks */
	const char *name = names_last(it->path);
	char text[PATH_MAX];
	char back[PATH_MAX];
	ssize_t n = 0;
	ssize_t m = 0;

	r->step = "reading the link";
	if (fstatat(sdir, name, before, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (n = readlinkat(sdir, name, text, sizeof(text))) < 0) {
		return -errno;
	}
	if (!S_ISLNK(before->st_mode) || n >= (ssize_t)sizeof(text)) {
		return S_ISLNK(before->st_mode) ? -ENAMETOOLONG : -ESTALE;
	}
	text[n] = '\0';
	r->step = "creating the link";
	if (symlinkat(text, tdir, tmp) < 0 ||
	    fchownat(tdir, tmp, before->st_uid, before->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(tdir, tmp, (struct timespec[2]){before->st_atim, before->st_mtim},
	              AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	r->step = "verifying the link";
	m = readlinkat(tdir, tmp, back, sizeof(back));
	if (m < 0) {
		return -errno;
	}
	it->verified = m == n && memcmp(text, back, (size_t)n) == 0;
	return it->verified ? 0 : -EBADMSG;
}

/* A fifo, socket or device node: made anew with the same type, rdev and attributes. */
static int copy_node(struct mrun *r, struct migrate_item *it, int sdir, int tdir, const char *tmp,
                     struct stat *before)
{
	r->step = "making the node";
	if (fstatat(sdir, names_last(it->path), before, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if ((before->st_mode & S_IFMT) != (it->st.st_mode & S_IFMT)) {
		return -ESTALE;
	}
	if (mknodat(tdir, tmp, (before->st_mode & S_IFMT) | 0600, before->st_rdev) < 0 ||
	    fchownat(tdir, tmp, before->st_uid, before->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(tdir, tmp, before->st_mode & 07777, 0) < 0 ||
	    utimensat(tdir, tmp, (struct timespec[2]){before->st_atim, before->st_mtim},
	              AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	return 0;
}

/* --move: remove the source entry, unless it changed since WAS. */
static int remove_source(struct mrun *r, struct migrate_item *it, int sdir, const struct stat *was)
{
	const char *name = names_last(it->path);
	struct stat now;

	r->step = "removing the source";
	if (fstatat(sdir, name, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (mrun_changed(was, &now)) {
		return -ESTALE;
	}
	if (unlinkat(sdir, name, 0) < 0) {
		return -errno;
	}
	it->source_removed = true;
	return 0;
}

static int copy_entry(struct mrun *r, struct migrate_item *it, struct msrc_dir *sd, int tdir,
                      struct stat *before)
{
	char tmp[NAME_MAX + 1];
	int rc = 0;

	migrate_tmp_name(r->p->tag, mrun_tgt_name(r, it), tmp, sizeof(tmp));
	r->keep_tmp = false;
	r->step = "removing an old temporary";
	rc = it->kind == MIGRATE_FILE ? 0 : migrate_remove_tmp(tdir, tmp); /* a file's: below */
	if (rc == 0 && it->kind == MIGRATE_FILE) {
		rc = copy_regular(r, it, sd, tdir, tmp, before);
	} else if (rc == 0 && sd->fd < 0) {
		rc = -EOPNOTSUPP; /* a share shows files and folders only */
	} else if (rc == 0) {
		rc = it->kind == MIGRATE_SYMLINK ? copy_symlink(r, it, sd->fd, tdir, tmp, before)
		                                 : copy_node(r, it, sd->fd, tdir, tmp, before);
	}
	rc = rc < 0 ? rc : mrun_land(r, it, tdir, tmp);
	if (rc < 0 && !r->keep_tmp) {
		unlinkat(tdir, tmp, 0);
	}
	return rc;
}

void mrun_copy_item(struct mrun *r, struct migrate_item *it)
{
	struct stat before = it->st;
	struct msrc_dir sd = {.fd = -1};
	int tdir = -1;
	int rc = 0;

	r->step = "opening the source folder";
	rc = mrun_src_folder(r, it, &sd);
	if (rc == 0) {
		r->step = "opening the target folder";
		tdir = mrun_tgt_dir(r, it);
		rc = tdir < 0 ? tdir : 0;
	}
	rc = rc < 0 ? rc : copy_entry(r, it, &sd, tdir, &before);
	if (rc == 0) {
		it->result = MIGRATE_DONE;
		r->copied += it->kind == MIGRATE_FILE ? (uint64_t)before.st_size : 0;
	}
	if (rc == 0 && r->plan->move) {
		rc = remove_source(r, it, sd.fd, &before);
	}
	if (rc < 0 && rc != -ECANCELED) {
		mrun_item_fail(r, it, rc);
	}
	msrc_dir_fini(&r->p->src, &sd);
	close_fd(tdir);
}

/* 1 when the source entry of IT and the target's are the same, 0, or -errno. */
static int same_entry(struct mrun *r, const struct migrate_item *it, int sdir, int tdir)
{
	const char *sn = names_last(it->path);
	const char *tn = mrun_tgt_name(r, it);
	struct stat a;
	struct stat b;
	int fa = -1;
	int fb = -1;
	int rc = 0;

	if (it->kind == MIGRATE_FILE) { /* without blocking on a FIFO swapped in; types checked */
		fa = openat(sdir, sn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		fb = fa < 0 ? -1
		            : openat(tdir, tn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		rc = fa < 0 || fb < 0 ? -errno : migrate_same_data(fa, fb, on_tick, r);
	} else if (it->kind == MIGRATE_SYMLINK) {
		char x[PATH_MAX];
		char y[PATH_MAX];
		ssize_t n = readlinkat(sdir, sn, x, sizeof(x));
		ssize_t m = n < 0 ? -1 : readlinkat(tdir, tn, y, sizeof(y));
		rc = n < 0 || m < 0 ? -errno : n == m && memcmp(x, y, (size_t)n) == 0;
	} else {
		rc = fstatat(sdir, sn, &a, AT_SYMLINK_NOFOLLOW) < 0 ||
		             fstatat(tdir, tn, &b, AT_SYMLINK_NOFOLLOW) < 0
		         ? -errno
		         : (a.st_mode & S_IFMT) == (b.st_mode & S_IFMT) && a.st_rdev == b.st_rdev;
	}
	close_fd(fa);
	close_fd(fb);
	return rc;
}

/* SKIP or SHADOWED: nothing to copy; with --move, remove the source once the target's
 * entry is verified equal to it. */
void mrun_settle_item(struct mrun *r, struct migrate_item *it)
{
	int sdir = -1;
	int tdir = -1;
	int rc = 0;

	if (r->plan->move) {
		r->step = "opening the folders";
		sdir = mrun_src_dir(r, it);
		tdir = sdir < 0 ? -1 : mrun_tgt_dir(r, it);
		rc = sdir < 0 ? sdir : tdir < 0 ? tdir : 0;
	}
	if (rc == 0 && r->plan->move && (it->action == MIGRATE_SHADOWED || !it->verified)) {
		r->step = "comparing with the target's copy (the source is kept)";
		rc = same_entry(r, it, sdir, tdir);
		rc = rc == 0 ? -EBADMSG : rc == 1 ? 0 : rc;
		it->verified = rc == 0;
	}
	rc = rc == 0 && r->plan->move ? remove_source(r, it, sdir, &it->st) : rc;
	if (rc == 0) {
		it->result = MIGRATE_DONE;
	} else if (rc != -ECANCELED) {
		mrun_item_fail(r, it, rc);
	}
	close_fd(sdir);
	close_fd(tdir);
}
