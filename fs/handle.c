/* handle.c -- open files: open, a created file's handle, the drive each is pinned to, release.
 *
 * An open file holds its own fd on the drive it was opened on and a reference
 * on that view, so it keeps working whatever the resolver does next, until
 * that drive goes offline. fi->fh is read here only: every operation on an
 * open file takes its handle through fh_get, which checks the drive is still
 * the one the file was opened on and else answers EIO (an offline drive is
 * never touched again; release alone still runs). Opening a file for writing
 * that only a read-only drive holds copies it up to the primary first. The
 * kernel's I/O mode and backing id of a handle are chosen at open and given
 * back at release (passthrough.c). No lock here: node.c keeps a node's count
 * of open handles and the descriptor they pin.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

static struct fh *fh_of(struct fuse_file_info *fi)
{
	return (struct fh *)(uintptr_t)fi->fh;
}

/* 0 while the drive FH was opened on is online (in the current view, same
 * filesystem), else -EIO: an offline drive is never written again, and a read
 * from a vanished drive fails. Lock-free while the view does not change. */
static int fh_check(struct fs *fs, struct fh *fh)
{
	uint64_t gen = atomic_load(&fs->generation);
	struct fsview *v = NULL;
	bool online = false;

	if (!fh->drive || atomic_load(&fh->checked) == gen) {
		return 0;
	}
	v = fsview_get(fs);
	for (size_t r = 0; r < v->n_roots && !online; r++) {
		online = v->roots[r].mnt_dev == fh->drive->mnt_dev &&
		         v->roots[r].mnt_ino == fh->drive->mnt_ino &&
		         strcmp(v->roots[r].d->mount_path, fh->drive->d->mount_path) == 0;
	}
	gen = v->generation;
	fsview_put(v);
	if (!online) {
		return -EIO;
	}
	atomic_store(&fh->checked, gen);
	return 0;
}

/* The one place that reads fi->fh of a file: every operation on an open file
 * takes its handle here, so none can forget the check. */
int fh_get(struct fs *fs, struct fuse_file_info *fi, struct fh **out)
{
	struct fh *fh = fi ? fh_of(fi) : NULL;
	int rc = fh ? fh_check(fs, fh) : 0;

	*out = rc < 0 ? NULL : fh;
	return rc;
}

bool fh_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* FLAGS less those the drive's open must not see (the name was resolved). */
int fh_open_flags(int flags)
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

