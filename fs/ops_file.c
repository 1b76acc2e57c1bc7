/* ops_file.c -- open files: open, create, read, write, fsync, fallocate, lseek.
 *
 * An open file holds its own fd on the drive it was opened on and a
 * reference on that view, so it keeps working whatever the resolver does
 * next, until that drive goes offline: every operation on a handle takes it
 * through fh_get, which then answers EIO (an offline drive is never touched
 * again; release alone still runs). Data moves straight between the kernel and the drive's fd
 * (FUSE_BUF_IS_FD, splice where offered). Opening a file for writing that
 * only a read-only drive holds copies it up to the primary first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

static bool writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static int open_flags(int flags)
{
	return flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW);
}

/* The drive of V a file on device DEV is on, or NULL (it left the view). */
static const struct fsdrive *drive_of_dev(struct fsview *v, dev_t dev)
{
	for (size_t r = 0; r < v->n_roots; r++) {
		if (v->roots[r].img_dev == dev || v->roots[r].mnt_dev == dev) {
			return &v->roots[r];
		}
	}
	return NULL;
}

/* A detached node is reached only through a handle it already has (a reopen
 * through /proc/self/fd): open the file its handles are on, as natively, not
 * whatever its old path means now. Returns 1 when N is not detached, or when
 * the open would write a file of a read-only drive (then the path decides). */
static int open_pinned(struct fs *fs, struct node *n, struct fsview *v, int flags, struct fh *fh,
                       struct stat *st)
{
	bool ro = false;
	int pin = node_pinned(fs, n, &ro);
	int rc = pin < 0 || (ro && writes(flags)) ? 1 : 0;

	rc = rc != 0 ? rc : fstat(pin, st) == 0 ? 0 : -errno;
	if (rc == 0) {
		fh->drive = drive_of_dev(v, st->st_dev);
		fh->read_only = ro;
		atomic_init(&fh->checked, v->generation);
		fh->fd = fh->drive ? walk_reopen(pin, open_flags(flags)) : -EIO;
		rc = fh->fd < 0 ? fh->fd : 0;
	}
	if (pin >= 0) {
		close(pin);
	}
	return rc;
}

/* Open node N with FLAGS on the drive that serves it. */
static int do_open_once(struct fs *fs, struct node *n, struct fsview *v, int flags, struct fh *fh,
                        struct stat *st)
{
	struct rel rel;
	struct loc l;
	struct loc up;
	int rc = n->kind == NODE_TREE ? open_pinned(fs, n, v, flags, fh, st) : -EISDIR;

	if (rc <= 0) {
		return rc;
	}
	rel_init(&rel);
	rc = node_rel(fs, n, &rel);
	rc = rc < 0 ? rc : loc_find(v, rel.s, 0, &l);
	if (rc < 0) {
		rel_fini(&rel);
		return rc;
	}
	fh->read_only = root_read_only(v, (size_t)l.root);
	fh->drive = &v->roots[l.root];
	atomic_init(&fh->checked, v->generation);
	if (fh->read_only && writes(flags)) {
		rc = copyup_file(v, rel.s, &l, &up);
		loc_close(&l);
		if (rc < 0) {
			rel_fini(&rel);
			return rc;
		}
		l = up;
		fh->read_only = false;
		fh->drive = &v->roots[l.root];
	}
	rel_fini(&rel);
	fh->fd = S_ISLNK(l.st.st_mode) ? -ELOOP : walk_reopen(l.fd, open_flags(flags));
	*st = l.st;
	loc_close(&l);
	return fh->fd < 0 ? fh->fd : 0;
}

/* Open N; when the drive refuses the write (EROFS: read-only since it was
 * published), it is read-only from now on and the file is copied up. */
static int do_open(struct fs *fs, struct node *n, struct fsview *v, int flags, struct fh *fh,
                   struct stat *st)
{
	int rc = do_open_once(fs, n, v, flags, fh, st);
	size_t r = fh->drive ? (size_t)(fh->drive - v->roots) : 0;

	if (rc == -EROFS && writes(flags) && fh->drive && !root_read_only(v, r)) {
		root_mark_read_only(v, r);
		rc = do_open_once(fs, n, v, flags, fh, st);
	}
	return rc;
}

static void reply_open(fuse_req_t req, struct fuse_file_info *fi, struct fh *fh, struct fsview *v,
                       const struct stat *st)
{
	struct fs *fs = fs_of(req);

	fh->view = v;
	fi->fh = (uintptr_t)fh;
	int rc = pt_opened(req, fs, fh, st, fi);

	if (rc < 0) {
		close(fh->fd);
		fsview_put(v);
		free(fh);
		ops_reply_err(req, -rc);
		return;
	}
	node_opened(fs, fh->node, fh->fd, fh->read_only);
	if (fuse_reply_open(req, fi) != 0) {
		pt_released(req, fs, fh);
		node_closed(fs, fh->node);
		close(fh->fd);
		fsview_put(v);
		free(fh);
	}
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fsview *v = fsview_get(fs);
	struct fh *fh = calloc(1, sizeof(*fh));
	struct stat st;
	int rc = fh ? do_open(fs, node_of(fs, ino), v, fi->flags, fh, &st) : -ENOMEM;

	if (rc < 0) {
		free(fh);
		fsview_put(v);
		ops_reply_err(req, -rc);
		return;
	}
	fh->node = node_of(fs, ino);
	atomic_fetch_add(&fs->n_opens, 1);
	reply_open(req, fi, fh, v, &st);
}

static int do_create(fuse_req_t req, struct node *p, const char *name, mode_t mode,
                     struct fuse_file_info *fi, struct fsview *v, struct stat *st)
{
	struct fs *fs = fs_of(req);
	int dirfd = -1;
	int rc = ops_prep_create(fs, p, name, v, &dirfd);
	int fd = -1;

