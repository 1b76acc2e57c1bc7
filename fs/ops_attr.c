/* ops_attr.c -- lookup, forget, getattr, setattr, readlink, statfs, xattrs.
 *
 * Each handler gets its state from the request (fs_of), takes a reference
 * on the current view for the whole call, does the work in a helper that
 * returns 0 or -errno, and only replies. Changes to a file held only by a
 * read-only drive copy it up to the primary first. An open file's attributes
 * and changes go through its handle (fh_stat, fh_node_online: handle.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs_int.h"

static int images_root(struct fsview *v)
{
	for (size_t r = 0; r < v->n_roots; r++) {
		if (root_has_images(v, r)) {
			return (int)r;
		}
	}
	return -1;
}

static void synth_attr(struct fs *fs, struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_ino = n->ino;
	st->st_atim = st->st_mtim = st->st_ctim = fs->start;
	st->st_blksize = 4096;
}

/* Find where node N lives now (TREE and IMAGES nodes). */
static int node_loc(struct fs *fs, struct node *n, struct fsview *v, struct loc *l)
{
	struct rel rel;
	int rc = 0;

	rel_init(&rel);
	rc = node_rel(fs, n, &rel);
	rc = rc < 0 ? rc : loc_find(v, rel.s, 0, l);
	rel_fini(&rel);
	return rc;
}

/* The attributes of an open file node N whose handles are on another file
 * than its name now names (moved to another drive or replaced outside the
 * view; ST: the name's file). N is that other file for the kernel (its locks,
 * a /proc/self/fd reopen of its handles): the name is detached, so its next
 * lookup makes a node for the new file, and N keeps answering with its own
 * file's attributes (a stat by path never shows the new file through the old
 * node). No notification here (the kernel may hold the folder locked): the
 * folder watch thread drops the kernel's entry (dw_drop_entry; also when the
 * watch missed the change: its event queue overflowed), and unwatched folders
 * have short entry timeouts. */
static int stat_open_node(struct fs *fs, struct node *n, struct stat *st)
{
	fuse_ino_t parent = 0;
	bool ro = false;
	int pin = -1;
	int rc = 0;

	if (node_elsewhere(fs, n, st)) {
		char *name = node_detach(fs, n, &parent);
		dw_drop_entry(fs, parent, name); /* the kernel's entry names N */
	}
	/* detached here, or meanwhile by the folder watch: never the path's file */
	pin = node_pinned(fs, n, &ro);
	if (pin >= 0) { /* else not detached, or every handle closed meanwhile */
		rc = fstat(pin, st) == 0 ? 0 : -errno;
		close(pin);
	}
	return rc;
}

/* stat_node -- the attributes of node N by its path in V (a regular file's
 * open node may answer with its own file: stat_open_node), st_ino N's. */
static int stat_node(struct fs *fs, struct node *n, struct fsview *v, struct stat *st)
{
	struct loc l;
	int rc = 0;

	if (n->kind == NODE_SYNTH) {
		synth_attr(fs, n, st);
		return 0;
	}
	rc = node_loc(fs, n, v, &l);
	if (rc < 0) {
		return rc;
	}
	*st = l.st; /* the drive's st_dev and st_ino until the end */
	loc_close(&l);
	if (n->kind == NODE_TREE && S_ISREG(st->st_mode)) {
		rc = stat_open_node(fs, n, st);
	}
	if (rc == 0 && st->st_dev == l.st.st_dev && st->st_ino == l.st.st_ino) {
		/* the path's file: maybe another one now */
		node_number(fs, n, fileid_of(v, l.root, st));
		xc_seen(fs, n, st);
	}
	st->st_ino = n->ino;
	return rc;
}

/* reply_entry -- N's entry; EXACT: the name asked is N's own spelling. A
 * spelling that differs only in case gets entry timeout 0: the kernel looks
 * it up on each use. Its dentry is not the one a rename or an unlink through
 * the view moves or drops (nor the one the folder watch drops), so a cached
 * one would still name N after N's own name is gone. */
