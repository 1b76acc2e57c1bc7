/* migrate_plan.c -- walk a source's images tree beside the target's, deciding per entry.
 *
 * Reads only (lstat, readdir, readlink, and reads to compare contents), with
 * openat-family calls beneath the two images folders, never following a symlink.
 * A name matches on the target exactly first, then ignoring case as the view does,
 * unless the source has that other spelling itself. Also the SHA-256 comparison of
 * two files, which the run uses too. Single-threaded per plan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "migrate_int.h"
#include "sha256.h"

#define MAX_DEPTH  128

/* A folder's names without "." and "..", sorted with strcmp. */
struct listing {
	char **names;
	size_t n;
};

/* State of one source's walk. */
struct walk {
	struct migrate_plan *plan;
	struct migrate_priv *p;
	const struct msrc *s; /* how the source is read */
	size_t src;
	bool verify;
	char *err;
	size_t errlen;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->names[i]);
	}
	free(l->names);
	l->names = NULL;
	l->n = 0;
}

static int listing_add(struct listing *l, const char *name, size_t *cap)
{
	char **grown = NULL;

	if (l->n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		grown = realloc(l->names, *cap * sizeof(*grown));
		if (!grown) {
			return -ENOMEM;
		}
		l->names = grown;
	}
	l->names[l->n] = strdup(name);
	return l->names[l->n++] ? 0 : -ENOMEM;
}

static int list_dir(int dirfd, struct listing *out)
{
	struct dirent *de = NULL;
	DIR *d = NULL;
	size_t cap = 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;

	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (fd >= 0 && !d) {
		rc = -errno;
		close(fd);
	}
	while (d && rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			rc = listing_add(out, de->d_name, &cap);
		}
	}
	rc = rc == 0 && d && errno != 0 ? -errno : rc;
	if (d) {
		closedir(d);
	}
	if (rc == 0 && out->n > 1) {
		qsort(out->names, out->n, sizeof(*out->names), cmp_names);
	}
	return rc;
}

struct listing_add_arg {
	struct listing *l;
	size_t cap;
};

static int add_name(void *arg, const char *name)
{
	struct listing_add_arg *a = arg;

	return listing_add(a->l, name, &a->cap);
}

/* A source folder's names, sorted. */
static int list_src(const struct walk *w, struct msrc_dir *sd, struct listing *out)
{
	struct listing_add_arg a = {.l = out};
	int rc = w->s->ops->list(w->s->ctx, sd, add_name, &a);

	if (rc == 0 && out->n > 1) {
		qsort(out->names, out->n, sizeof(*out->names), cmp_names);
	}
	return rc;
}

static bool listing_has(const struct listing *l, const char *name)
{
	return l->n > 0 && bsearch(&name, l->names, l->n, sizeof(*l->names), cmp_names) != NULL;
}

/* The target's spelling of the source's NAME: exact, else a case variant the source
 * folder does not have itself, else NAME (to be created). */
static void target_name(const struct listing *src, const struct listing *tgt, const char *name,
                        char *out, size_t len)
{
	snprintf(out, len, "%s", name);
	if (listing_has(tgt, name)) {
		return;
	}
	for (size_t i = 0; i < tgt->n; i++) {
		if (names_casecmp(tgt->names[i], name) == 0 && !listing_has(src, tgt->names[i]) &&
		    !names_is_hidden_temp(tgt->names[i])) {
			snprintf(out, len, "%s", tgt->names[i]);
			return;
		}
	}
}

/* The message "WHAT DRIVE:PATH: reason" in errbuf; returns -1. */
static int walk_fail_on(struct walk *w, const char *what, const char *drive, const char *path,
                        int err)
{
	snprintf(w->err, w->errlen, "%s %s:%s%s: %s", what, drive,
	         path[0] ? "" : " the images folder", path, strerror(-err));
	return -1;
}

static int walk_fail(struct walk *w, const char *what, const char *path, int err)
{
	return walk_fail_on(w, what, w->plan->sources[w->src].name, path, err);
}