int fh_node_online(struct fs *fs, struct node *n, struct fuse_file_info *fi, struct fh **out)
{
	struct fsview *v = NULL;
	struct stat st;
	bool ro = false;
	int pin = -1;
	int rc = fh_get(fs, fi, out);

	if (rc < 0 || *out) {
		return rc;
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

int fh_stat(struct fs *fs, struct node *n, struct fuse_file_info *fi, struct stat *st)
{
	struct fh *fh = NULL;
	bool ro = false;
	int pin = -1;
	int rc = fh_get(fs, fi, &fh);

	if (rc < 0) {
		return rc;
	}
	if (fh) {
		return fstat(fh->fd, st) == 0 ? 0 : -errno;
	}
	pin = node_pinned(fs, n, &ro);
	if (pin < 0) {
		return 1;
	}
	rc = fstat(pin, st) == 0 ? 0 : -errno; /* an open file keeps its drive */
	close(pin);
	return rc;
}

/* A folder handle (ops_dir.c's listing) rides in fi->fh too. */
void fh_dir_set(struct fuse_file_info *fi, struct dh *d)
{
	fi->fh = (uintptr_t)d;
}

struct dh *fh_dir(struct fuse_file_info *fi)
{
	return (struct dh *)(uintptr_t)fi->fh;
}

struct fh *fh_new(void)
{
	struct fh *fh = calloc(1, sizeof(struct fh));

	if (fh) {
		fh->fd = -1;
		atomic_init(&fh->io_fd, -1);
	}
	return fh;
}

/* Descriptors kept free beyond those the O_PATH handles may still need: for
 * what the daemon opens for a moment (a folder's listing, a drive's check). */
#define FD_SPARE 16
/* Below this RLIMIT_NOFILE every handle gets its real fd at once (one descriptor each, not
 * one and one kept free): a daemon that small keeps the most files open that way. */
#define FD_LAZY_MIN 4096

/* Is there room, with descriptor FD (the lowest free one when it was made: the
 * daemon holds about FD+1), for MORE descriptors, every O_PATH handle's real
 * one and the spare? A handle kept O_PATH makes its real fd when the daemon
 * first does I/O on it (an fsync, an lseek), and that must not fail for want
 * of descriptors (natively only an open does): the room is kept for it, and
 * opens that would take it fail with EMFILE instead. */
static bool fd_room(struct fs *fs, int fd, int more)
{
	int lazy = atomic_load(&fs->n_opath_lazy);

	return (lazy == 0 && more == 0) || (long)fd + more + lazy + FD_SPARE < (long)fs->fd_limit;
}

/* FH no longer needs a descriptor kept free for it. */
static void fh_unreserve(struct fs *fs, struct fh *fh)
{
	if (atomic_exchange(&fh->lazy, false)) {
		atomic_fetch_sub(&fs->n_opath_lazy, 1);
	}
}

/* A real fd for the object behind FH's O_PATH fd, opened as the client asked. */
static int fh_reopen(struct fh *fh)
{
	return walk_reopen(fh->fd, fh->flags);
}

int fh_fd(struct fs *fs, struct fh *fh)
{
	int fd = -1;
	int none = -1;

	if (!fh->opath) {
		return fh->fd;
	}
	fd = atomic_load(&fh->io_fd);
	if (fd >= 0) {
		return fd;
	}
	fd = fh_reopen(fh);
	if (fd < 0) {
		return fd == -EMFILE || fd == -ENFILE ? -EIO : fd; /* not an open's error */
	}
	if (!atomic_compare_exchange_strong(&fh->io_fd, &none, fd)) {
		close(fd); /* another request made one first */
		return none;
	}
	fh_unreserve(fs, fh);
	return fd;
}

/* FH's O_PATH fd replaced by a real one (before any other request sees FH). */
static int fh_real(struct fs *fs, struct fh *fh)
{
	int fd = fh->opath ? fh_reopen(fh) : fh->fd;

	if (fd < 0) {
		return fd;
	}
	if (fh->opath) {
		close(fh->fd);
		fh->fd = fd;
		fh->opath = false;
		fh_unreserve(fs, fh);
	}
	return 0;
}

/* At release: the real fd fh_fd made, if any (the handle's own fd is
 * node_closed's), and the room kept for one. */
static void fh_close_io(struct fs *fs, struct fh *fh)
{
	int fd = atomic_exchange(&fh->io_fd, -1);

	if (fd >= 0) {
		close(fd);
	}
	fh_unreserve(fs, fh);
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
	int rc = pin < 0 || (ro && fh_writes(flags)) ? 1 : 0;

	rc = rc != 0 ? rc : fstat(pin, st) == 0 ? 0 : -errno;
	if (rc == 0) {
		fh->drive = drive_of_dev(v, st->st_dev);
		fh->read_only = ro;
		atomic_init(&fh->checked, v->generation);
		fh->fd = fh->drive ? walk_reopen(pin, fh_open_flags(flags)) : -EIO;
		rc = fh->fd < 0 ? fh->fd : 0;
	}
	if (pin >= 0) {
		close(pin);
	}
	return rc;
}

/* The drive file L an OPEN of N found. The kernel sends OPEN only for what it
 * knows as a regular file (it opens FIFOs and devices of the view itself), so
 * anything else is a swap on the drive since the lookup (mkfifo or mknod, then
 * a rename over the name): refused with EIO, never opened for I/O (a FIFO's
 * open would hold this thread until a writer came). ESTALE is not the answer:
 * the kernel's one retry (LOOKUP_REVAL) would open the view's FIFO, a pipe of
 * the kernel's own no drive writer ever reaches, and block the client instead;
 * and outside a path walk (a reopen through /proc, an NFS export) ESTALE
 * reaches the caller as "stale file handle". N's name is detached and its
 * entry dropped (as for a stale open, passthrough.c): the next lookup gets a
 * new node of the new type, and handles still open on the old file keep it.
 * A symlink stays ELOOP (O_NOFOLLOW). */
static int drive_file_ok(struct fs *fs, struct node *n, const struct loc *l)
{
	if (S_ISREG(l->st.st_mode) || S_ISLNK(l->st.st_mode)) {
		return 0;
	}
	pt_detach(fs, n, false);
	log_debug("open: a drive file is no longer a regular file (mode %o): EIO",
	          (unsigned)(l->st.st_mode & S_IFMT));
	return -EIO;
}

/* Open node N with FLAGS on the drive that serves it. A read-only open opens
 * the drive file as it finds it with O_NONBLOCK (whatever it is: a FIFO must
 * not block); reply_open clears it where the daemon does the file's I/O. */
static int do_open_once(struct fs *fs, struct node *n, struct fsview *v, int flags, struct fh *fh,
                        struct stat *st)
{
	struct rel rel;
	struct loc l = {.root = -1, .fd = -1};
	struct loc up;
	int rc = n->kind == NODE_TREE ? open_pinned(fs, n, v, flags, fh, st) : -EISDIR;

	if (rc <= 0) {
		return rc;
	}
	rel_init(&rel);
	rc = node_rel(fs, n, &rel);
	/* a read-only open opens the drive file as it finds it (no second open
	 * through /proc); a write may need a copy-up first */
	rc = rc < 0 ? rc
	            : loc_find_as(v, rel.s, 0,
	                          fh_writes(flags) ? O_PATH : fh_open_flags(flags) | O_NONBLOCK, &l);
	rc = rc < 0 ? rc : drive_file_ok(fs, n, &l);
	if (rc < 0) {
		loc_close(&l);
		rel_fini(&rel);
		return rc;
	}
	fh->read_only = root_read_only(v, (size_t)l.root);
	fh->drive = &v->roots[l.root];
	atomic_init(&fh->checked, v->generation);
	if (fh->read_only && fh_writes(flags)) {
		rc = copyup_file(v, rel.s, &l, &up);
		loc_close(&l);
		if (rc < 0) {
			rel_fini(&rel);
			return rc;
		}
		l = up;
		fh->read_only = false;
		fh->drive = &v->roots[l.root];
		node_copied_up(fs, n);
	}
	rel_fini(&rel);
	if (l.real) {
		fh->fd = l.fd;
		fh->nonblock = !(flags & O_NONBLOCK);
		l.fd = -1;
	} else if (S_ISREG(l.st.st_mode) && !fh_writes(flags) && fs->fd_limit >= FD_LAZY_MIN &&
	           fd_room(fs, l.fd, 1)) {
		/* no open through /proc now: in passthrough the kernel opens its own backing
		 * file from it; served by the daemon, the real fd is made at the first READ
		 * (fh_fd), and a file read from the kernel's page cache never needs one */
		fh->fd = l.fd;
		fh->opath = true;
		fh->flags = fh_open_flags(flags);
		atomic_store(&fh->lazy, true);
		atomic_fetch_add(&fs->n_opath_lazy, 1);
		l.fd = -1;
	} else { /* the O_PATH fd's own file, a regular one (drive_file_ok) */
		fh->fd = S_ISLNK(l.st.st_mode) ? -ELOOP : walk_reopen(l.fd, fh_open_flags(flags));
	}
	*st = l.st;
	loc_close(&l);
	if (fh->fd >= 0 && !fh->opath && !fd_room(fs, fh->fd, 0)) {
		close(fh->fd); /* the room left is the O_PATH handles' */
		fh->fd = -EMFILE;
	}
	return fh->fd < 0 ? fh->fd : 0;
}

/* Open N; when the drive refuses the write (EROFS: read-only since it was
 * published), it is read-only from now on and the file is copied up. */
static int do_open(struct fs *fs, struct node *n, struct fsview *v, int flags, struct fh *fh,
                   struct stat *st)
{
	int rc = do_open_once(fs, n, v, flags, fh, st);
	size_t r = fh->drive ? (size_t)(fh->drive - v->roots) : 0;

	if (rc == -EROFS && fh_writes(flags) && fh->drive && !root_read_only(v, r)) {
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
	int rc = fh->opath && pt_wanted(fs, fh->drive) && !pt_opath_ok(req, fs, fh)
	             ? fh_real(fs, fh)
	             : 0;

	rc = rc < 0 ? rc : pt_opened(req, fs, fh, st, fi, false);

	/* the daemon reads and writes a cached handle's fd: as the client asked, without
	 * the O_NONBLOCK of the open (the open took these very flags). Passthrough: the
	 * kernel opens its own backing file with the client's flags; no syscall here. */
	if (rc == 0 && fh->nonblock && fh->io == FH_CACHED) {
		(void)fcntl(fh->fd, F_SETFL, fh_open_flags(fi->flags));
	}
	if (rc < 0) {
		close(fh->fd);
		fh_unreserve(fs, fh);
		fsview_put(v);
		free(fh);
		ops_reply_err(req, -rc);
		return;
	}
	node_opened(fs, fh->node, fh->fd, fh->read_only);
	if (fuse_reply_open(req, fi) != 0) {
		pt_released(req, fs, fh);
		node_closed(fs, fh->node, fh->fd);
		fh_close_io(fs, fh);
		fsview_put(v);
		free(fh);
	}
}

/* After a copy-up, N is a new file: the number of the primary's copy (DNUM) on an 'inode
 * numbers = drive' primary. The kernel's cached attributes still have the old one and an
 * open sends none: its entry is dropped (by the folder watch thread, not from this request),
 * so the next lookup by name brings the new number. */
static void renumber(struct fs *fs, struct node *n, uint64_t dnum)
{
	fuse_ino_t parent = 0;

	if (node_number(fs, n, dnum)) {
		char *name = node_name(fs, n, &parent);
		dw_drop_entry(fs, parent, name); /* takes NAME; NULL: nothing */
	}
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fsview *v = fsview_get(fs);
	struct fh *fh = fh_new();
	struct stat st;
	int rc = fh ? do_open(fs, node_of(fs, ino), v, fi->flags, fh, &st) : -ENOMEM;

	if (rc < 0) {
		if (fh) {
			fh_unreserve(fs, fh);
		}
		free(fh);
		fsview_put(v);
		ops_reply_err(req, -rc);
		return;
	}
	fh->node = node_of(fs, ino);
	renumber(fs, fh->node, fileid_of(v, (int)(fh->drive - v->roots), &st));
	atomic_fetch_add(&fs->n_opens, 1);
	reply_open(req, fi, fh, v, &st);
}

void fh_reply_create(fuse_req_t req, struct fuse_file_info *fi, struct fh *fh, int fd,
                     struct fsview *v, struct node *n, const struct fuse_entry_param *e,
                     const struct stat *st)
{
	struct fs *fs = fs_of(req);
	int rc = 0;

	fh->fd = fd;
	fh->drive = &v->roots[v->primary_root];
	atomic_init(&fh->checked, v->generation);
	fh->view = v;
	fh->node = n;
	fi->fh = (uintptr_t)fh;
	/* with the drive file's identity, which later opens of the node compare
	 * with (issue 13: the view's st_ino here made every open while this handle
	 * lived ESTALE). N is new, so not stale, unless another open of the name
	 * got in first on another file: then the create is undone like an open and
	 * answered ESTALE (the kernel looks the name up again), and N's entry is
	 * dropped from the folder watch thread (the kernel holds the folder). */
	rc = pt_opened(req, fs, fh, st, fi, true);
	if (rc < 0) {
		node_forget(fs, n, 1);
		close(fd);
		fsview_put(v);
		free(fh);
		ops_reply_err(req, -rc);
		return;
	}
	atomic_fetch_add(&fs->n_opens, 1);
	node_opened(fs, n, fh->fd, false);
	if (fuse_reply_create(req, e, fi) != 0) {
		pt_released(req, fs, fh);
		node_closed(fs, n, fh->fd);
		node_forget(fs, n, 1);
		fsview_put(v);
		free(fh);
	}
}

/* Release works whatever became of the drive: it only lets go. */
static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);

	(void)ino;
	pt_released(req, fs_of(req), fh);
	node_closed(fs_of(req), fh->node, fh->fd); /* closes fh->fd */
	fh_close_io(fs_of(req), fh);
	fsview_put(fh->view);
	free(fh);
	ops_reply_err(req, 0);
}

void handle_install(struct fuse_lowlevel_ops *ops)
{
	ops->open = op_open;
	/* no flush: libfuse answers ENOSYS once and the kernel stops sending FLUSH on
	 * every close (the drive's fd is closed at release) */
	ops->release = op_release;
}
