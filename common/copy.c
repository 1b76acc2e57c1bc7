/* copy.c -- copy a regular file's data (keeping holes) and its xattrs.
 *
 * Moved out of fs/copyup.c so copy-up and migrate share one copier. Stateless;
 * safe from any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copy.h"

#define COPY_CHUNK (1024 * 1024)
#define COPY_SLICE (8 * 1024 * 1024) /* between progress calls */

/* copy_data -- copy the data of IN to OUT, keeping holes (see copy.h). */
int copy_data(int in, int out, off_t size, copy_progress_fn progress, void *arg)
{
	char *buf = NULL;
	off_t pos = 0;
	int rc = 0;

	while (pos < size && rc == 0) {
		off_t data = lseek(in, pos, SEEK_DATA);
		off_t hole = data < 0 ? size : lseek(in, data, SEEK_HOLE);
		if (data < 0) {
			break; /* only a hole is left */
		}
		hole = hole < 0 ? size : hole;
		for (off_t p = data; p < hole && rc == 0;) {
			size_t want = (size_t)(hole - p);
			ssize_t n = 0;
			if (progress && want > COPY_SLICE) {
				want = COPY_SLICE;
			}
			n = copy_file_range(in, &p, out, &(off_t){p}, want, 0);
			if (n > 0) {
				rc = progress && progress(arg, p) ? -ECANCELED : 0;
				continue;
			}
			if (n == 0) {
				break;
			}
			if (!buf && !(buf = malloc(COPY_CHUNK))) {
				rc = -ENOMEM;
				break;
			}
			n = pread(in, buf, (size_t)(hole - p < COPY_CHUNK ? hole - p : COPY_CHUNK),
			          p);
			if (n <= 0 || pwrite(out, buf, (size_t)n, p) != n) {
				rc = n == 0 ? -EIO : -errno;
				break;
			}
			p += n;
			rc = progress && progress(arg, p) ? -ECANCELED : 0;
		}
		pos = hole;
	}
	free(buf);
	return rc == 0 && ftruncate(out, size) < 0 ? -errno : rc;
}

/* copy_xattrs -- copy every xattr of IN to OUT (see copy.h). */
int copy_xattrs(int in, int out)
{
	char list[64 * 1024];
	char *val = NULL;
	ssize_t len = flistxattr(in, list, sizeof(list));
	int rc = len < 0 && errno != ENOTSUP ? -errno : 0;

	for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(list + off) + 1) {
		ssize_t vlen = fgetxattr(in, list + off, NULL, 0);
		int err = vlen < 0 ? (errno == ENODATA ? 0 : -errno) : -ENOMEM; /* ENODATA: gone */
		char *nv = vlen >= 0 ? realloc(val, (size_t)vlen + 1) : NULL;
		if (!nv) {
			rc = rc < 0 ? rc : err;
			continue;
		}
		val = nv;
		vlen = fgetxattr(in, list + off, val, (size_t)vlen);
		if (vlen >= 0 && fsetxattr(out, list + off, val, (size_t)vlen, 0) < 0) {
			rc = rc < 0 ? rc : -errno;
		}
	}
	free(val);
	return rc;
}
