/* ops_dir.c -- folders and new names: merged listings (opendir, readdir,
 * readdirplus, releasedir, fsyncdir) and creates on the primary (mkdir,
 * create, mknod, symlink).
 *
 * A listing merges every root in rank order; a name appears once (ignoring
 * case), spelt as the highest-ranked drive that has it spells it; names that
 * differ only in case on that drive all appear (each is its own file). A new
 * name goes to the primary, its missing parent folders cloned there first
 * (copyup.c), owned by the caller. A created file's handle: handle.c. unlink,
 * rmdir, rename and link: ops_remove.c. Handlers only reply; helpers do the
 * work.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs_int.h"

struct dent {
	char *name;
	mode_t type;
	int root;      /* the first root in rank order that had it when listed, or -1 */
	uint64_t dnum; /* its number by that root's d_ino (fileid_of), 0: a path number */
};

struct dh {
	struct dent *e;
	size_t n;
	size_t cap;
	bool pending;              /* listed at the first READDIR: the kernel may never ask */
	uint64_t changes;          /* the folder's change count before it was listed */
	uint64_t generation;       /* the view it was listed in */
	struct names_set shadowed; /* non-folders a writable root has after an earlier root */
};

/* One READDIRPLUS request's folder descriptors, a root each (opened when first
 * needed, closed at the end of the request: no descriptor outlives it). */
struct plus_ctx {
	bool fresh;                       /* nothing changed in the folder since the listing */
	const struct names_set *shadowed; /* the listing's (struct dh) */
	struct rel rel;
	int fds[16];
};

static int dh_add(struct dh *d, const char *name, mode_t type)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct dent *ne = realloc(d->e, cap * sizeof(*ne));
		if (!ne) {
			return -ENOMEM;
		}
		d->e = ne;
		d->cap = cap;
	}
	d->e[d->n].name = strdup(name);
	d->e[d->n].type = type;
	d->e[d->n].root = -1;
	d->e[d->n].dnum = 0;
	return d->e[d->n++].name ? 0 : -ENOMEM;
}

static void dh_free(struct dh *d)
{
	for (size_t i = 0; d && i < d->n; i++) {
		free(d->e[i].name);
	}
	if (d) {
		names_set_fini(&d->shadowed);
		free(d->e);
		free(d);
	}
}

/* Add the entries of root ROOT's copy of the folder, skipping names a
 * higher-ranked root had (ignoring case): those lookups find there (a writable
 * root's non-folder among them is noted in D->shadowed: its copy wins over a
 * read-only root's). Names of this root that differ only in case are all
 * listed: each is its own file. */
static int list_one(struct fsview *v, int pathfd, struct names_set *seen, struct dh *d, int root)
{
	bool ro = root_read_only(v, (size_t)root);
	struct dirent *de = NULL;
	int fd = walk_reopen(pathfd, O_RDONLY | O_DIRECTORY);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	size_t first = d->n;
	int rc = 0;

	if (!dir) {
		rc = fd < 0 ? fd : -errno;
		if (fd >= 0) {
			close(fd);
		}
		return rc;
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    names_is_hidden_temp(de->d_name)) {
			continue;
		}
		if (names_set_has(seen, de->d_name)) {
			if (!ro && de->d_type != DT_DIR) {
				rc = names_set_add(&d->shadowed, de->d_name) < 0 ? -ENOMEM : 0;
			}
			continue;
		}
		rc = dh_add(d, de->d_name, (mode_t)DTTOIF(de->d_type));
		if (rc == 0) {
			struct stat st = {.st_ino = de->d_ino};
			d->e[d->n - 1].root = root;
			d->e[d->n - 1].dnum = fileid_of(v, root, &st);
		}
	}
	closedir(dir);
	for (size_t i = first; rc == 0 && i < d->n; i++) {
		rc = names_set_add(seen, d->e[i].name) < 0 ? -ENOMEM : 0;
	}
	return rc;
}

/* The merged listing of N into D. When N is watched and every drive's copy was
 * read, its names become N's index for lookups (dirwatch.c). */
