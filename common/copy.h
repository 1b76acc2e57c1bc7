/* copy.h -- copy a regular file's data and xattrs between open descriptors.
 *
 * Used by copy-up (fs/copyup.c) and by migrate (migrate/). No FUSE, no state;
 * safe from any thread.
 */
#ifndef PXE_COPY_H
#define PXE_COPY_H

#include <sys/types.h>

/* copy_data -- copy SIZE bytes of IN to OUT, keeping holes (SEEK_DATA/SEEK_HOLE,
 * copy_file_range with a read/write fallback), then set OUT's size. PROGRESS,
 * when not NULL, is called with the offset reached after each slice; a nonzero
 * return stops the copy with -ECANCELED. Returns 0 or a negative errno. */
typedef int (*copy_progress_fn)(void *arg, off_t pos);
int copy_data(int in, int out, off_t size, copy_progress_fn progress, void *arg);
/* copy_xattrs -- copy every xattr of IN to OUT (real fds, not O_PATH). Tries
 * each one; returns 0 or the first negative errno (none to copy is 0). */
int copy_xattrs(int in, int out);

#endif /* PXE_COPY_H */
