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
 * again) opens that node's own file (handle.c). st_ino is computed from the
 * path, so clients see the same number. Without
 * passthrough every handle is cached, with keep_cache when the backing file is
 * the one cached at the last open and unchanged since. This file decides and
 * registers backing files; each node's counts of handles per mode and its
 * backing id are node.c's (node_io_open, node_io_close), under fs->lock.
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

#if PXE_HAVE_PASSTHROUGH
/* What backing_open needs: the request and the handle being opened. */
struct backing {
	fuse_req_t req;
	struct fs *fs;
	struct fh *fh;
};

/* Register the handle's file with the kernel as a backing file: its id, or 0
 * (the daemon serves it). node.c calls it under fs->lock (node_io_open): the
 * one syscall made there, an ioctl on /dev/fuse. */
static int backing_open(void *arg)
{
	struct backing *b = arg;
	struct fs *fs = b->fs;
	/* the one field of a published drive that changes (once) */
	struct fsdrive *drive = (struct fsdrive *)b->fh->drive;
	int id = 0;

	if (!atomic_load(&fs->pt_active)) {
		return 0;
	}
	id = fuse_passthrough_open(b->req, b->fh->fd);
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
		return 0;
	}
	return id;
}
#endif

/* The name of N goes to a new node at the next lookup; the kernel forgets
 * its cached entry now (no directory lock is held during FUSE_OPEN), or soon
 * (DIR_LOCKED: during FUSE_CREATE the kernel holds the folder until the reply,
 * and a notification sent from the request would wait for it for ever). */
void pt_detach(struct fs *fs, struct node *n, bool dir_locked)
{
	fuse_ino_t parent = 0;
	char *name = node_detach(fs, n, &parent);

	if (name && dir_locked) {
		dw_drop_entry(fs, parent, name); /* takes the name */
		return;
	}
	if (name && fs->se) {
		fuse_lowlevel_notify_inval_entry(fs->se, parent, name, strlen(name));
	}
	free(name);
}

bool pt_wanted(struct fs *fs, const struct fsdrive *d)
{
	return atomic_load(&fs->pt_active) && !(d && atomic_load(&d->no_passthrough));
}

/* Linux took only a real fd as a backing file until 6.12 (stable kernels from 6.9.x on
 * have the change, "fuse: allow O_PATH fd for FUSE_DEV_IOC_BACKING_OPEN"): asked once,
 * with a backing file made and closed at once. A refusal for another reason (EPERM:
 * passthrough is not allowed at all; ELOOP: a stacked drive) says nothing of O_PATH:
 * asked again at the next such open. */
bool pt_opath_ok(fuse_req_t req, struct fs *fs, struct fh *fh)
{
#if PXE_HAVE_PASSTHROUGH
	int known = atomic_load(&fs->pt_opath);
	int id = 0;

	if (known != 0) {
		return known > 0;
	}
	id = fuse_passthrough_open(req, fh->fd);
	if (id > 0) {
		fuse_passthrough_close(req, id);
		atomic_store(&fs->pt_opath, 1);
		return true;
	}
	if (errno == EOPNOTSUPP || errno == EBADF || errno == EINVAL) {
		atomic_store(&fs->pt_opath, -1);
		log_debug("passthrough: the kernel takes no O_PATH backing file (%s): each "
		          "passthrough open is reopened through /proc/self/fd",
		          strerror(errno));
	}
	return false;
#else
	(void)req;
	(void)fs;
	(void)fh;
	return false;
#endif
}

int pt_opened(fuse_req_t req, struct fs *fs, struct fh *fh, const struct stat *st,
              struct fuse_file_info *fi, bool dir_locked)
{
	struct node_io io = {.want = false};
	int mode = 0;

	fh->writes = fh_writes(fi->flags);

#if PXE_HAVE_PASSTHROUGH
	struct backing b = {.req = req, .fs = fs, .fh = fh};

	io.want = pt_wanted(fs, fh->drive);
	io.writes = fh->writes;
	io.backing_open = backing_open;
	io.arg = &b;
#else
	(void)req;
#endif
	mode = node_io_open(fs, fh->node, st, &io);
	if (mode < 0) {
		atomic_fetch_add(&fs->n_stale_opens, 1);
		pt_detach(fs, fh->node, dir_locked);
		return mode;
	}
	fi->keep_cache = io.keep_cache;
#if PXE_HAVE_PASSTHROUGH
	if (mode == FH_PASSTHROUGH) {
		fi->backing_id = io.backing_id;
	}
#endif
	fh->io = (enum fh_io)mode;
	if (mode == FH_PASSTHROUGH) {
		atomic_fetch_add(&fs->n_pt_opens, 1);
	}
	return 0;
}

int pt_node_get(struct fs *fs, struct node *parent, const char *name, const struct stat *st,
                struct node **out)
{
	fuse_ino_t pid = 0;
	int rc = node_get_as(fs, parent, name, st->st_mode, out);

	if (rc < 0) {
		return rc;
	}
	/* detached since it was found (the folder watch or a GETATTR saw the name
	 * name another file): no path reaches it any more, and an entry naming it
	 * would lead the next open by this path to its old file */
	if (!node_moved(fs, *out, st)) {
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
	int id = node_io_close(fs, fh->node, fh->io, fh->writes);

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