static int list_merged(struct fs *fs, struct node *n, struct fsview *v, struct dh *d)
{
	struct rel rel;
	struct names_set *seen = malloc(sizeof(*seen));
	bool found = false;
	bool complete = true;
	uint64_t epoch = 0;
	uint64_t changes = node_index_begin(fs, n, &epoch);
	int rc = 0;

	rel_init(&rel);
	rc = seen ? node_rel(fs, n, &rel) : -ENOMEM;
	if (seen) {
		names_set_init(seen);
	}
	for (size_t r = 0; r < v->n_roots && rc == 0; r++) {
		int fd = root_walk(v, r, rel.s, NULL, 0);
		if (fd < 0) {
			complete = complete && (fd == -ENOENT || fd == -ENOTDIR);
			continue;
		}
		if (list_one(v, fd, seen, d, (int)r) == 0) {
			found = true;
		} else {
			complete = false;
		}
		close(fd);
	}
	rel_fini(&rel);
	d->changes = changes;
	d->generation = v->generation;
	if (rc == 0 && found && complete) {
		node_index_store(fs, n, seen, changes, epoch); /* takes it */
	} else if (seen) {
		names_set_fini(seen);
		free(seen);
	}
	return rc < 0 ? rc : found ? 0 : -ENOENT;
}

/* ops_dir_index -- N's index from a listing of every drive's copy (list_merged), for the
 * lookups of names N lacks; 0 or -errno (no index). */
int ops_dir_index(struct fs *fs, struct node *n, struct fsview *v)
{
	struct dh *d = calloc(1, sizeof(*d));
	int rc = d ? 0 : -ENOMEM;

	if (d) {
		names_set_init(&d->shadowed);
		rc = list_merged(fs, n, v, d);
	}
	dh_free(d);
	return rc;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(fs, ino);
	struct fsview *v = fsview_get(fs);
	struct dh *d = calloc(1, sizeof(*d));
	struct node *child = NULL;
	struct stat st;
	bool cache = false;
	int rc = d ? dh_add(d, ".", S_IFDIR) : -ENOMEM;

	if (d) {
		names_set_init(&d->shadowed);
	}
	rc = rc < 0 ? rc : dh_add(d, "..", S_IFDIR);
	if (rc == 0 && n->kind == NODE_SYNTH) {
		const char *part = fs->img_parts[n->depth];
		if (ops_lookup_entry(fs, n, part, v, &child, &st) == 0) {
			node_forget(fs, child, 1);
			rc = dh_add(d, part, S_IFDIR);
		}
	} else if (rc == 0) {
		/* watched on every drive: the kernel may keep the listing until told,
		 * and then sends no READDIR at all, so list only when asked */
		cache = dw_watch_dir(fs, v, n);
		if (cache) {
			d->pending = true;
		} else {
			rc = list_merged(fs, n, v, d);
		}
	}
	fsview_put(v);
	if (rc < 0) {
		dh_free(d);
		ops_reply_err(req, -rc);
		return;
	}
	fh_dir_set(fi, d);
	fi->cache_readdir = cache;
	fi->keep_cache = cache;
	if (fuse_reply_open(req, fi) != 0) {
		dh_free(d);
	}
}

/* st_ino of "." and ".." of DIR. */
static uint64_t dot_ino(struct fs *fs, struct node *dir, const char *name)
{
	return node_dot_ino(fs, dir, name[1] == '.');
}

/* st_ino of entry E of DIR without a lookup: its node's, else the unsalted
 * number (its drive's d_ino on an 'inode numbers = drive' drive, else made from
 * DIR's state and its name: no path, so any depth). */
static uint64_t entry_ino(struct fs *fs, struct node *dir, const struct dent *e)
{
	if (!strcmp(e->name, ".") || !strcmp(e->name, "..")) {
		return dot_ino(fs, dir, e->name);
	}
	return node_child_ino(fs, dir, e->name, e->dnum);
}