/* A new item for NAME (TNAME on the target) in folder PARENT; its index in *idx. */
static int add_item(struct walk *w, struct msrc_dir *sd, size_t parent, const char *name,
                    const char *tname, const struct stat *st, size_t *idx)
{
	struct migrate_plan *plan = w->plan;
	struct migrate_item *it = NULL;
	char path[PATH_MAX];
	char tpath[PATH_MAX];

	if (names_join(plan->items[parent].path, name, path, sizeof(path)) < 0 ||
	    names_join(plan->items[parent].target, tname, tpath, sizeof(tpath)) < 0) {
		return walk_fail(w, "path too long in", plan->items[parent].path, -ENAMETOOLONG);
	}
	if (plan->n_items == w->p->cap) {
		size_t cap = w->p->cap ? w->p->cap * 2 : 64;
		struct migrate_item *grown = realloc(plan->items, cap * sizeof(*grown));
		if (!grown) {
			return walk_fail(w, "out of memory planning", path, -ENOMEM);
		}
		plan->items = grown;
		w->p->cap = cap;
	}
	it = &plan->items[plan->n_items];
	*it = (struct migrate_item){.source = w->src, .st = *st, .parent = parent};
	it->have_dos = w->s->ops->dos(w->s->ctx, sd, name, &it->dos, &it->btime) == 0;
	it->path = strdup(path);
	it->target = strdup(tpath);
	plan->n_items++;
	if (!it->path || !it->target) {
		return walk_fail(w, "out of memory planning", path, -ENOMEM);
	}
	*idx = plan->n_items - 1;
	return 0;
}

static enum migrate_kind kind_of(mode_t mode)
{
	if (S_ISDIR(mode)) {
		return MIGRATE_FOLDER;
	}
	if (S_ISREG(mode)) {
		return MIGRATE_FILE;
	}
	return S_ISLNK(mode) ? MIGRATE_SYMLINK : MIGRATE_SPECIAL;
}

/* 1 when the symlinks NAME in SFD and TNAME in TFD hold the same text, 0, or -errno. */
static int same_link(const struct msrc_dir *sd, const char *name, int tfd, const char *tname)
{
	char a[PATH_MAX];
	char b[PATH_MAX];
	ssize_t la = sd->fd < 0 ? (errno = EOPNOTSUPP, -1) : readlinkat(sd->fd, name, a, sizeof(a));
	ssize_t lb = la < 0 ? -1 : readlinkat(tfd, tname, b, sizeof(b));

	if (la < 0 || lb < 0) {
		return -errno;
	}
	return la == lb && memcmp(a, b, (size_t)la) == 0;
}

/* Compare two regular files of equal size and mtime by SHA-256: 1 same, 0, -errno. Opened
 * without blocking: a FIFO swapped in since the stat would wait for a writer forever (its type
 * is checked before anything is read). */
