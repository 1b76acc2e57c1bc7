/* walk.h -- open a path beneath a drive's images folder without leaving it.
 *
 * Used by the FUSE filesystem (fs/) and by migrate (migrate/). No FUSE here.
 */
#ifndef PXE_WALK_H
#define PXE_WALK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* walk.c -- paths beneath a drive's images folder; never follows a symlink
 * or ".." out of it. REL is '/'-separated and relative ("" = the folder), of
 * any length: a client deep in the tree uses short relative paths, so the
 * tree may go far below PATH_MAX; a path that long is resolved in pieces
 * shorter than PATH_MAX (what openat2 takes), each beneath the folder the one
 * before reached. */
int walk_open(int imgfd, const char *rel, char *spelt, size_t spelt_len);
/* walk_open_alloc -- walk_open with the on-disk spelling of any length: in
 * SMALL (SMALL_LEN bytes) when it fits, else in memory allocated for it;
 * *SPELT is the one used (the caller frees it when it is not SMALL), NULL on
 * error. -ENOMEM when that allocation fails. */
int walk_open_alloc(int imgfd, const char *rel, char *small, size_t small_len, char **spelt);
/* walk_open_as, walk_open_alloc_as -- the same, but REL spelt exactly (and
 * shorter than PATH_MAX) is opened with FLAGS instead of O_PATH (no second
 * open through /proc: issue 18): *REAL says so; else (another spelling, or
 * the open with FLAGS failed otherwise than ENOENT) the fd is O_PATH, as
 * walk_open's. FLAGS must not create or truncate: the object found may be on
 * a drive that is not to be written. */
int walk_open_as(int imgfd, const char *rel, int flags, bool *real, char *spelt, size_t spelt_len);
int walk_open_alloc_as(int imgfd, const char *rel, int flags, bool *real, char *small,
                       size_t small_len, char **spelt);
int walk_find(int dirfd, const char *name, char *found, size_t found_len);
int walk_reopen(int pathfd, int flags);
int walk_parent(int imgfd, const char *rel, char *leaf, size_t leaf_len);

#endif /* PXE_WALK_H */
