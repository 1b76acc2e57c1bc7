/* ops_remove.c -- unlink, rmdir, rename and link across the drives of the view.
 *
 * A name may exist on several drives. unlink/rmdir remove every copy, or
 * nothing when a copy is on a read-only drive (EROFS). rename moves every
 * copy within its own drive, cloning the destination folder there, and
 * removes copies of the destination on other drives: never EXDEV. All checks
 * run before the first change. Handlers only reply.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

struct copy {
	int root;
	mode_t mode;
	char *spelt; /* its path as the drive spells it: small, or owned */
	char small[PATH_MAX];
};

struct copies {
	struct copy *c; /* one per root at most */
	size_t n;
	bool any_ro;
};

static void copies_free(struct copies *cs)
{
	for (size_t i = 0; cs->c && i < cs->n; i++) {
		if (cs->c[i].spelt != cs->c[i].small) {
			free(cs->c[i].spelt);
		}
	}
	free(cs->c);
	cs->c = NULL;
	cs->n = 0;
}

static int gather(struct fsview *v, const char *rel, struct copies *out)
{
	out->n = 0;
	out->any_ro = false;
	out->c = malloc((v->n_roots + 1) * sizeof(*out->c)); /* big: filled as found */
	if (!out->c) {
		return -ENOMEM;
	}
	for (size_t r = 0; r < v->n_roots; r++) {
		struct copy *c = &out->c[out->n];
		struct stat st;
		int img = root_open(v, r);
		int fd = img < 0 ? img
		                 : walk_open_alloc(img, rel, c->small, sizeof(c->small), &c->spelt);
		if (img >= 0) {
			close(img);
		}
		if (fd == -ENOMEM) {
			copies_free(out);
			return fd;
		}
		if (fd < 0) {
			continue;
		}
		if (fstat(fd, &st) == 0) {
			c->root = (int)r;
			c->mode = st.st_mode;
			out->any_ro |= v->roots[r].read_only;
			out->n++;
		} else if (c->spelt != c->small) {
			free(c->spelt);
		}
		close(fd);
	}
	for (size_t i = 0; out->n > 1 && i < out->n; i++) {
		out->any_ro |= root_read_only_now(v, (size_t)out->c[i].root); /* maybe since */
	}
	return 0;
}

static bool dir_empty(struct fsview *v, const struct copy *c)
{
	int pfd = root_walk(v, (size_t)c->root, c->spelt, NULL, 0);
	int fd = pfd < 0 ? -1 : walk_reopen(pfd, O_RDONLY | O_DIRECTORY);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de = NULL;
	bool empty = d != NULL;

	while (d && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	}
	if (d) {
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	if (pfd >= 0) {
		close(pfd);
	}
	return empty;
}

/* Remove one copy (file or folder) from its drive. */
static int remove_copy(struct fsview *v, const struct copy *c)
{
	char leaf[NAME_MAX + 1];
	int dfd = root_walk_parent(v, (size_t)c->root, c->spelt, leaf, sizeof(leaf));
	int rc = dfd < 0 ? dfd : 0;

	if (rc == 0 && unlinkat(dfd, leaf, S_ISDIR(c->mode) ? AT_REMOVEDIR : 0) < 0) {
		rc = errno == ENOENT ? 0 : -errno;
	}
	if (dfd >= 0) {
		close(dfd);
	}
	return rc;
}

static int child_rel(struct fs *fs, struct node *parent, const char *name, struct rel *out)
{
	int rc = names_check_component(name);

	if (rc == 0 && parent->kind == NODE_SYNTH) {
		rc = -EROFS;
	}
	return rc < 0 ? rc : node_rel_child(fs, parent, name, out);
}

static int do_remove(struct fs *fs, struct node *parent, const char *name, bool dir)
{
	struct fsview *v = fsview_get(fs);
	struct rel rel;
	struct copies cs = {0};
	int rc = 0;

	rel_init(&rel);
	rc = child_rel(fs, parent, name, &rel);
	rc = rc < 0 ? rc : gather(v, rel.s, &cs);
	rel_fini(&rel);
	if (rc == 0 && cs.n == 0) {
		rc = -ENOENT;
	}
	for (size_t i = 0; rc == 0 && i < cs.n; i++) {
		bool is_dir = S_ISDIR(cs.c[i].mode);
		rc = dir && !is_dir ? -ENOTDIR : !dir && is_dir ? -EISDIR : 0;
		if (rc == 0 && dir && !dir_empty(v, &cs.c[i])) {
			rc = -ENOTEMPTY;
		}
	}
	if (rc == 0 && cs.any_ro) {
		rc = -EROFS;
	}
	for (size_t i = 0; rc == 0 && i < cs.n; i++) {
		rc = remove_copy(v, &cs.c[i]);
	}
	if (rc == 0) {
		node_unhash(fs, parent, names_last(cs.c[0].spelt)); /* the spelling served */
	}
	copies_free(&cs);
	fsview_put(v);
	return rc;
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);

	ops_reply_err(req, -do_remove(fs, node_of(fs, parent), name, false));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);

	ops_reply_err(req, -do_remove(fs, node_of(fs, parent), name, true));
}