static void reply_entry(fuse_req_t req, struct fs *fs, struct node *n, const struct stat *st,
                        bool exact)
{
	struct fuse_entry_param e = {
	    .ino = node_id(fs, n),
	    .attr = *st,
	};

	dw_timeouts(fs, n, S_ISDIR(st->st_mode), &e.entry_timeout, &e.attr_timeout);
	if (!exact) {
		e.entry_timeout = 0;
	}
	e.attr.st_ino = n->ino;
	if (fuse_reply_entry(req, &e) != 0) {
		node_forget(fs, n, 1);
	}
}

void ops_reply_entry(fuse_req_t req, struct fs *fs, struct node *n, const struct stat *st)
{
	reply_entry(req, fs, n, st, true);
}

/* Is NAME the next component of the images path below synthetic PARENT? */
static int synth_child(struct fs *fs, struct node *parent, const char *name, struct fsview *v)
{
	if (parent->depth >= fs->img_depth ||
	    names_casecmp(name, fs->img_parts[parent->depth]) != 0) {
		return -ENOENT;
	}
	if (parent->depth + 1 == fs->img_depth && images_root(v) < 0) {
		return -ENOENT; /* no drive holds the images: the folder is absent */
	}
	return 0;
}

/* lookup_entry -- find NAME in PARENT; a new lookup count on *out; *EXACT:
 * NAME is the spelling served (not one that differs only in case). */
static int lookup_entry(struct fs *fs, struct node *parent, const char *name, struct fsview *v,
                        struct node **out, struct stat *st, bool *exact)
{
	struct rel rel;
	struct loc l;
	int rc = names_check_component(name);

	if (rc < 0) {
		return rc;
	}
	if (parent->kind == NODE_SYNTH) {
		rc = synth_child(fs, parent, name, v);
		rc = rc < 0 ? rc : node_get(fs, parent, fs->img_parts[parent->depth], out);
		*exact = rc < 0 || strcmp(name, fs->img_parts[parent->depth]) == 0;
		return rc < 0 ? rc : stat_node(fs, *out, v, st);
	}
	if (names_is_hidden_temp(name)) {
		return -ENOENT;
	}
	/* watched before looking: a change after it is seen; a name the folder's
	 * index lacks is on no drive */
	bool watched = dw_watch_dir(fs, v, parent);
	if (watched && node_absent(fs, parent, name)) {
		return -ENOENT;
	}
	/* A change in the folder while looking (the folder watch detached an open
	 * file's node: its name names another file now) makes the name look again:
	 * a new node from what was found before it would carry the old file. */
	for (unsigned tries = 0;; tries++) {
		uint64_t epoch = 0;
		uint64_t dnum = 0;
		uint64_t changes = node_index_begin(fs, parent, &epoch);
		rel_init(&rel);
		rc = node_rel_child(fs, parent, name, &rel);
		rc = rc < 0 ? rc : loc_find(v, rel.s, 0, &l);
		rel_fini(&rel);
		if (rc == -ENOENT && watched && node_miss_index(fs, parent)) {
			ops_dir_index(fs, parent, v); /* the next misses walk no drive */
		}
		if (rc < 0) {
			return rc;
		}
		*st = l.st;
		loc_close(&l);
		*exact = strcmp(name, l.leaf) == 0;
		dnum = fileid_of(v, l.root, st);
		rc = pt_node_get(fs, parent, l.leaf, st, out); /* the spelling served */
		if (rc == 0) {
			node_number(fs, *out, dnum);
			xc_seen(fs, *out, st);
		}
		if (rc < 0 || tries == 2 || node_index_begin(fs, parent, &epoch) == changes) {
			break;
		}
		node_forget(fs, *out, 1);
	}
	st->st_ino = rc == 0 ? (*out)->ino : 0;
	return rc;
}

/* ops_lookup_entry -- find NAME in PARENT; a new lookup count on *out. */
int ops_lookup_entry(struct fs *fs, struct node *parent, const char *name, struct fsview *v,
                     struct node **out, struct stat *st)
{
	bool exact = true;

	return lookup_entry(fs, parent, name, v, out, st, &exact);
}

