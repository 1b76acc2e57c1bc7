/* passthrough.c -- how the kernel does I/O on an open file.
 *
 * With kernel FUSE passthrough (Linux 6.9+, libfuse 3.17+, root) an opened
 * regular file is tied to its backing file on the drive: reads, writes,
 * splice and mmap go straight there and never reach the daemon. The kernel's
 * rules shape the choice made at each open of a node:
 *   - every passthrough handle of one inode uses one backing file (one
 *     backing id, kept while the node has passthrough handles);
 *   - an inode is either in passthrough or in cached mode, never both.
 *   - an open that is not in passthrough fails (EIO) while the inode has
 *     passthrough handles.
 * So: a node with cached handles opens cached again. A node whose
 * handles are on another drive file (a resolver switch, a copy-up or a change
 * on the drives moved the path to another drive while it was open) cannot
 * take this open, in either mode: one kernel inode is one file, for its locks
 * and its page cache. Its name is detached and invalidated, and the open is
 * answered ESTALE, on which the kernel walks the path again with
 * revalidation (do_filp_open's LOOKUP_REVAL retry), gets a new node id and
 * opens that on the new file. The old handles drain on the old one, and a
 * reopen of one of them through /proc/self/fd (which reaches the detached node
 * again) opens that node's own file (do_open). st_ino is computed from the
 * path, so clients see the same number. Without
 * passthrough every handle is cached, with keep_cache when the backing file is
 * the one cached at the last open and unchanged since.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "fs_int.h"

#if PXE_HAVE_PASSTHROUGH
static const char PT_OFF_CONFIG[] = "turned off (passthrough = no, or PXEIMAGESFS_PASSTHROUGH=no)";
static const char PT_OFF_KERNEL[] =
    "the kernel does not offer it (needs Linux 6.9 or newer built with CONFIG_FUSE_PASSTHROUGH)";
static const char PT_OFF_PERM[] = "the kernel refused to register a backing file: the daemon needs "
                                  "CAP_SYS_ADMIN (run it as root)";
#endif
#define PT_STR2(x) #x
#define PT_STR(x)  PT_STR2(x)
static const char PT_OFF_BUILD[] = "this build has libfuse " PT_STR(FUSE_MAJOR_VERSION) "." PT_STR(
    FUSE_MINOR_VERSION) ", older than 3.17 (configure with -DPXE_LIBFUSE=bundled)";

void pt_init(struct fs *fs, struct fuse_conn_info *conn)
{
	const char *why = PT_OFF_BUILD;

#if PXE_HAVE_PASSTHROUGH
	if (!fs->pt_want) {
		why = PT_OFF_CONFIG;
	} else if (!(conn->capable & FUSE_CAP_PASSTHROUGH)) {
		why = PT_OFF_KERNEL;
	} else {
		conn->want |= FUSE_CAP_PASSTHROUGH;
		/* backing files may sit on a stacked filesystem (overlayfs) */
		conn->max_backing_stack_depth = FUSE_BACKING_STACKED_OVER;
		why = NULL;
	}
#ifdef FUSE_CAP_DIRECT_IO_ALLOW_MMAP
	/* direct-I/O handles (a backing change while open) may still be mmapped */
	if (conn->capable & FUSE_CAP_DIRECT_IO_ALLOW_MMAP) {
		conn->want |= FUSE_CAP_DIRECT_IO_ALLOW_MMAP;
	}
#endif
#else
	(void)conn;
#endif
	atomic_store(&fs->pt_reason, why);
	atomic_store(&fs->pt_active, why == NULL);
	atomic_store(&fs->inited, true);
	log_info("passthrough: %s",
	         why ? why : "active (open files are read and written by the kernel)");
}

/* May the kernel keep its page cache of N? Yes when the backing file is the
 * one it cached at the last open and unchanged since (same drive file, size
 * and mtime): writes through the view went through that cache anyway. */
static bool keep_cache_locked(struct node *n, const struct stat *st)
{
	bool keep = n->cached.st_dev == st->st_dev && n->cached.st_ino == st->st_ino &&
	            n->cached.st_size == st->st_size &&
	            n->cached.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	            n->cached.st_mtim.tv_nsec == st->st_mtim.tv_nsec;

	n->cached = *st;
	return keep;
}

#if PXE_HAVE_PASSTHROUGH
/* Locked. The mode for handle FH (backing file stat ST). */
static int choose_locked(fuse_req_t req, struct fs *fs, struct fh *fh, const struct stat *st,
                         struct fuse_file_info *fi)
{
	struct node *n = fh->node;
	/* the one field of a published drive that changes (once) */
	struct fsdrive *drive = (struct fsdrive *)fh->drive;
	int id = 0;

	if (!atomic_load(&fs->pt_active) || !S_ISREG(st->st_mode) || n->n_cached > 0 ||
	    (drive && atomic_load(&drive->no_passthrough))) {
		return FH_CACHED;
	}
	if (n->pt_refs > 0) { /* on the same backing file: elsewhere_locked said so */
		n->pt_refs++;
		fi->backing_id = n->pt_id;
		return FH_PASSTHROUGH;
	}
	id = fuse_passthrough_open(req, fh->fd);
	if (id <= 0) {
		int err = errno;
		if (err == EPERM) {
			/* not allowed to register backing files at all: stop trying */
			atomic_store(&fs->pt_reason, PT_OFF_PERM);
			atomic_store(&fs->pt_active, false);
			log_warnx("passthrough: %s; serving reads through the daemon", PT_OFF_PERM);
		} else if (drive && !atomic_exchange(&drive->no_passthrough, true)) {
			/* a filesystem the kernel cannot pass through: ask once per drive */
			log_warnx(
			    "passthrough: the kernel cannot pass files of drive %s through (%s); "
			    "the daemon serves them",
			    drive->d->name, strerror(err));
		}
		return FH_CACHED;
	}
	n->pt_refs = 1;
	n->pt_id = id;
	fi->backing_id = id;
	return FH_PASSTHROUGH;
}
#endif

