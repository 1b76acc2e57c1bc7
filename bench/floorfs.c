/* floorfs.c -- the cost of the FUSE round trip itself, for bench/floor.sh: a low-level FUSE
 * filesystem that does no I/O at all. It answers from its own arithmetic, as fast as any
 * daemon can: folders d000-d999 in its root, files f00000-f99999 of 4 KiB in each (the names
 * bench/bhelper.c's openread asks for), every other name missing (ENOENT, not cached). Opens,
 * reads (from one static buffer, page cache kept) and releases are answered as a daemon that
 * serves files must; no FLUSH (ENOSYS once, as pxeimagesfs). The worker threads are set up as
 * pxeimagesfs sets up its own (fs/fs.c: at most 64, 8 idle, requests read without splicing).
 * Entries and attributes are cached for a day.
 *
 *   floorfs MOUNTPOINT        (foreground; until unmounted or signalled)
 *
 * Not part of the product.
 */
#define FUSE_USE_VERSION 317

#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_SIZE 4096
#define DIRS      1000
#define PER       100000
#define FILE_BASE 10000 /* inode of d000/f00000 */

static char data[FILE_SIZE];

/* "xNNN..." with exactly DIGITS digits after the letter X: the number, else -1 */
static long num(const char *name, char x, int digits)
{
	long v = 0;

	if (name[0] != x || (int)strlen(name) != digits + 1) {
		return -1;
	}
	for (int i = 1; i <= digits; i++) {
		if (name[i] < '0' || name[i] > '9') {
			return -1;
		}
		v = v * 10 + (name[i] - '0');
	}
	return v;
}

static void attr_of(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino < FILE_BASE) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = FILE_SIZE;
	}
}

static void ff_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = {.attr_timeout = 86400, .entry_timeout = 86400};
	long d = parent == FUSE_ROOT_ID ? num(name, 'd', 3) : -1;
	long f = parent > FUSE_ROOT_ID && parent < FILE_BASE ? num(name, 'f', 5) : -1;

	if (d >= 0) {
		e.ino = 2 + (fuse_ino_t)d;
	} else if (f >= 0) {
		e.ino = FILE_BASE + (parent - 2) * PER + (fuse_ino_t)f;
	} else {
		fuse_reply_err(req, ENOENT);
		return;
	}
	attr_of(e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void ff_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	attr_of(ino, &st);
	fuse_reply_attr(req, &st, 86400);
}

static void ff_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void ff_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (off >= FILE_SIZE) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	fuse_reply_buf(req, data + off, size < (size_t)(FILE_SIZE - off) ? size : (size_t)(FILE_SIZE - off));
}

static void ff_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void ff_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want &= ~FUSE_CAP_SPLICE_READ;
}

static const struct fuse_lowlevel_ops ops = {
	.init = ff_init,
	.lookup = ff_lookup,
	.getattr = ff_getattr,
	.open = ff_open,
	.read = ff_read,
	.release = ff_ok,
	.opendir = ff_open,
	.releasedir = ff_ok,
};

int main(int argc, char **argv)
{
	char *fargv[] = {argv[0], "-o", "fsname=floorfs,subtype=floorfs,default_permissions", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc = NULL;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: floorfs MOUNTPOINT\n");
		return 2;
	}
	memset(data, 'x', sizeof(data));
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	lc = fuse_loop_cfg_create();
	if (se && lc && fuse_set_signal_handlers(se) == 0 && fuse_session_mount(se, argv[1]) == 0) {
		fuse_loop_cfg_set_max_threads(lc, 64);
		fuse_loop_cfg_set_idle_threads(lc, 8);
		rc = fuse_session_loop_mt(se, lc) == 0 ? 0 : 1;
		fuse_session_unmount(se);
	}
	if (lc) {
		fuse_loop_cfg_destroy(lc);
	}
	if (se) {
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	return rc;
}