static int same_file(const struct walk *w, const struct msrc_dir *sd, const char *name, int tfd,
                     const char *tname)
{
	int b = openat(tfd, tname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int rc = b < 0 ? -errno : msrc_same_file(w->s, sd, name, b, NULL, NULL);

	if (b >= 0) {
		close(b);
	}
	return rc;
}

/* <0 when A's mtime is before B's, 0 the same, >0 after. */
static int cmp_mtime(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec) {
		return a->st_mtim.tv_sec < b->st_mtim.tv_sec ? -1 : 1;
	}
	return a->st_mtim.tv_nsec < b->st_mtim.tv_nsec ? -1
	                                               : a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/* Both files' SHA-256 into the item, for the report; 1 when they are the same. */
static int hash_both(struct walk *w, struct migrate_item *it, const struct msrc_dir *sd,
                     const char *name, int tfd, const char *tname)
{
	struct msrc_file f = {.fd = -1};
	int b = openat(tfd, tname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int rc = b < 0 ? -errno : w->s->ops->open(w->s->ctx, sd, name, &f);

	rc = rc < 0 ? rc : msrc_hash_pair(w->s, &f, b, it->sha, it->tsha, NULL, NULL);
	if (f.fd >= 0 || f.h) {
		w->s->ops->close(w->s->ctx, &f);
	}
	if (b >= 0) {
		close(b);
	}
	if (rc < 0) {
		return walk_fail(w, "cannot compare", it->path, rc);
	}
	it->have_sha = true;
	return memcmp(it->sha, it->tsha, sizeof(it->sha)) == 0;
}

/* The target has another version of IT (TST): replace it, or leave it as a conflict,
 * as the overwrite rule says. Two files of the same contents are a skip whatever
 * their times. */
static int decide_other_version(struct walk *w, struct migrate_item *it, struct msrc_dir *sd, int tfd,
                                const char *name, const char *tname, const struct stat *tst)
{
	int newer = cmp_mtime(tst, &it->st);
	int same = 0;

	if (w->plan->overwrite == MIGRATE_OVERWRITE_ALWAYS ||
	    (w->plan->overwrite == MIGRATE_OVERWRITE_OLDER && newer < 0)) {
		it->action = MIGRATE_REPLACE;
		return 0;
	}
	it->action = MIGRATE_CONFLICT;
	it->reason = w->plan->overwrite == MIGRATE_OVERWRITE_NEVER
	                 ? "the target has another version (--overwrite=never)"
	             : newer > 0 ? "the target's copy is newer"
	                         : "the same mtime but other contents: which is newer is unknown";
	if (it->kind == MIGRATE_FILE && S_ISREG(tst->st_mode)) {
		same = hash_both(w, it, sd, name, tfd, tname);
	}
	if (same == 1) {
		it->action = MIGRATE_SKIP;
		it->verified = true;
		it->reason = "same SHA-256 (only the mtime differs)";
	}
	return same < 0 ? -1 : 0;
}

/* Decide between skip and replace for two entries of one kind (not folders). */
static int decide_same_kind(struct walk *w, struct migrate_item *it, struct msrc_dir *sd, int tfd,
                            const char *name, const char *tname, const struct stat *tst)
{
	const struct stat *s = &it->st;
	int same = 1;

	it->action = MIGRATE_REPLACE;
	if (it->kind == MIGRATE_SYMLINK) {
		same = same_link(sd, name, tfd, tname);
		it->reason = "link text differs";
	} else if (it->kind == MIGRATE_SPECIAL) {
		same =
		    (s->st_mode & S_IFMT) == (tst->st_mode & S_IFMT) && s->st_rdev == tst->st_rdev;
		it->reason = "another node on the target";
	} else if (s->st_size != tst->st_size) {
		same = 0;
		it->reason = "size differs";
	} else if (s->st_mtim.tv_sec != tst->st_mtim.tv_sec ||
	           s->st_mtim.tv_nsec != tst->st_mtim.tv_nsec) {
		same = 0;
		it->reason = "mtime differs";
	} else if (w->verify) {
		same = same_file(w, sd, name, tfd, tname);
		it->reason = "SHA-256 differs";
	}
	if (same < 0) {
		return walk_fail(w, "cannot compare", it->path, same);
	}
	if (!same) {
		return decide_other_version(w, it, sd, tfd, name, tname, tst);
	}
	if (same) {
		it->action = MIGRATE_SKIP;
		it->verified = it->kind != MIGRATE_FILE || w->verify;
		it->reason = it->kind == MIGRATE_FILE && w->verify ? "same SHA-256"
		             : it->kind == MIGRATE_FILE            ? "same size and mtime"
		                                                   : "same on the target";
	}
	return 0;
}

/* Decide what to do with item IT (no higher-ranked source has its path). TST is the
 * target's entry or NULL. */
static int decide(struct walk *w, struct migrate_item *it, struct msrc_dir *sd, int tfd, const char *name,
                  const char *tname, const struct stat *tst)
{
	bool sdir = S_ISDIR(it->st.st_mode);

	if (tst) {
		it->tst = *tst;
		it->have_tst = true;
	}
	if (!tst) {
		it->action = sdir ? MIGRATE_MKDIR : MIGRATE_COPY;
		it->reason = "missing on the target";
	} else if (sdir != S_ISDIR(tst->st_mode)) {
		it->action = MIGRATE_CONFLICT;
		it->reason = sdir ? "the target has a file or symlink there, not a folder"
		                  : "the target has a folder there";
	} else if (sdir) {
		it->action = MIGRATE_DIR;
		it->reason = "on the target";
	} else if (kind_of(tst->st_mode) != it->kind) {
		it->reason = "another kind of entry on the target";
		return decide_other_version(w, it, sd, tfd, name, tname, tst);
	} else {
		return decide_same_kind(w, it, sd, tfd, name, tname, tst);
	}
	return 0;
}

/* A path a higher-ranked source has: taken from there (SHADOWED), or for a folder
 * walked again for what only this source has. */
static void decide_shadowed(struct walk *w, struct migrate_item *it, bool in_dirs)
{
	bool sdir = S_ISDIR(it->st.st_mode);

	if (sdir && in_dirs) {
		it->action = MIGRATE_DIR;
		it->reason = "also on a higher-ranked source";
	} else if (sdir || in_dirs) {
		it->action = MIGRATE_CONFLICT;
		it->reason = "a higher-ranked source has another kind of entry there";
	} else {
		it->action = MIGRATE_SHADOWED;
		it->reason = "a higher-ranked source has it";
	}
	(void)w;
}

static int record(struct walk *w, const struct migrate_item *it)
{
	struct names_set *set =
	    it->kind == MIGRATE_FOLDER ? &w->p->planned_dirs : &w->p->planned_other;
	return names_set_add(set, it->target) < 0 ? walk_fail(w, "out of memory", "", -ENOMEM) : 0;
}

static int plan_dir(struct walk *w, struct msrc_dir *sd, int tfd, size_t dir, unsigned depth);

/* Descend into folder item IDX (NAME in SFD, TNAME in TFD when the target has it). */
static int descend(struct walk *w, size_t idx, struct msrc_dir *sd, int tfd, const char *name,
                   const char *tname, bool tdir, unsigned depth)
{
	struct msrc_dir cs = {.fd = -1};
	int ct = -1;
	int rc = w->s->ops->opendir(w->s->ctx, sd, name, &cs);

	if (rc < 0) {
		msrc_dir_fini(w->s, &cs);
		return walk_fail(w, "cannot open", w->plan->items[idx].path, rc);
	}
	if (tdir) {
		ct = openat(tfd, tname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = ct < 0 ? walk_fail_on(w, "cannot open", w->plan->target.name,
		                           w->plan->items[idx].target, -errno)
		            : 0;
	}
	rc = rc < 0 ? rc : plan_dir(w, &cs, ct, idx, depth + 1);
	msrc_dir_fini(w->s, &cs);
	if (ct >= 0) {
		close(ct);
	}
	return rc;
}

static int plan_entry(struct walk *w, struct msrc_dir *sd, int tfd, const struct listing *sl,
                      const struct listing *tl, size_t dir, const char *name, unsigned depth)
{
	char tname[NAME_MAX + 1];
	struct stat sst;
	struct stat tst;
	struct migrate_item *it = NULL;
	bool have_t = false;
	bool in_dirs = false;
	size_t idx = 0;
	int rc = 0;

	rc = w->s->ops->lstat(w->s->ctx, sd, name, &sst);
	if (rc < 0) {
		return rc == -ENOENT ? 0 : walk_fail(w, "cannot stat", name, rc);
	}
	target_name(sl, tl, name, tname, sizeof(tname));
	have_t = tfd >= 0 && fstatat(tfd, tname, &tst, AT_SYMLINK_NOFOLLOW) == 0;
	if (add_item(w, sd, dir, name, tname, &sst, &idx) < 0) {
		return -1;
	}
	it = &w->plan->items[idx];
	it->kind = kind_of(sst.st_mode);
	in_dirs = names_set_has(&w->p->planned_dirs, it->target);
	if (in_dirs || names_set_has(&w->p->planned_other, it->target)) {
		decide_shadowed(w, it, in_dirs);
	} else if (decide(w, it, sd, tfd, name, tname, have_t ? &tst : NULL) < 0 ||
	           record(w, it) < 0) {
		return -1;
	}
	if (it->action == MIGRATE_MKDIR || it->action == MIGRATE_DIR) {
		if (depth >= MAX_DEPTH) {
			return walk_fail(w, "folders nested too deep in", it->path, -ELOOP);
		}
		rc = descend(w, idx, sd, tfd, name, tname, have_t && S_ISDIR(tst.st_mode), depth);
	}
	return rc;
}

static bool stale_known(const struct migrate_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_stale; i++) {
		if (strcmp(plan->stale[i], path) == 0) {
			return true;
		}
	}
	return false;
}

/* Note what an interrupted run left in the target folder TFD of item DIR: the temporaries
 * provably abandoned (another run's in progress are left alone). */
static int note_leftovers(struct walk *w, int tfd, const struct listing *tl, size_t dir)
{
	time_t now = time(NULL);
	char path[PATH_MAX];
	char **grown = NULL;
	struct migrate_plan *plan = w->plan;

	for (size_t i = 0; i < tl->n; i++) {
		const char *n = tl->names[i];
		if (strcmp(n, MIGRATE_UNFINISHED) == 0) {
			plan->items[dir].unfinished = true;
		}
		if (!migrate_is_tmp(n) || migrate_tmp_stale(tfd, n, now) != 1 ||
		    names_join(plan->items[dir].target, n, path, sizeof(path)) < 0 ||
		    stale_known(plan, path)) {
			continue;
		}
		grown = realloc(plan->stale, (plan->n_stale + 1) * sizeof(*grown));
		if (!grown) {
			return walk_fail(w, "out of memory", "", -ENOMEM);
		}
		plan->stale = grown;
		if (!(plan->stale[plan->n_stale] = strdup(path))) {
			return walk_fail(w, "out of memory", "", -ENOMEM);
		}
		plan->n_stale++;
	}
	return 0;
}

static int plan_dir(struct walk *w, struct msrc_dir *sd, int tfd, size_t dir, unsigned depth)
{
	struct listing sl = {0};
	struct listing tl = {0};
	int rc = list_src(w, sd, &sl);

	if (rc < 0) {
		rc = walk_fail(w, "cannot list", w->plan->items[dir].path, rc);
		goto out;
	}
	if (tfd >= 0 && (rc = list_dir(tfd, &tl)) < 0) {
		rc = walk_fail_on(w, "cannot list", w->plan->target.name,
		                  w->plan->items[dir].target, rc);
		goto out;
	}
	rc = note_leftovers(w, tfd, &tl, dir);
	for (size_t i = 0; i < sl.n && rc == 0; i++) {
		if (!names_is_hidden_temp(sl.names[i])) {
			rc = plan_entry(w, sd, tfd, &sl, &tl, dir, sl.names[i], depth);
		}
	}
out:
	listing_free(&sl);
	listing_free(&tl);
	return rc;
}

/* The item of source SRC's images folder itself. */
static int add_root(struct walk *w, struct msrc_dir *root, size_t *idx)
{
	struct migrate_plan *plan = w->plan;
	struct migrate_item *it = NULL;
	struct stat st;
	size_t cap = w->p->cap ? w->p->cap * 2 : 64;
	struct migrate_item *grown = NULL;
	int rc = w->s->ops->lstat(w->s->ctx, root, NULL, &st);

	if (rc < 0) {
		return walk_fail(w, "cannot stat", "", rc);
	}
	if (plan->n_items == w->p->cap) {
		grown = realloc(plan->items, cap * sizeof(*grown));
		if (!grown) {
			return walk_fail(w, "out of memory planning", "", -ENOMEM);
		}
		plan->items = grown;
		w->p->cap = cap;
	}
	it = &plan->items[plan->n_items++];
	*it = (struct migrate_item){
	    .source = w->src, .st = st, .parent = SIZE_MAX, .kind = MIGRATE_FOLDER};
	it->have_dos = w->s->ops->dos(w->s->ctx, root, NULL, &it->dos, &it->btime) == 0;
	it->path = strdup("");
	it->target = strdup("");
	it->action = w->p->tgt_img >= 0 || w->src > 0 ? MIGRATE_DIR : MIGRATE_MKDIR;
	it->reason = it->action == MIGRATE_MKDIR ? "missing on the target" : "on the target";
	*idx = plan->n_items - 1;
	return it->path && it->target ? 0 : walk_fail(w, "out of memory planning", "", -ENOMEM);
}

int migrate_walk(struct migrate_plan *plan, size_t src, bool verify, char *errbuf, size_t errlen)
{
	struct walk w = {.plan = plan,
	                 .p = plan->priv,
	                 .s = &plan->priv->src,
	                 .src = src,
	                 .verify = verify,
	                 .err = errbuf,
	                 .errlen = errlen};
	struct msrc_dir root = {.fd = -1};
	size_t idx = 0;
	int rc = migrate_src_root(plan->priv, src, &root);

	if (rc < 0) {
		rc = walk_fail(&w, "cannot open", "", rc);
	} else if (add_root(&w, &root, &idx) == 0) {
		rc = plan_dir(&w, &root, w.p->tgt_img, idx, 0);
	} else {
		rc = -1;
	}
	msrc_dir_fini(w.s, &root);
	return rc;
}

int migrate_src_root(struct migrate_priv *p, size_t k, struct msrc_dir *out)
{
	*out = (struct msrc_dir){.fd = -1};
	if (p->src_img[k] >= 0) {
		out->fd = dup(p->src_img[k]);
		return out->fd < 0 ? -errno : 0;
	}
	out->rel = strdup("");
	return out->rel ? 0 : -ENOMEM;
}

/* A hash pass's progress for the caller's TICK: BASE + the bytes read, of TOTAL. */
struct hash_tick {
	migrate_tick_fn tick;
	void *arg;
	uint64_t base;
	uint64_t total;
};

static int hash_tick(void *arg, uint64_t done)
{
	struct hash_tick *h = arg;

	return h->tick ? h->tick(h->arg, h->base + done, h->total) : 0;
}

int migrate_hash_pair(int a, int b, unsigned char sa[MIGRATE_SHA_LEN],
                      unsigned char sb[MIGRATE_SHA_LEN], migrate_tick_fn tick, void *arg)
{
	struct stat st_a;
	struct stat st_b;
	struct hash_tick ha = {.tick = tick, .arg = arg};
	struct hash_tick hb = {.tick = tick, .arg = arg};
	int rc = fstat(a, &st_a) < 0 || fstat(b, &st_b) < 0 ? -errno : 0;

	if (rc < 0) {
		return rc;
	}
	if (!S_ISREG(st_a.st_mode) || !S_ISREG(st_b.st_mode)) {
		return -EINVAL;
	}
	ha.total = hb.total = (uint64_t)st_a.st_size + (uint64_t)st_b.st_size;
	hb.base = (uint64_t)st_a.st_size;
	rc = sha256_fd(a, hash_tick, &ha, sa);
	rc = rc < 0 ? rc : sha256_fd(b, hash_tick, &hb, sb);
	return rc;
}

int migrate_same_data(int a, int b, migrate_tick_fn tick, void *arg)
{
	unsigned char sa[MIGRATE_SHA_LEN];
	unsigned char sb[MIGRATE_SHA_LEN];
	struct stat st_a;
	struct stat st_b;
	int rc = fstat(a, &st_a) < 0 || fstat(b, &st_b) < 0 ? -errno : 0;

	if (rc == 0 &&
	    (!S_ISREG(st_a.st_mode) || !S_ISREG(st_b.st_mode) || st_a.st_size != st_b.st_size)) {
		return 0;
	}
	rc = rc < 0 ? rc : migrate_hash_pair(a, b, sa, sb, tick, arg);
	return rc < 0 ? rc : memcmp(sa, sb, sizeof(sa)) == 0;
}
