/* ops_file.c -- I/O on open files: read, write, fsync, fallocate, lseek.
 *
 * Every handler takes its handle through fh_get (handle.c), which answers EIO
 * once the drive the file was opened on is offline. Data moves straight
 * between the kernel and the drive's fd (FUSE_BUF_IS_FD, splice where
 * offered). Opening, creating and releasing a file: handle.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

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
	ops->read = op_read;
	ops->write_buf = op_write_buf;
	ops->fsync = op_fsync;
	ops->fallocate = op_fallocate;
	ops->lseek = op_lseek;
}