/* How long the kernel may cache NAME's absence from folder PARENT:
 * long where the folder is watched and nothing changed in it since before the
 * lookup looked (CHANGES, EPOCH). The spelling is recorded first, then the
 * change count read again: an event handled before the record was there has
 * moved it (the short timeout), one handled after drops the record's entry
 * (dirwatch.c). */
static double negative_timeout(struct fs *fs, struct node *parent, const char *name,
                               uint64_t changes, uint64_t epoch)
{
	uint64_t now = 0;

	if (!node_watched(fs, parent) || !dw_neg_note(fs, parent, name)) {
		return fs->negative_timeout;
	}
	bool same = node_index_begin(fs, parent, &now) == changes && now == epoch &&
	            node_watched(fs, parent);
	return same ? fs->long_timeout : fs->negative_timeout;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct node *p = node_of(fs, parent);
	uint64_t epoch = 0;
	uint64_t changes = node_index_begin(fs, p, &epoch); /* before the view and the look */
	struct fsview *v = fsview_get(fs);
	struct node *n = NULL;
	struct stat st;
	bool exact = true;
	int rc = lookup_entry(fs, p, name, v, &n, &st, &exact);

	fsview_put(v);
	if (rc == -ENOENT) {
		struct fuse_entry_param neg = {
		    .entry_timeout = negative_timeout(fs, p, name, changes, epoch)};
		fuse_reply_entry(req, &neg);
	} else if (rc < 0) {
		ops_reply_err(req, -rc);
	} else {
		reply_entry(req, fs, n, &st, exact);
	}
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = fs_of(req);

	if (ino != FUSE_ROOT_ID) {
		node_forget(fs, node_of(fs, ino), nlookup);
	}
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);

	for (size_t i = 0; i < count; i++) {
		if (forgets[i].ino != FUSE_ROOT_ID) {
			node_forget(fs, node_of(fs, forgets[i].ino), forgets[i].nlookup);
		}
	}
	fuse_reply_none(req);
}

static void reply_attr(fuse_req_t req, struct fs *fs, struct node *n, int rc, struct stat *st)
{
	if (rc < 0) {
		ops_reply_err(req, -rc);
		return;
	}
	double entry = 0;
	double attr = 0;

	dw_timeouts(fs, n, S_ISDIR(st->st_mode), &entry, &attr);
	st->st_ino = n->ino;
	fuse_reply_attr(req, st, attr);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(fs, ino);
	struct fsview *v = NULL;
	struct stat st;
	int rc = fh_stat(fs, n, fi, &st); /* an open file keeps its drive */

	if (rc > 0) {
		v = fsview_get(fs);
		rc = stat_node(fs, n, v, &st);
		fsview_put(v);
	}
	reply_attr(req, fs, n, rc, &st);
}

/* A writable location for REL: copied up when it is on a read-only drive (*COPIED: a
 * file was). */
static int writable_at(struct fsview *v, const char *rel, struct loc *l, bool *copied)
{
	struct loc src;
	int rc = loc_find(v, rel, 0, &src);

	if (rc < 0 || !root_read_only(v, (size_t)src.root)) {
		*l = src;
		return rc;
	}
	if (S_ISDIR(src.st.st_mode)) {
		int dfd = -1;
		loc_close(&src);
		rc = copyup_dirs(v, v->primary_root, rel, &dfd);
		if (rc == 0) {
			close(dfd);
			rc = loc_find(v, rel, v->primary_root, l);
		}
		return rc;
	}
	rc = copyup_file(v, rel, &src, l);
	loc_close(&src);
	*copied = rc == 0;
	return rc;
}

/* A writable location for node N: copy it up when it is on a read-only drive. */
static int node_writable(struct fs *fs, struct node *n, struct fsview *v, struct loc *l)
{
	struct rel rel;
	bool copied = false;
	int rc = 0;

	if (n->kind == NODE_SYNTH) {
		return -EROFS;
	}
	rel_init(&rel);
	rc = node_rel(fs, n, &rel);
	rc = rc < 0 ? rc : writable_at(v, rel.s, l, &copied);
	rel_fini(&rel);
	if (copied) {
		node_copied_up(fs, n);
	}
	return rc;
}