struct mv {
	struct rel src;
	struct rel dst;
	const char *newname;
	struct copies s;
	struct copies d;
	unsigned flags;
};

static const struct copy *copy_on(const struct copies *cs, int root)
{
	for (size_t i = 0; i < cs->n; i++) {
		if (cs->c[i].root == root) {
			return &cs->c[i];
		}
	}
	return NULL;
}

/* Everything that can refuse a rename, checked before anything changes. */
static int rename_check(struct fsview *v, struct mv *m)
{
	bool src_dir = S_ISDIR(m->s.c[0].mode);
	const char *src = m->src.s;
	const char *dst = m->dst.s;
	bool same = names_casecmp(src, dst) == 0;

	if (m->flags & ~RENAME_NOREPLACE) {
		return -EINVAL; /* RENAME_EXCHANGE and WHITEOUT are not offered */
	}
	if (m->s.any_ro || (!same && m->d.any_ro)) {
		return -EROFS;
	}
	if (same) {
		return 0; /* a change of case, or the same name */
	}
	if (m->d.n > 0 && (m->flags & RENAME_NOREPLACE)) {
		return -EEXIST;
	}
	if (!strncmp(dst, src, m->src.len) && dst[m->src.len] == '/') {
		return -EINVAL; /* into itself */
	}
	for (size_t i = 0; i < m->d.n; i++) {
		bool dst_dir = S_ISDIR(m->d.c[i].mode);
		if (src_dir != dst_dir) {
			return src_dir ? -ENOTDIR : -EISDIR;
		}
		if (dst_dir && !dir_empty(v, &m->d.c[i])) {
			return -ENOTEMPTY;
		}
	}
	return 0;
}

/* Move the copy C within its own drive to m->dst. */
static int move_copy(struct fsview *v, struct mv *m, const struct copy *c)
{
	struct rel dir;
	char leaf[NAME_MAX + 1];
	const struct copy *old = copy_on(&m->d, c->root);
	int sfd = root_walk_parent(v, (size_t)c->root, c->spelt, leaf, sizeof(leaf));
	int dfd = -1;
	int rc = 0;

	rel_init(&dir);
	rc = sfd < 0 ? sfd : rel_set(&dir, m->dst.s, m->dst.len);
	if (rc == 0) {
		rel_up(&dir);
		rc = copyup_dirs(v, c->root, dir.s, &dfd);
	}
	rel_fini(&dir);
	if (rc == 0 && renameat(sfd, leaf, dfd, m->newname) < 0) {
		rc = -errno;
	}
	/* a destination spelt differently on this drive is a second entry now */
	if (rc == 0 && old && strcmp(names_last(old->spelt), m->newname) != 0 &&
	    names_casecmp(old->spelt, c->spelt) != 0) {
		rc = remove_copy(v, old);
	}
	if (sfd >= 0) {
		close(sfd);
	}
	if (dfd >= 0) {
		close(dfd);
	}
	return rc;
}