/* The name of N goes to a new node at the next lookup; the kernel forgets
 * its cached entry now (no directory lock is held during FUSE_OPEN). */
static void detach(struct fs *fs, struct node *n)
{
	fuse_ino_t parent = 0;
	char *name = node_detach(fs, n, &parent);

	if (name && fs->se) {
		fuse_lowlevel_notify_inval_entry(fs->se, parent, name, strlen(name));
	}
	free(name);
}

/* Locked. Are N's open handles on another drive file than ST? One kernel inode
 * is one file, as natively: its locks, its page cache and a reopen through
 * /proc/self/fd of any handle mean that file. Only a detached node (no path
 * reaches it) whose handles are all daemon-served may mix: a write open of a
 * node pinned on a read-only drive gets the written copy (see do_open). */
static bool elsewhere_locked(const struct node *n, const struct stat *st)
{
	if (n->n_cached + n->pt_refs == 0) {
		return false;
	}
	if (n->open_dev == st->st_dev && n->open_ino == st->st_ino) {
		return false;
	}
	return !(n->detached && n->pt_refs == 0);
}

bool pt_elsewhere(struct fs *fs, struct node *n, const struct stat *st)
{
	bool other = false;

	pthread_mutex_lock(&fs->lock);
	other = !n->detached && elsewhere_locked(n, st);
	pthread_mutex_unlock(&fs->lock);
	return other;
}

int pt_opened(fuse_req_t req, struct fs *fs, struct fh *fh, const struct stat *st,
              struct fuse_file_info *fi)
{
	struct node *n = fh->node;
	int io = FH_CACHED;

	pthread_mutex_lock(&fs->lock);
	if (elsewhere_locked(n, st)) {
		io = -ESTALE;
	} else if (n->n_cached + n->pt_refs == 0) {
		n->open_dev = st->st_dev;
		n->open_ino = st->st_ino;
	}
#if PXE_HAVE_PASSTHROUGH
	io = io < 0 ? io : choose_locked(req, fs, fh, st, fi);
#else
	(void)req;
#endif
	if (io == FH_CACHED) {
		n->n_cached++;
		fi->keep_cache = keep_cache_locked(n, st);
	} else if (io == FH_PASSTHROUGH) {
		fi->keep_cache = 0;
		n->cached = *st;
	}
	pthread_mutex_unlock(&fs->lock);
	if (io < 0) {
		atomic_fetch_add(&fs->n_stale_opens, 1);
		detach(fs, n);
		return io;
	}
	fh->io = (enum fh_io)io;
	if (io == FH_PASSTHROUGH) {
		atomic_fetch_add(&fs->n_pt_opens, 1);
	}
	return 0;
}

int pt_node_get(struct fs *fs, struct node *parent, const char *name, const struct stat *st,
                struct node **out)
{
	fuse_ino_t pid = 0;
	bool moved = false;
	int rc = node_get_as(fs, parent, name, st->st_mode, out);

	if (rc < 0) {
		return rc;
	}
	/* detached since it was found (the folder watch or a GETATTR saw the name
	 * name another file): no path reaches it any more, and an entry naming it
	 * would lead the next open by this path to its old file */
	pthread_mutex_lock(&fs->lock);
	moved = (*out)->detached || elsewhere_locked(*out, st);
	pthread_mutex_unlock(&fs->lock);
	if (!moved) {
		return 0;
	}
	/* no invalidation: the kernel holds the folder during a lookup, and the new
	 * node id in the reply replaces its entry */
	free(node_detach(fs, *out, &pid));
	node_forget(fs, *out, 1);
	return node_get_as(fs, parent, name, st->st_mode, out);
}

void pt_released(fuse_req_t req, struct fs *fs, struct fh *fh)
{
	struct node *n = fh->node;
	int id = 0;

	pthread_mutex_lock(&fs->lock);
	if (fh->io == FH_CACHED && n->n_cached > 0) {
		n->n_cached--;
	} else if (fh->io == FH_PASSTHROUGH && n->pt_refs > 0 && --n->pt_refs == 0) {
		id = n->pt_id;
		n->pt_id = 0;
	}
	pthread_mutex_unlock(&fs->lock);
#if PXE_HAVE_PASSTHROUGH
	if (id > 0) {
		fuse_passthrough_close(req, id);
	}
#else
	(void)req;
	(void)id;
#endif
}

const char *fs_passthrough_info(char *buf, size_t len)
{
#if PXE_HAVE_PASSTHROUGH
	struct utsname u;
	unsigned major = 0;
	unsigned minor = 0;

	if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
	    (major < 6 || (major == 6 && minor < 9))) {
		snprintf(
		    buf, len,
		    "kernel passthrough: built in, but Linux %u.%u is older than 6.9: reads go "
		    "through the daemon",
		    major, minor);
	} else {
		snprintf(
		    buf, len,
		    "kernel passthrough: built in (libfuse %s) and used when the kernel offers it "
		    "and the daemon runs as root; `pxeimagesfs status` tells whether a mount uses "
		    "it",
		    fuse_pkgversion());
	}
#else
	snprintf(buf, len, "kernel passthrough: not available: %s", PT_OFF_BUILD);
#endif
	return buf;
}
