/* floorfs.c -- the cost of the FUSE round trip itself, for bench/floor.sh: a low-level FUSE
 * filesystem that does no I/O at all. It answers from its own arithmetic, as fast as any
 * daemon can: folders d000 to dDDD in its root, files f00000 to fPPPPP of 4 KiB in each (the
 * names of bench/bhelper.c's mktree, which openread asks for and walk lists; DIRS and PER
 * folders and files, default 50 and 200, as case 4's tree), every other name missing
 * (kept by the kernel for a day, as the view's watched folders let it keep a miss). Listings
 * are READDIRPLUS (as the view's: the attributes with the names, so a walk's stats need no
 * LOOKUP) when the kernel offers it, and kept by the kernel (as the view's watched folders'
 * listings are). Opens,
 * reads (from one static buffer, page cache kept) and releases are answered as a daemon that
 * serves files must; no FLUSH (ENOSYS once, as pxeimagesfs). The worker threads are set up as
 * pxeimagesfs sets up its own (fs/fs.c: at most 64, 8 idle, requests read without splicing).
 * Entries and attributes are cached for a day. POSIX ACLs are checked by the kernel, as it
 * checks the view's (none here: each is a GETXATTR answered ENODATA; the kernel keeps the
 * answer, but for the root's, which it asks again at each path walk by a user other than the
 * owner, here as for the view).
 *
 * With BIGMIB, its root also holds "big" and "storm", two files of BIGMIB MiB each (cases 1
 * and 3, the floor under a daemon-served read: the reply is copied from one static buffer,
 * as a daemon that holds the data in memory would; the view copies it from the drive first).
 * Reads and read-ahead are set up as pxeimagesfs sets them up (fs/fs.c: 1 MiB requests, 64
 * in the background, the mount's read-ahead raised to 1 MiB, which floor.sh does).
 *
 *   floorfs MOUNTPOINT [DIRS PER [BIGMIB]]     (foreground; until unmounted or signalled)
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
#define MAX_DIRS  1000
#define MAX_PER   100000
#define FILE_BASE 10000 /* inode of d000/f00000 */
#define BIG_INO   (2 + MAX_DIRS) /* "big"; "storm" is BIG_INO + 1 */
#define MAX_IO    (1024 * 1024)
#define MAX_BIG   65536

static char data[MAX_IO];
static long dirs = 50;
static long per = 200;
static long bigmib;

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
	if (ino == BIG_INO || ino == BIG_INO + 1) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = (off_t)bigmib << 20;
	} else if (ino < FILE_BASE) {
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

	if (d >= 0 && d < dirs) {
		e.ino = 2 + (fuse_ino_t)d;
	} else if (bigmib && parent == FUSE_ROOT_ID && (!strcmp(name, "big") || !strcmp(name, "storm"))) {
		e.ino = BIG_INO + (name[0] == 's');
	} else if (f >= 0 && f < per) {
		e.ino = FILE_BASE + (parent - 2) * MAX_PER + (fuse_ino_t)f;
	} else { /* a negative entry: ino 0 */
		fuse_reply_entry(req, &e);
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

static void ff_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void ff_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	off_t end = ino >= FILE_BASE ? FILE_SIZE : (off_t)bigmib << 20;

	(void)fi;
	if (off >= end) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > MAX_IO) {
		size = MAX_IO;
	}
	fuse_reply_buf(req, data, size < (size_t)(end - off) ? size : (size_t)(end - off));
}

static void ff_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* A listing of folder INO from entry OFF on (".", "..", then the names), as many as fit in
 * SIZE bytes; with PLUS each entry carries its attributes (READDIRPLUS). */
static void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	char *buf = malloc(size);
	long n = ino == FUSE_ROOT_ID ? dirs : per;
	size_t used = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (long i = off; i < n + 2; i++) {
		struct fuse_entry_param e = {.attr_timeout = 86400, .entry_timeout = 86400};
		char name[32];
		size_t len;

		if (i < 2) {
			snprintf(name, sizeof(name), "%s", i == 0 ? "." : "..");
			e.ino = i == 0 ? ino : FUSE_ROOT_ID;
		} else if (ino == FUSE_ROOT_ID) {
			snprintf(name, sizeof(name), "d%03ld", i - 2);
			e.ino = 2 + (fuse_ino_t)(i - 2);
		} else {
			snprintf(name, sizeof(name), "f%05ld", i - 2);
			e.ino = FILE_BASE + (ino - 2) * MAX_PER + (fuse_ino_t)(i - 2);
		}
		attr_of(e.ino, &e.attr);
		if (i < 2) {
			e.ino = 0; /* "." and "..": no entry for the kernel to keep (as the view) */
		}
		len = plus ? fuse_add_direntry_plus(req, buf + used, size - used, name, &e, i + 1)
		           : fuse_add_direntry(req, buf + used, size - used, name, &e.attr, i + 1);
		if (len > size - used) {
			break;
		}
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void ff_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	(void)fi;
	list(req, ino, size, off, 0);
}

static void ff_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
	(void)fi;
	list(req, ino, size, off, 1);
}

/* No extended attributes anywhere, answered by the daemon each time (as a filesystem that
 * stores them must: Samba asks for user.DOSATTRIB and POSIX ACLs of every file it lists or opens) */
static void ff_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	fuse_reply_err(req, ENODATA);
}

static void ff_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	if (size == 0) {
		fuse_reply_xattr(req, 0);
	} else {
		fuse_reply_buf(req, NULL, 0);
	}
}

static void ff_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want &= ~FUSE_CAP_SPLICE_READ;
	/* the kernel checks POSIX ACLs as for the view (fs.c: it must enforce the drives'): a user
	 * other than the owner costs GETXATTRs of system.posix_acl_access, answered ENODATA here */
	if (conn->capable & FUSE_CAP_POSIX_ACL) {
		conn->want |= FUSE_CAP_POSIX_ACL;
	}
	if (conn->capable & FUSE_CAP_READDIRPLUS) {
		conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
	}
	conn->max_write = MAX_IO;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	conn->max_readahead = conn->max_readahead > MAX_IO ? conn->max_readahead : MAX_IO;
}

static const struct fuse_lowlevel_ops ops = {
	.init = ff_init,
	.lookup = ff_lookup,
	.getattr = ff_getattr,
	.open = ff_open,
	.read = ff_read,
	.release = ff_ok,
	.opendir = ff_opendir,
	.readdir = ff_readdir,
	.readdirplus = ff_readdirplus,
	.releasedir = ff_ok,
	.getxattr = ff_getxattr,
	.listxattr = ff_listxattr,
};

int main(int argc, char **argv)
{
	char *fargv[] = {argv[0], "-o", "fsname=floorfs,subtype=floorfs,default_permissions,allow_other", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc = NULL;
	int rc = 1;

	if (argc >= 4) {
		dirs = strtol(argv[2], NULL, 10);
		per = strtol(argv[3], NULL, 10);
	}
	if (argc == 5) {
		bigmib = strtol(argv[4], NULL, 10);
	}
	if (argc < 2 || argc == 3 || argc > 5 || dirs < 1 || dirs > MAX_DIRS || per < 1 ||
	    per > MAX_PER || bigmib < 0 || bigmib > MAX_BIG) {
		fprintf(stderr, "usage: floorfs MOUNTPOINT [DIRS PER [BIGMIB]] (at most %d, %d and %d)\n",
		        MAX_DIRS, MAX_PER, MAX_BIG);
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
