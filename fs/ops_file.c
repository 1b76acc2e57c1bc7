/* ops_file.c -- I/O on open files: read, write, fsync, fallocate, lseek.
 *
 * Every handler takes its handle through fh_get (handle.c), which answers EIO
 * once the drive the file was opened on is offline. Data moves straight
 * between the kernel and the drive's fd for writes (FUSE_BUF_IS_FD, splice
 * where offered); a read is copied through its thread's own buffer (rbuf_get).
 * Opening, creating and releasing a file: handle.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fs_int.h"

/* ---- each worker thread's read buffer ---------------------------------------------------------
 * A daemon-served read (no kernel passthrough) is copied from the drive's fd into the thread's
 * own buffer and replied from there. libfuse's fuse_reply_data would splice where its pipe can
 * hold the reply, which needs a pipe past pipe-max-size (1 MiB) for a 1 MiB read and so
 * CAP_SYS_RESOURCE; else it copies through a buffer it posix_memaligns and frees per read, and
 * glibc's heaps keep the fragments: 54-110 MiB resident after one 700 MiB read with 7-9
 * threads, growing with the threads (18 MiB before the read). One mapping per thread, made at
 * its first read, grown to the largest read and unmapped when the thread ends, keeps it at
 * 1 MiB per thread that reads. */
static pthread_key_t rbuf_key;
static pthread_once_t rbuf_once = PTHREAD_ONCE_INIT;
static bool rbuf_ok;

struct rbuf {
	char *mem;
	size_t cap;
};

static void rbuf_free(void *p)
{
	struct rbuf *b = p;

	munmap(b->mem, b->cap);
	free(b);
}

static void rbuf_init(void)
{
	rbuf_ok = pthread_key_create(&rbuf_key, rbuf_free) == 0;
}

/* The calling thread's buffer of at least SIZE bytes; NULL when none can be had. */
static char *rbuf_get(size_t size)
{
	size_t cap = (size + 65535) & ~(size_t)65535;
	struct rbuf *b = NULL;
	char *mem = NULL;

	pthread_once(&rbuf_once, rbuf_init);
	if (!rbuf_ok) {
		return NULL;
	}
	b = pthread_getspecific(rbuf_key);
	if (b && b->cap >= size) {
		return b->mem;
	}
	mem = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		return NULL;
	}
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || pthread_setspecific(rbuf_key, b) != 0) {
			free(b);
			munmap(mem, cap);
			return NULL;
		}
	} else {
		munmap(b->mem, b->cap);
	}
	b->mem = mem;
	b->cap = cap;
	return mem;
}

/* Up to SIZE bytes of FD at OFF into MEM (fewer only at the end of the file); -errno. */
static ssize_t read_full(int fd, char *mem, size_t size, off_t off)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = pread(fd, mem + got, size - got, off + (off_t)got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return got ? (ssize_t)got : -errno;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	struct fs *fs = fs_of(req);
	struct fh *fh = NULL;
	int rc = fh_get(fs, fi, &fh);
	char *mem = rc < 0 ? NULL : rbuf_get(size);
	ssize_t n = 0;

	(void)ino;
	int fd = rc < 0 ? rc : fh_fd(fs_of(req), fh);
	if (fd < 0) {
		ops_reply_err(req, -fd);
		return;
	}
	atomic_fetch_add(&fs->n_reads, 1);
	atomic_fetch_add(&fs->n_bytes_read, size); /* requested: the last read may get less */
	if (!mem) { /* no buffer of our own: libfuse's copy */
		buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		buf.buf[0].fd = fd;
		buf.buf[0].pos = off;
		rc = fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
	} else if ((n = read_full(fd, mem, size, off)) < 0) {
		ops_reply_err(req, (int)-n); /* counts it */
	} else {
		rc = fuse_reply_buf(req, mem, (size_t)n);
	}
	if (rc != 0) {
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
	n = n < 0 ? n : fh_fd(fs_of(req), fh);
	if (n >= 0) {
		out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		out.buf[0].fd = (int)n;
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
	int fd = rc < 0 ? rc : fh_fd(fs_of(req), fh);
	if (fd >= 0) {
		rc = (datasync ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : -errno;
	} else {
		rc = fd;
	}
	ops_reply_err(req, -rc);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
	struct fh *fh = NULL;
	int rc = fh_get(fs_of(req), fi, &fh);

	(void)ino;
	int fd = rc < 0 ? rc : fh_fd(fs_of(req), fh);
	if (fd >= 0) {
		rc = fallocate(fd, mode, off, len) == 0 ? 0 : -errno;
	} else {
		rc = fd;
	}
	ops_reply_err(req, -rc);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                     struct fuse_file_info *fi)
{
	struct fh *fh = NULL;
	off_t res = fh_get(fs_of(req), fi, &fh);

	(void)ino;
	res = res < 0 ? res : fh_fd(fs_of(req), fh);
	if (res >= 0) {
		res = lseek((int)res, off, whence);
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
