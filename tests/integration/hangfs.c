/* hangfs.c -- a tiny FUSE filesystem that can hang or fail on demand: a drive for
 * tests/integration/drive_health.sh.
 *
 *   hangfs MOUNTPOINT CONTROL_FILE
 *
 * Serves a fixed read-only tree RemoteInstall/SMSImages/SMSPKG/PKGH0001/hang.txt. Before
 * answering any request it reads CONTROL_FILE (outside the mount): "hang" makes every request
 * wait until the file says something else (a hung network filesystem: nothing answers),
 * "eio" answers every request with EIO, anything else serves normally. Nothing is cached by
 * the kernel (timeouts 0), so every access reaches it. Runs in the foreground, multi-threaded,
 * until unmounted or signalled. Not part of the product.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *control;

/* inode numbers: 1 is the root; each entry's parent and name */
static const struct {
	fuse_ino_t parent;
	const char *name;
	bool dir;
} tree[] = {
    {0, "", true},       {1, "RemoteInstall", true}, {2, "SMSImages", true},
    {3, "SMSPKG", true}, {4, "PKGH0001", true},      {5, "hang.txt", false},
};
#define N_TREE (sizeof(tree) / sizeof(tree[0]))
static const char content[] = "served by hangfs\n";

/* 0: serve; else the errno to answer. Waits while the control file says "hang". */
static int gate(void)
{
	for (;;) {
		char buf[16] = "";
		int fd = open(control, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;

		if (fd >= 0) {
			close(fd);
		}
		buf[n > 0 ? n : 0] = '\0';
		if (strncmp(buf, "hang", 4) != 0) {
			return strncmp(buf, "eio", 3) == 0 ? EIO : 0;
		}
		usleep(50000);
	}
}

static bool valid(fuse_ino_t ino)
{
	return ino >= 1 && ino <= N_TREE;
}

static void fill(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = tree[ino - 1].dir ? S_IFDIR | 0755 : S_IFREG | 0644;
	st->st_nlink = tree[ino - 1].dir ? 2 : 1;
	st->st_size = tree[ino - 1].dir ? 0 : (off_t)strlen(content);
}

static void hf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = {0};
	int err = gate();

	for (fuse_ino_t i = 2; !err && i <= N_TREE; i++) {
		if (tree[i - 1].parent == parent && strcmp(tree[i - 1].name, name) == 0) {
			e.ino = i;
			fill(i, &e.attr);
			fuse_reply_entry(req, &e);
			return;
		}
	}
	fuse_reply_err(req, err ? err : ENOENT);
}

static void hf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int err = gate();

	(void)fi;
	if (err || !valid(ino)) {
		fuse_reply_err(req, err ? err : ENOENT);
		return;
	}
	fill(ino, &st);
	fuse_reply_attr(req, &st, 0);
}

static void hf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	char buf[4096];
	size_t used = 0;
	int err = gate();

	(void)fi;
	if (err || !valid(ino)) {
		fuse_reply_err(req, err ? err : ENOENT);
		return;
	}
	for (fuse_ino_t i = 2; i <= N_TREE; i++) {
		struct stat st;
		if (tree[i - 1].parent != ino || (off_t)i <= off) {
			continue;
		}
		fill(i, &st);
		size_t n = fuse_add_direntry(req, buf + used, sizeof(buf) - used, tree[i - 1].name,
		                             &st, (off_t)i);
		if (used + n > size || used + n > sizeof(buf)) {
			break;
		}
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void hf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int err = gate();

	if (!err && (fi->flags & O_ACCMODE) != O_RDONLY) {
		err = EROFS;
	}
	if (err || !valid(ino)) {
		fuse_reply_err(req, err ? err : ENOENT);
		return;
	}
	fuse_reply_open(req, fi);
}

static void hf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	size_t len = strlen(content);
	int err = gate();

	(void)ino;
	(void)fi;
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if ((size_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	fuse_reply_buf(req, content + off, len - (size_t)off < size ? len - (size_t)off : size);
}

static void hf_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = {.f_bsize = 4096, .f_frsize = 4096, .f_blocks = 1024, .f_namemax = 255};
	int err = gate();

	(void)ino;
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fuse_reply_statfs(req, &sv);
}

static void hf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int err = gate();

	if (err || !valid(ino)) {
		fuse_reply_err(req, err ? err : ENOENT);
		return;
	}
	fuse_reply_open(req, fi);
}

int main(int argc, char **argv)
{
	struct fuse_lowlevel_ops ops = {.lookup = hf_lookup,
	                                .getattr = hf_getattr,
	                                .readdir = hf_readdir,
	                                .open = hf_open,
	                                .read = hf_read,
	                                .statfs = hf_statfs,
	                                .opendir = hf_opendir};
	char *fargv[] = {argv[0], "-o", "fsname=hangfs,subtype=hangfs", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc = NULL;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: hangfs MOUNTPOINT CONTROL_FILE\n");
		return 2;
	}
	control = argv[2];
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se || fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, argv[1]) != 0) {
		fprintf(stderr, "hangfs: cannot mount at %s\n", argv[1]);
		return 1;
	}
	lc = fuse_loop_cfg_create();
	if (lc) {
		fuse_loop_cfg_set_max_threads(lc, 32);
		rc = fuse_session_loop_mt(se, lc) < 0 ? 1 : 0;
		fuse_loop_cfg_destroy(lc);
	}
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return rc;
}