/* Set the times of the object behind the O_PATH fd FD: a symlink's own times
 * (touch -h; the kernel already followed the link when the caller did). */
static int set_times(int fd, mode_t type, const struct stat *attr, int to_set)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
	char proc[64];

	if (to_set & FUSE_SET_ATTR_ATIME) {
		ts[0] = attr->st_atim;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		ts[0].tv_nsec = UTIME_NOW;
	}
	if (to_set & FUSE_SET_ATTR_MTIME) {
		ts[1] = attr->st_mtim;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		ts[1].tv_nsec = UTIME_NOW;
	}
	if (S_ISLNK(type)) {
		return utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return utimensat(AT_FDCWD, proc, ts, 0) == 0 ? 0 : -errno;
}

/* Apply SETATTR to the object behind the O_PATH fd FD (type MODE). */
static int apply_setattr(int fd, mode_t type, const struct stat *attr, int to_set)
{
	char proc[64];
	int rc = 0;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (S_ISLNK(type) && (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_SIZE))) {
		return -EOPNOTSUPP;
	}
	if ((to_set & FUSE_SET_ATTR_MODE) && chmod(proc, attr->st_mode & 07777) < 0) {
		return -errno;
	}
	if ((to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) &&
	    fchownat(fd, "", (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
	             (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1,
	             AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		/* never a FIFO's or device's open (op_setattr refuses them first); O_NONBLOCK
		 * all the same: the open of a FIFO must not wait for a reader */
		int wfd = S_ISREG(type) ? walk_reopen(fd, O_WRONLY | O_NONBLOCK) : -EINVAL;
		rc = wfd < 0 ? wfd : ftruncate(wfd, attr->st_size) == 0 ? 0 : -errno;
		if (wfd >= 0) {
			close(wfd);
		}
		if (rc < 0) {
			return rc;
		}
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
	              FUSE_SET_ATTR_MTIME_NOW)) {
		rc = set_times(fd, type, attr, to_set);
	}
	return rc;
}

/* The object behind the open file FD (an O_PATH fd of it and its stat into L). */
static int loc_of_fd(int fd, struct loc *l)
{
	int rc = fstat(fd, &l->st) == 0 ? 0 : -errno;

	l->fd = rc == 0 ? walk_reopen(fd, O_PATH) : -1;
	return rc < 0 ? rc : l->fd < 0 ? l->fd : 0;
}

/* Where a setattr goes: the handle's file (ftruncate, a write's SUID kill), an
 * open file that has no name any more (fchmod of an unlinked file), else the
 * node's writable copy. */
static int setattr_loc(struct fs *fs, struct node *n, struct fsview *v, struct fh *fh,
                       struct loc *l)
{
	bool ro = false;
	int pin = fh ? -1 : node_pinned(fs, n, &ro);
	int rc = 0;

	if (fh && !fh->read_only) {
		return loc_of_fd(fh->fd, l);
	}
	if (pin >= 0 && !ro) {
		rc = loc_of_fd(pin, l);
		close(pin);
		return rc;
	}
	if (pin >= 0) {
		close(pin);
	}
	return node_writable(fs, n, v, l);
}

/* A size change of what is no longer a regular file on the drive (a FIFO or a
 * device swapped in after the kernel looked the file up) is refused as its open
 * is (handle.c drive_file_ok): EIO, and the kernel forgets the entry; the drive
 * object is never opened (a FIFO's open for writing would block this thread). */
static int size_ok(struct fs *fs, struct node *n, const struct stat *st, int to_set)
{
	if (!(to_set & FUSE_SET_ATTR_SIZE) || S_ISREG(st->st_mode) || S_ISLNK(st->st_mode)) {
		return 0; /* a symlink: apply_setattr's EOPNOTSUPP */
	}
	if (S_ISDIR(st->st_mode)) {
		return -EISDIR;
	}
	pt_detach(fs, n, false);
	log_debug("setattr: a drive file is no longer a regular file (mode %o): EIO",
	          (unsigned)(st->st_mode & S_IFMT));
	return -EIO;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node *n = node_of(fs, ino);
	struct fsview *v = fsview_get(fs);
	struct stat st;
	struct loc l = {.root = -1, .fd = -1};
	struct fh *fh = NULL;
	int rc = fh_node_online(fs, n, fi, &fh); /* an offline drive is never touched again */

	rc = rc < 0 ? rc : setattr_loc(fs, n, v, fh, &l);
	rc = rc < 0 ? rc : size_ok(fs, n, &l.st, to_set);
	rc = rc < 0 ? rc : apply_setattr(l.fd, l.st.st_mode, attr, to_set);
	if (rc == -EROFS && l.root >= 0 && !root_read_only(v, (size_t)l.root)) {
		root_mark_read_only(v, (size_t)l.root); /* read-only since published */
		loc_close(&l);
		rc = node_writable(fs, n, v, &l);
		rc = rc < 0 ? rc : size_ok(fs, n, &l.st, to_set);
		rc = rc < 0 ? rc : apply_setattr(l.fd, l.st.st_mode, attr, to_set);
	}
	rc = rc < 0 ? rc : fstat(l.fd, &st) == 0 ? 0 : -errno;
	if (rc == 0 && l.root >= 0) { /* by its path: maybe copied up, a new file */
		node_number(fs, n, fileid_of(v, l.root, &st));
		xc_seen(fs, n, &st);
	}
	loc_close(&l);
	fsview_put(v);
	reply_attr(req, fs, n, rc, &st);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct fsview *v = fsview_get(fs);
	char buf[PATH_MAX + 1];
	struct loc l;
	ssize_t len = -1;
	int rc = node_loc(fs, node_of(fs, ino), v, &l);

	if (rc == 0) {
		len = readlinkat(l.fd, "", buf, sizeof(buf) - 1);
		rc = len < 0 ? -errno : 0;
		loc_close(&l);
	}
	fsview_put(v);
	if (rc < 0) {
		ops_reply_err(req, -rc);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct fsview *v = fsview_get(fs);
	struct statvfs sv;
	int r = v->primary_root >= 0 ? v->primary_root : v->n_roots > 0 ? 0 : -1;
	int rc = r < 0 ? (statvfs("/", &sv) == 0 ? 0 : -errno)
	               : (statvfs(v->roots[r].d->mount_path, &sv) == 0 ? 0 : -errno);

	(void)ino;
	fsview_put(v);
	if (rc < 0) {
		ops_reply_err(req, -rc);
	} else {
		fuse_reply_statfs(req, &sv);
	}
}

/* xattrs go through /proc/self/fd/N of the object's O_PATH fd; an open file's are read
 * through its handle's descriptor. */
enum xop { X_GET, X_LIST, X_SET, X_REMOVE };

struct xreq {
	enum xop op;
	const char *name;
	const char *value;
	size_t size;
	int flags;
	char *buf;
	ssize_t len;
};

/* RC of request X, but a drive without ACLs (vfat, exFAT, squashfs: EOPNOTSUPP) has none
 * (ENODATA): an error would refuse every access the kernel checks against the file's ACL
 * (FUSE_CAP_POSIX_ACL, fs.c). */
static int no_acl(const struct xreq *x, int rc)
{
	bool acl = x->op == X_GET && (strcmp(x->name, "system.posix_acl_access") == 0 ||
	                              strcmp(x->name, "system.posix_acl_default") == 0);

	return rc == -EOPNOTSUPP && acl ? -ENODATA : rc;
}

/* A read of the xattrs of an open file: from the file its handles have open (as fgetxattr
 * on a handle reads natively, and as fstat answers: fh_stat), with no walk of the drive
 * (through /proc/self/fd when that handle's fd is O_PATH: fgetxattr refuses those).
 * Samba reads a file's DOS attributes while it has it open. 1 when N is not open, or its
 * handles' file is a read-only drive's (a change copies it up: the path's copy answers). */
static int open_xattr(struct fs *fs, struct node *n, struct xreq *x)
{
	int fd = n->kind == NODE_TREE ? node_open_fd(fs, n) : -1;

	if (fd < 0) {
		return 1;
	}
	x->len = x->op == X_GET ? fgetxattr(fd, x->name, x->buf, x->size)
	                        : flistxattr(fd, x->buf, x->size);
	if (x->len < 0 && errno == EBADF) { /* an O_PATH handle's (handle.c): by its /proc link */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		x->len = x->op == X_GET ? getxattr(proc, x->name, x->buf, x->size)
		                        : listxattr(proc, x->buf, x->size);
	}
	int rc = x->len < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int do_xattr(struct fs *fs, struct node *n, struct fsview *v, struct xreq *x)
{
	char proc[64];
	struct loc l;
	bool change = x->op == X_SET || x->op == X_REMOVE;
	bool kept = x->op == X_GET && xc_wanted(x->name); /* xcache.c */
	struct xc_ticket t = {.ok = false};
	ssize_t len = 0;

	if (kept && xc_get(fs, n, x->name, x->buf, x->size, &len, &t)) {
		x->len = len;
		return len < 0 ? (int)len : 0;
	}
	int rc = change ? 1 : open_xattr(fs, n, x);

	if (rc <= 0) {
		return no_acl(x, rc);
	}
	rc = n->kind == NODE_SYNTH ? (change ? -EROFS : -ENODATA)
	     : change              ? node_writable(fs, n, v, &l)
	                           : node_loc(fs, n, v, &l);
	if (rc < 0) {
		return x->op == X_LIST && rc == -ENODATA ? (x->len = 0) : rc;
	}
	if (S_ISLNK(l.st.st_mode)) {
		loc_close(&l);
		return change ? -EPERM : x->op == X_LIST ? (x->len = 0) : -ENODATA;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", l.fd);
	if (x->op == X_GET) {
		x->len = getxattr(proc, x->name, x->buf, x->size);
	} else if (x->op == X_LIST) {
		x->len = listxattr(proc, x->buf, x->size);
	} else if (x->op == X_SET) {
		x->len = setxattr(proc, x->name, x->value, x->size, x->flags);
	} else {
		x->len = removexattr(proc, x->name);
	}
	rc = x->len < 0 ? -errno : 0;
	if (kept && x->size > 0) {
		xc_keep(fs, n, &t, &l.st, x->name, x->buf, rc < 0 ? rc : x->len);
	}
	loc_close(&l);
	if (change) {
		xc_drop(fs, n); /* after the change: a read that raced it is not kept */
	}
	return no_acl(x, rc);
}

static void run_xattr(fuse_req_t req, fuse_ino_t ino, struct xreq *x)
{
	struct fs *fs = fs_of(req);
	struct fsview *v = fsview_get(fs);
	bool sized = (x->op == X_GET || x->op == X_LIST) && x->size > 0;
	int rc = 0;

	x->buf = sized ? malloc(x->size) : NULL;
	rc = sized && !x->buf ? -ENOMEM : do_xattr(fs, node_of(fs, ino), v, x);
	fsview_put(v);
	if (rc < 0) {
		ops_reply_err(req, -rc);
	} else if (x->op == X_SET || x->op == X_REMOVE) {
		ops_reply_err(req, 0);
	} else if (!sized) {
		fuse_reply_xattr(req, (size_t)x->len);
	} else {
		fuse_reply_buf(req, x->buf, (size_t)x->len);
	}
	free(x->buf);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct xreq x = {.op = X_GET, .name = name, .size = size};
	run_xattr(req, ino, &x);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct xreq x = {.op = X_LIST, .size = size};
	run_xattr(req, ino, &x);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
	struct xreq x = {.op = X_SET, .name = name, .value = value, .size = size, .flags = flags};
	run_xattr(req, ino, &x);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct xreq x = {.op = X_REMOVE, .name = name};
	run_xattr(req, ino, &x);
}

void ops_attr_install(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = op_lookup;
	ops->forget = op_forget;
	ops->forget_multi = op_forget_multi;
	ops->getattr = op_getattr;
	ops->setattr = op_setattr;
	ops->readlink = op_readlink;
	ops->statfs = op_statfs;
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->setxattr = op_setxattr;
	ops->removexattr = op_removexattr;
}