static int do_rename(struct fs *fs, struct node *p, const char *name, struct node *np, struct mv *m)
{
	struct fsview *v = fsview_get(fs);
	int rc = names_check_new(m->newname); /* never into a reserved name */

	rc = rc < 0 ? rc : child_rel(fs, p, name, &m->src);
	rc = rc < 0 ? rc : child_rel(fs, np, m->newname, &m->dst);
	rc = rc < 0 ? rc : gather(v, m->src.s, &m->s);
	rc = rc < 0 ? rc : gather(v, m->dst.s, &m->d);
	if (rc == 0 && m->s.n == 0) {
		rc = -ENOENT;
	}
	rc = rc < 0 ? rc : rename_check(v, m);
	if (rc == 0) {
		dw_neg_forget(fs, node_id(fs, np), m->newname); /* the kernel's entry becomes it */
	}
	for (size_t i = 0; rc == 0 && i < m->s.n; i++) {
		rc = move_copy(v, m, &m->s.c[i]);
	}
	for (size_t i = 0; rc == 0 && i < m->d.n; i++) {
		if (!copy_on(&m->s, m->d.c[i].root) && names_casecmp(m->src.s, m->dst.s) != 0) {
			rc = remove_copy(v, &m->d.c[i]);
		}
	}
	if (rc == 0) {
		/* as served; its number: the highest-ranked copy's (the others move with it) */
		bool by_drive = v->roots[m->s.c[0].root].d->ino_drive;
		node_move(fs, p, names_last(m->s.c[0].spelt), np, m->newname, by_drive);
	}
	copies_free(&m->s);
	copies_free(&m->d);
	fsview_put(v);
	return rc;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	struct mv *m = calloc(1, sizeof(*m));
	int rc = m ? 0 : -ENOMEM;

	if (m) {
		rel_init(&m->src);
		rel_init(&m->dst);
		m->newname = newname;
		m->flags = flags;
		node_changed(fs, node_of(fs, newparent)); /* before the new name exists */
		rc = do_rename(fs, node_of(fs, parent), name, node_of(fs, newparent), m);
		node_changed(fs, node_of(fs, newparent)); /* and after: no listing in between counts */
		rel_fini(&m->src);
		rel_fini(&m->dst);
	}
	free(m);
	ops_reply_err(req, -rc);
}

static int do_link(fuse_req_t req, struct fs *fs, struct node *n, struct node *np,
                   const char *newname, struct stat *st)
{
	struct fsview *v = fsview_get(fs);
	struct rel rel;
	struct rel dst;
	struct loc l = {.fd = -1};
	struct loc exist = {.fd = -1};
	int dfd = -1;
	int rc = 0;

	(void)req;
	rel_init(&rel);
	rel_init(&dst);
	rc = node_rel(fs, n, &rel);
	rc = rc < 0 ? rc : names_check_new(newname); /* never into a reserved name */
	rc = rc < 0 ? rc : child_rel(fs, np, newname, &dst);
	rc = rc < 0 ? rc : loc_find(v, rel.s, 0, &l);
	if (rc == 0 && loc_find(v, dst.s, 0, &exist) == 0) {
		loc_close(&exist);
		rc = -EEXIST;
	}
	if (rc == 0 && v->roots[l.root].read_only) {
		rc = -EROFS;
	}
	if (rc == 0) {
		dw_neg_forget(fs, node_id(fs, np), newname); /* the kernel's entry becomes it */
		rel_up(&dst);
		rc = copyup_dirs(v, l.root, dst.s, &dfd);
	}
	rel_fini(&rel);
	rel_fini(&dst);
	if (rc == 0 && linkat(l.fd, "", dfd, newname, AT_EMPTY_PATH) < 0) {
		rc = -errno;
	}
	rc = rc < 0 ? rc : fstat(l.fd, st) == 0 ? 0 : -errno;
	if (dfd >= 0) {
		close(dfd);
	}
	loc_close(&l);
	fsview_put(v);
	return rc;
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct fs *fs = fs_of(req);
	struct node *np = node_of(fs, newparent);
	struct node *n = node_of(fs, ino);
	struct stat st;
	int rc = 0;

	node_changed(fs, np); /* before the new name exists */
	rc = do_link(req, fs, n, np, newname, &st);
	node_changed(fs, np); /* and after: no listing in between counts */

	if (rc < 0) {
		ops_reply_err(req, -rc);
		return;
	}
	/* the kernel wants the linked inode itself back, with one more lookup; it
	 * goes on under the new name when its own name is unlinked */
	node_add_alias(fs, n, np, newname);
	node_lookup_add(fs, n);
	ops_reply_entry(req, fs, n, &st);
}

void ops_remove_install(struct fuse_lowlevel_ops *ops)
{
	ops->unlink = op_unlink;
	ops->rmdir = op_rmdir;
	ops->rename = op_rename;
	ops->link = op_link;
}
