/* sys_file.c -- what system.c and system_check.c both use: reading and atomically writing
 * the smb.conf tree's files, the list of files read, and the failure reason of a run.
 *
 * It plans and checks nothing (system.c, system_check.c do); both call it, it calls neither.
 * Not thread-safe: one struct sys_export is one run, on one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "sys_int.h"

/* ---- files ----------------------------------------------------------------------------------- */

/* sys_file_read -- the whole of PATH, malloc'd: a regular file only (opened with
 * O_NONBLOCK, so a FIFO cannot block us), at most SYS_FILE_MAX bytes, with no NUL byte.
 * Returns 0 or a negative errno: -EINVAL not a regular file, -EFBIG too large, -EILSEQ
 * not text (a NUL byte: binary, or UTF-16). */
int sys_file_read(const char *path, char **out)
{
	struct sbuf b = {0};
	struct stat st;
	char chunk[8192];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	int rc = 0;

	*out = NULL;
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if (st.st_size > SYS_FILE_MAX) {
		rc = -EFBIG;
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			goto out;
		}
		if (n > 0 && (b.len + (size_t)n > SYS_FILE_MAX)) {
			rc = -EFBIG;
			goto out;
		}
		if (n > 0 && memchr(chunk, '\0', (size_t)n)) {
			rc = -EILSEQ;
			goto out;
		}
		sb_add(&b, chunk, n > 0 ? (size_t)n : 0);
	}
	*out = sb_take(&b);
	rc = *out ? 0 : -ENOMEM;
out:
	free(b.s);
	close(fd);
	return rc;
}

/* sys_read_why -- RC of sys_file_read in words. */
const char *sys_read_why(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "it is not a regular file (a FIFO, device or socket)";
	case -EFBIG:
		return "it is larger than " SYS_FILE_MAX_TEXT ", too large for an smb.conf";
	case -EILSEQ:
		return "it is not a text file (a NUL byte: binary data, or UTF-16 text; smbd reads "
		       "UTF-8): convert it to UTF-8 text";
	default:
		return strerror(-rc);
	}
}

void sys_dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path) {
		samba_copy_out(out, len, "/", "/" + 1);
	} else {
		samba_copy_out(out, len, path, slash);
	}
}

/* sys_file_write -- replace PATH by TEXT atomically (a temporary file in its
 * folder, fsync, rename), with the mode and owner of LIKE (NULL: 0644). EXCL:
 * create PATH, failing when it exists. Returns 0 or a negative errno. */
int sys_file_write(const char *path, const char *text, const struct stat *like, bool excl)
{
	struct fileio_opts o = {.mode = like ? like->st_mode & 07777 : 0644,
	                        .owner = like,
	                        .unique_tmp = true,
	                        .excl = excl};

	return fileio_replace(path, text, strlen(text), &o);
}

/* ---- one run: its failure reason and the files it read ----------------------------------- */

int sys_fail(struct sys_export *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	return -1;
}

void sys_real_path(const char *path, char *out, size_t len)
{
	char *r = realpath(path, NULL);

	samba_copy_out(out, len, r ? r : path, (r ? r : path) + strlen(r ? r : path));
	free(r);
}

int sys_push_file(struct sys_export *x, const char *path, const char *real, char *text)
{
	struct sys_file *nv = realloc(x->files, (x->n_files + 1) * sizeof(*nv));
	struct sys_file f = {strdup(path), strdup(real), text};

	if (nv) {
		x->files = nv;
	}
	if (!nv || !f.path || !f.real) {
		free(f.path);
		free(f.real);
		free(text);
		return sys_fail(x, "out of memory");
	}
	x->files[x->n_files++] = f;
	return 0;
}