/* E's attributes now, from the copy the listing found: one fstatat in that
 * root's folder (opened once per request) instead of a lookup that walks from
 * every drive's root. Only while the folder's names are as listed, so it is
 * the copy a lookup would find. Returns 0, or -1 (do a full lookup). */
static int stat_listed(struct fsview *v, struct plus_ctx *c, const struct dent *e, struct stat *st)
{
	int r = e->root;

	if (!c->fresh || r < 0 || (size_t)r >= v->n_roots ||
	    r >= (int)(sizeof(c->fds) / sizeof(int))) {
		return -1;
	}
	if (!S_ISDIR(e->type) && names_set_has(c->shadowed, e->name) &&
	    root_read_only(v, (size_t)r)) {
		return -1; /* a writable drive's copy may win (loc_find) */
	}
	if (c->fds[r] < 0) {
		c->fds[r] = root_walk(v, (size_t)r, c->rel.s, NULL, 0);
	}
	return c->fds[r] >= 0 && fstatat(c->fds[r], e->name, st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -1;
}

/* Add one entry to a readdirplus reply; more than REM when it did not fit. */
static size_t add_plus(fuse_req_t req, struct fs *fs, struct node *dir, struct fsview *v,
                       struct plus_ctx *c, const struct dent *e, char *p, size_t rem, off_t next)
{
	struct fuse_entry_param ep = {.attr.st_mode = e->type};
	struct node *n = NULL;
	size_t len = 0;

	if (!strcmp(e->name, ".") || !strcmp(e->name, "..")) {
		ep.attr.st_ino = dot_ino(fs, dir, e->name);
		return fuse_add_direntry_plus(req, p, rem, e->name, &ep, next);
	}
	if (stat_listed(v, c, e, &ep.attr) == 0) {
		if (node_get_as(fs, dir, e->name, ep.attr.st_mode, &n) < 0) {
			return SIZE_MAX;
		}
		node_number(fs, n, fileid_of(v, e->root, &ep.attr));
		xc_seen(fs, n, &ep.attr);
		ep.attr.st_ino = n->ino;
	} else if (ops_lookup_entry(fs, dir, e->name, v, &n, &ep.attr) < 0) {
		return SIZE_MAX; /* vanished since opendir: skip it */
	}
	ep.ino = node_id(fs, n);
	dw_timeouts(fs, n, S_ISDIR(ep.attr.st_mode), &ep.entry_timeout, &ep.attr_timeout);
	len = fuse_add_direntry_plus(req, p, rem, e->name, &ep, next);
	if (len > rem) {
		node_forget(fs, n, 1);
	}
	return len;
}

/* List the folder now when opendir left that to the first READDIR. */
static int list_pending(struct fs *fs, fuse_ino_t ino, struct dh *d)
{
	struct fsview *lv = NULL;
	int rc = 0;

	if (d->pending) {
		lv = fsview_get(fs);
		rc = list_merged(fs, node_of(fs, ino), lv, d);
		fsview_put(lv);
		d->pending = false;
	}
	return rc;
}

static void plus_fini(struct plus_ctx *c)
{
	for (size_t r = 0; r < sizeof(c->fds) / sizeof(c->fds[0]); r++) {
		if (c->fds[r] >= 0) {
			close(c->fds[r]);
		}
	}
	rel_fini(&c->rel);
}

/* The entries of D from OFF that fit in BUF (SIZE bytes): the bytes used. */
static size_t fill(fuse_req_t req, struct fs *fs, fuse_ino_t ino, struct fsview *v,
                   struct plus_ctx *c, struct dh *d, char *buf, size_t size, off_t off)
{
	size_t used = 0;

	for (size_t i = (size_t)off; i < d->n; i++) {
		struct stat st = {.st_mode = d->e[i].type};
		size_t rem = size - used;
		size_t len = 0;

		if (!v) {
			st.st_ino = entry_ino(fs, node_of(fs, ino), &d->e[i]);
		}
		len = v ? add_plus(req, fs, node_of(fs, ino), v, c, &d->e[i], buf + used, rem,
		                   (off_t)i + 1)
		        : fuse_add_direntry(req, buf + used, rem, d->e[i].name, &st, (off_t)i + 1);
		if (len == SIZE_MAX) {
			continue;
		}
		if (len > rem) {
			break;
		}
		used += len;
	}
	return used;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi, bool plus)
{
	struct fs *fs = fs_of(req);
	struct dh *d = fh_dir(fi);
	struct fsview *v = plus ? fsview_get(fs) : NULL;
	char *buf = malloc(size);
	struct plus_ctx c = {.fresh = false, .shadowed = &d->shadowed};
	int rc = buf ? list_pending(fs, ino, d) : -ENOMEM;

	rel_init(&c.rel);
	for (size_t r = 0; r < sizeof(c.fds) / sizeof(c.fds[0]); r++) {
		c.fds[r] = -1;
	}
	if (rc < 0) {
		fsview_put(v);
		free(buf);
		ops_reply_err(req, -rc); /* c.rel has nothing allocated yet */
		return;
	}
	if (plus) {
		struct node *dn = node_of(fs, ino);
		c.fresh = v->generation == d->generation && node_unchanged(fs, dn, d->changes) &&
		          node_rel(fs, dn, &c.rel) == 0;
	}
	size_t used = fill(req, fs, ino, v, &c, d, buf, size, off);
	plus_fini(&c);
	fsview_put(v);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dh_free(fh_dir(fi));
	ops_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	ops_reply_err(req, 0);
}

/* Where a new entry NAME of PARENT goes: the primary, with its folder made
 * there. Returns an O_PATH fd of that folder. */
static int ops_prep_create(struct fs *fs, struct node *parent, const char *name, struct fsview *v,
                           int *dirfd)
{
	node_changed(fs, parent); /* before the name exists: no lookup may miss it */
	struct rel rel;
	struct loc l;
	int rc = names_check_new(name);

	if (rc < 0) {
		return rc;
	}
	if (parent->kind == NODE_SYNTH) {
		return -EROFS;
	}
	rel_init(&rel);
	rc = node_rel_child(fs, parent, name, &rel);
	if (rc == 0 && loc_find(v, rel.s, 0, &l) == 0) {
		loc_close(&l);
		rc = -EEXIST;
	}
	if (rc == 0 && v->primary_root < 0) {
		rc = -EROFS;
	}
	if (rc == 0) {
		dw_neg_forget(fs, node_id(fs, parent), name); /* the kernel's entry becomes it */
		rel_up(&rel);
		rc = copyup_dirs(v, v->primary_root, rel.s, dirfd);
	}
	rel_fini(&rel);
	return rc;
}

/* What make_entry makes: a folder, a node, a symlink, or a file opened for the caller. */
enum mk_kind { MK_DIR, MK_NODE, MK_SYMLINK, MK_FILE };
struct mk {
	enum mk_kind kind;
	mode_t mode;      /* MK_DIR, MK_NODE, MK_FILE: as the caller asked (FUSE_CAP_DONT_MASK) */
	mode_t umask;     /* the caller's */
	dev_t rdev;       /* MK_NODE */
	const char *link; /* MK_SYMLINK */
	int flags;        /* MK_FILE: the open flags */
	bool drive_mode;  /* set by mk_do: the drive chose the permission bits (the caller's
	                   * umask or the folder's default ACL), not the view */
};

/* Whether this thread has a umask of its own (fs attributes unshared from the
 * other threads': CLONE_FS; once per thread, kept for its life). */
static bool own_umask(void)
{
	static _Thread_local int state; /* 0 not tried, 1 own, -1 cannot */
	static atomic_bool said;

	if (state == 0) {
		state = unshare(CLONE_FS) == 0 ? 1 : -1;
		if (state < 0 && !atomic_exchange(&said, true)) {
			log_warnx(
			    "creates: a worker thread cannot have a umask of its own (unshare "
			    "CLONE_FS: %s): each create looks for the folder's default ACL "
			    "first, and one added or removed meanwhile may give a third mode",
			    strerror(errno));
		}
	}
	return state > 0;
}

/* Has the folder DIRFD (an O_PATH fd) a default ACL? (No when that cannot be told:
 * the umask is then applied, the narrower mode.) */
static bool has_default_acl(int dirfd)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	return getxattr(proc, "system.posix_acl_default", NULL, 0) > 0;
}