	if (rc < 0) {
		return rc;
	}
	fd = openat(dirfd, name, open_flags(fi->flags) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	            mode);
	rc = fd < 0 ? -errno : ops_own(req, dirfd, name, mode);
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
	struct fh *fh = calloc(1, sizeof(*fh));
	struct fuse_entry_param e = {.attr_timeout = fs->attr_timeout,
	                             .entry_timeout = fs->entry_timeout};
	struct node *n = NULL;
	struct stat st; /* the drive's file: the kernel's backing file, not what clients see */
	int rc = fh ? do_create(req, p, name, mode, fi, v, &st) : -ENOMEM;

	dw_changed(fs, p); /* after the create too: no listing in between counts */

	if (rc >= 0) {
		fh->fd = rc;
		fh->drive = &v->roots[v->primary_root];
		atomic_init(&fh->checked, v->generation);
		/* the name did not exist (O_EXCL): a node still holding it is stale */
		node_unhash(fs, p, name);
		rc = node_get(fs, p, name, &n);
		if (rc < 0) {
			close(fh->fd);
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
	atomic_fetch_add(&fs->n_opens, 1);
	fh->view = v;
	fh->node = n;
	fi->fh = (uintptr_t)fh;
	node_opened(fs, n, fh->fd, false);
	/* a new node, so never stale; with the drive file's identity, which later
	 * opens of the node compare with (issue 13: the view's st_ino here made
	 * every open while this handle lived ESTALE) */
	pt_opened(req, fs, fh, &st, fi);
	if (fuse_reply_create(req, &e, fi) != 0) {
		pt_released(req, fs, fh);
		node_closed(fs, n);
		node_forget(fs, n, 1);
		close(fh->fd);
		fsview_put(v);
		free(fh);
	}
}

static struct fh *fh_of(struct fuse_file_info *fi)
{
	return (struct fh *)(uintptr_t)fi->fh;
}

int fh_get(struct fs *fs, struct fuse_file_info *fi, struct fh **out)
{
	struct fh *fh = fh_of(fi);
	int rc = fh_check(fs, fh);

	*out = rc < 0 ? NULL : fh;
	return rc;
}

int fh_node_online(struct fs *fs, struct node *n, struct fuse_file_info *fi)
{
	struct fh *fh = NULL;
	struct fsview *v = NULL;
	struct stat st;
	bool ro = false;
	int pin = -1;
	int rc = 0;

	if (fi && fi->fh) {
		return fh_get(fs, fi, &fh);
	}
	pin = node_pinned(fs, n, &ro);
	if (pin < 0) {
		return 0;
	}
	v = fsview_get(fs);
	rc = fstat(pin, &st) < 0 ? -errno : drive_of_dev(v, st.st_dev) ? 0 : -EIO;
	fsview_put(v);
	close(pin);
	return rc;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	struct fs *fs = fs_of(req);
	struct fh *fh = NULL;
	int rc = fh_get(fs, fi, &fh);

	(void)ino;
	if (rc < 0) {
		ops_reply_err(req, -rc);
		return;
	}
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fh->fd;
	buf.buf[0].pos = off;
	atomic_fetch_add(&fs->n_reads, 1);
	atomic_fetch_add(&fs->n_bytes_read, size); /* requested: the last read may get less */
	if (fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE) != 0) {
		atomic_fetch_add(&fs->n_errors, 1);
	}
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                         struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	struct fh *fh = NULL;
	ssize_t n = fh_get(fs_of(req), fi, &fh);

	(void)ino;
	if (n == 0) {
		out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		out.buf[0].fd = fh->fd;
		out.buf[0].pos = off;
		n = fuse_buf_copy(&out, in, 0);
	}
	if (n < 0) {
		ops_reply_err(req, (int)-n);
	} else {
		atomic_fetch_add(&fs_of(req)->n_bytes_written, (uint64_t)n);
		fuse_reply_write(req, (size_t)n);
	}
}

/* Release works whatever became of the drive: it only lets go. */
static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);

	(void)ino;
	pt_released(req, fs_of(req), fh);
	node_closed(fs_of(req), fh->node);
	close(fh->fd);
	fsview_put(fh->view);
	free(fh);
	ops_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct fh *fh = NULL;
	int rc = fh_get(fs_of(req), fi, &fh);

	(void)ino;
	if (rc == 0) {
		rc = (datasync ? fdatasync(fh->fd) : fsync(fh->fd)) == 0 ? 0 : -errno;
	}
	ops_reply_err(req, -rc);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
	struct fh *fh = NULL;
	int rc = fh_get(fs_of(req), fi, &fh);

	(void)ino;
	if (rc == 0) {
		rc = fallocate(fh->fd, mode, off, len) == 0 ? 0 : -errno;
	}
	ops_reply_err(req, -rc);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                     struct fuse_file_info *fi)
{
	struct fh *fh = NULL;
	off_t res = fh_get(fs_of(req), fi, &fh);

	(void)ino;
	if (res == 0) {
		res = lseek(fh->fd, off, whence);
		res = res < 0 ? -errno : res;
	}
	if (res < 0) {
		ops_reply_err(req, (int)-res);
	} else {
		fuse_reply_lseek(req, res);
	}
}

void ops_file_install(struct fuse_lowlevel_ops *ops)
{
	ops->open = op_open;
	ops->create = op_create;
	ops->read = op_read;
	ops->write_buf = op_write_buf;
	/* no flush: libfuse answers ENOSYS once and the kernel stops sending FLUSH on
	 * every close (the drive's fd is closed at release) */
	ops->release = op_release;
	ops->fsync = op_fsync;
	ops->fallocate = op_fallocate;
	ops->lseek = op_lseek;
}