/* The create itself: NAME in DIRFD as M says, with MODE. */
static int mk_make(const struct mk *m, int dirfd, const char *name, mode_t mode)
{
	int fd = -1;

	switch (m->kind) {
	case MK_DIR:
		return mkdirat(dirfd, name, mode) == 0 ? 0 : -errno;
	case MK_NODE:
		return mknodat(dirfd, name, mode, m->rdev) == 0 ? 0 : -errno;
	case MK_SYMLINK:
		return symlinkat(m->link, dirfd, name) == 0 ? 0 : -errno;
	case MK_FILE:
	default:
		fd =
		    openat(dirfd, name, m->flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		return fd < 0 ? -errno : fd;
	}
}

/* Make entry NAME in DIRFD as M says (mk_make): 0 (MK_FILE: the open fd) or
 * -errno. The entry is made with the mode it will have, never a wider one
 * (ops_own only widens it to that after): in a folder with a default ACL the
 * mode asked (the drive derives the mode and ACL from both, the umask ignored:
 * POSIX.1e), else the mode asked less the caller's umask. A file made wider
 * and narrowed by a chmod after could be opened by another user meanwhile and
 * read through that descriptor later. The drive decides which, in the create
 * itself, under the caller's umask (this thread's own: own_umask); only where
 * a thread cannot have one does the view look for the ACL first (a default
 * ACL added or removed between that look and the create then gives the mode
 * the look expected). The set-user-ID and set-group-ID bits come last
 * (ops_own), once the entry is the caller's: never a set-ID file of root's,
 * even empty. */
static int mk_do(struct mk *m, int dirfd, const char *name)
{
	mode_t mode = m->mode & ~(mode_t)(S_ISUID | S_ISGID);
	mode_t old = 0;
	int rc = 0;

	m->drive_mode = m->kind != MK_SYMLINK && own_umask();
	if (m->drive_mode) {
		old = umask(m->umask & 0777);
		rc = mk_make(m, dirfd, name, mode);
		umask(old);
		return rc;
	}
	if (m->kind != MK_SYMLINK) {
		m->drive_mode = has_default_acl(dirfd);
		mode = m->drive_mode ? mode : mode & ~(m->umask & 0777);
	}
	return mk_make(m, dirfd, name, mode);
}

/* Whether PARENT is still a folder of the view, on any drive. */
static bool parent_in_view(struct fs *fs, struct node *parent, struct fsview *v)
{
	struct rel rel;
	struct loc l;
	bool in = false;

	rel_init(&rel);
	if (node_rel(fs, parent, &rel) == 0) {
		if (loc_find(v, rel.s, 0, &l) == 0) {
			in = S_ISDIR(l.st.st_mode);
			loc_close(&l);
		}
	}
	rel_fini(&rel);
	return in;
}

/* The primary's folder copyup_dirs made or found can be gone before the entry
 * is made in it: two hosts' GlusterFS clients that make one folder at once now
 * and then leave none (copyup.c, MKDIR_TRIES). While the view still has the
 * folder, it is made again and the entry with it, up to this many times. */
#define CREATE_TRIES 3

/* make_entry -- make NAME in PARENT on the primary as M says (ops_prep_create,
 * then mk_do); 0 (MK_FILE: the open fd) or -errno, the primary's folder in
 * *DIRFD (caller closes; -1 on error). */
static int make_entry(struct fs *fs, struct node *parent, const char *name, struct fsview *v,
                      struct mk *m, int *dirfd)
{
	int rc = 0;

	for (int k = 0;; k++) {
		*dirfd = -1;
		rc = ops_prep_create(fs, parent, name, v, dirfd);
		if (rc < 0) {
			return rc;
		}
		rc = mk_do(m, *dirfd, name);
		if (rc >= 0 || (rc != -ENOENT && rc != -ESTALE) || k + 1 >= CREATE_TRIES ||
		    !parent_in_view(fs, parent, v)) {
			break;
		}
		close(*dirfd);
	}
	return rc == -ESTALE ? -ENOENT : rc;
}

/* Give the new entry NAME in DIRFD (made by mk_do as M says) to the caller, as
 * a local filesystem would: its owner, then its mode, only ever widened. Where
 * the drive made the mode (M->drive_mode: under the caller's umask, or from
 * the folder's default ACL and MODE) its permission bits stay
 * (a chmod of them would also narrow an inherited ACL's mask) and the set-ID
 * bits asked are added (mk_do left them out, and the ownership change clears
 * them); else exactly MODE less the caller's umask (the daemon's own umask may
 * have taken more bits away). A folder keeps the set-group-ID bit it
 * inherited. MODE is ignored for a symlink. */
static int ops_own(fuse_req_t req, int dirfd, const char *name, mode_t mode, const struct mk *m)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat st;
	gid_t gid = ctx->gid;
	mode_t want = mode & ~ctx->umask & 07777;
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;

	if (fstat(dirfd, &st) == 0 && (st.st_mode & S_ISGID)) {
		gid = (gid_t)-1; /* inherits the folder's group, as the kernel did */
	}
	if (rc == 0 && fchownat(fd, "", ctx->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		rc = -errno;
	}
	rc = rc < 0 ? rc : fstat(fd, &st) == 0 ? 0 : -errno;
	if (rc == 0 && S_ISDIR(st.st_mode)) {
		want |= st.st_mode & S_ISGID;
	}
	if (rc == 0 && m->drive_mode) {
		/* the mode the drive made (from the ACL, or the mode asked less the caller's
		 * umask) and the set-ID bits asked (mk_do left them out; a chown clears them):
		 * the same permission bits keep an inherited ACL's mask */
		want = (st.st_mode & 07777) | (mode & (S_ISUID | S_ISGID));
	}
	if (rc == 0 && !S_ISLNK(st.st_mode) && (st.st_mode & 07777) != want) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		rc = chmod(proc, want) == 0 ? 0 : -errno;
	}
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

/* Reply with the entry just created as NAME in DIRFD (on V's primary). */
static void reply_new(fuse_req_t req, struct fs *fs, struct fsview *v, struct node *parent,
                      const char *name, int dirfd, const struct mk *m, int rc)
{
	struct node *n = NULL;
	struct stat st;

	node_changed(fs, parent); /* after the create too: no listing in between counts */
	rc = rc < 0 ? rc : ops_own(req, dirfd, name, m->kind == MK_SYMLINK ? 0777 : m->mode, m);
	rc = rc < 0 ? rc : fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
	rc = rc < 0 ? rc : node_get_as(fs, parent, name, st.st_mode, &n);
	if (rc < 0) {
		ops_reply_err(req, -rc);
	} else {
		node_number(fs, n, fileid_of(v, v->primary_root, &st));
		ops_reply_entry(req, fs, n, &st);
	}
}

/* mkdir of the images folder itself in its synthetic parent: create the
 * images path on the primary (no drive holds it yet). */
static int mkdir_images(struct fs *fs, struct node *parent, const char *name, struct fsview *v)
{
	int fd = -1;

	if (parent->kind != NODE_SYNTH || parent->depth + 1 != fs->img_depth ||
	    names_casecmp(name, fs->img_parts[parent->depth]) != 0) {
		return -EROFS;
	}
	fd = primary_images_fd(v);
	if (fd >= 0) {
		close(fd);
	}
	return fd < 0 ? fd : 0;
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fs_of(req);
	struct node *p = node_of(fs, parent);
	struct fsview *v = fsview_get(fs);
	struct node *n = NULL;
	struct stat st;
	struct mk m = {.kind = MK_DIR, .mode = mode, .umask = fuse_req_ctx(req)->umask};
	int dirfd = -1;
	int rc = make_entry(fs, p, name, v, &m, &dirfd);

	if (rc == -EROFS && p->kind == NODE_SYNTH) {
		rc = mkdir_images(fs, p, name, v);
		rc = rc < 0 ? rc : ops_lookup_entry(fs, p, name, v, &n, &st);
		fsview_put(v);
		rc < 0 ? (void)ops_reply_err(req, -rc) : ops_reply_entry(req, fs, n, &st);
		return;
	}
	reply_new(req, fs, v, p, name, dirfd, &m, rc);
	if (dirfd >= 0) {
		close(dirfd);
	}
	fsview_put(v);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs *fs = fs_of(req);
	struct node *p = node_of(fs, parent);
	struct fsview *v = fsview_get(fs);
	struct mk m = {
	    .kind = MK_NODE, .mode = mode, .umask = fuse_req_ctx(req)->umask, .rdev = rdev};
	int dirfd = -1;
	int rc = make_entry(fs, p, name, v, &m, &dirfd);

	reply_new(req, fs, v, p, name, dirfd, &m, rc);
	if (dirfd >= 0) {
		close(dirfd);
	}
	fsview_put(v);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct node *p = node_of(fs, parent);
	struct fsview *v = fsview_get(fs);
	struct mk m = {.kind = MK_SYMLINK, .link = link};
	int dirfd = -1;
	int rc = make_entry(fs, p, name, v, &m, &dirfd);

	reply_new(req, fs, v, p, name, dirfd, &m, rc);
	if (dirfd >= 0) {
		close(dirfd);
	}
	fsview_put(v);
}

static int do_create(fuse_req_t req, struct node *p, const char *name, mode_t mode,
                     struct fuse_file_info *fi, struct fsview *v, struct stat *st)
{
	struct fs *fs = fs_of(req);
	struct mk m = {.kind = MK_FILE,
	               .mode = mode,
	               .umask = fuse_req_ctx(req)->umask,
	               .flags = fh_open_flags(fi->flags)};
	int dirfd = -1;
	int fd = make_entry(fs, p, name, v, &m, &dirfd);
	int rc = fd;

	if (dirfd < 0) {
		return rc;
	}
	rc = fd < 0 ? fd : ops_own(req, dirfd, name, mode, &m);
	rc = rc < 0 ? rc : fstat(fd, st) == 0 ? 0 : -errno;
	close(dirfd);
	if (rc < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return rc;
	}
	return fd;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *p = node_of(fs, parent);
	struct fsview *v = fsview_get(fs);
	struct fh *fh = fh_new();
	struct fuse_entry_param e = {.attr_timeout = fs->attr_timeout,
	                             .entry_timeout = fs->entry_timeout};
	struct node *n = NULL;
	struct stat st; /* the drive's file: the kernel's backing file, not what clients see */
	int rc = fh ? do_create(req, p, name, mode, fi, v, &st) : -ENOMEM;
	int fd = rc;

	node_changed(fs, p); /* after the create too: no listing in between counts */

	if (fd >= 0) {
		/* the name did not exist (O_EXCL): a node still holding it is stale */
		node_unhash(fs, p, name);
		rc = node_get(fs, p, name, &n);
		if (rc < 0) {
			close(fd);
		} else {
			node_number(fs, n, fileid_of(v, v->primary_root, &st));
		}
	}
	if (rc < 0) {
		free(fh);
		fsview_put(v);
		ops_reply_err(req, -rc);
		return;
	}
	e.ino = node_id(fs, n);
	e.attr = st;
	e.attr.st_ino = n->ino;
	dw_timeouts(fs, n, false, &e.entry_timeout, &e.attr_timeout);
	fh_reply_create(req, fi, fh, fd, v, n, &e, &st); /* the handle: handle.c */
}

void ops_dir_install(struct fuse_lowlevel_ops *ops)
{
	ops->opendir = op_opendir;
	ops->readdir = op_readdir;
	ops->readdirplus = op_readdirplus;
	ops->releasedir = op_releasedir;
	ops->fsyncdir = op_fsyncdir;
	ops->mkdir = op_mkdir;
	ops->create = op_create;
	ops->mknod = op_mknod;
	ops->symlink = op_symlink;
}
