/* walk.h -- open a path beneath a drive's images folder without leaving it.
 *
 * Used by the FUSE filesystem (fs/) and by migrate (migrate/). No FUSE here.
 */
#ifndef PXE_WALK_H
#define PXE_WALK_H

#include <limits.h>
#include <stddef.h>

/* The longest path below the images folder the daemon serves. A client deep
 * in the tree uses short relative paths, so the tree may go far below
 * PATH_MAX: walk.c resolves a longer path in pieces shorter than PATH_MAX
 * (what openat2 takes), each beneath the folder the one before reached. */
#define REL_MAX (16 * PATH_MAX)

/* walk.c -- paths beneath a drive's images folder; never follows a symlink
 * or ".." out of it. REL is '/'-separated and relative ("" = the folder). */
int walk_open(int imgfd, const char *rel, char *spelt, size_t spelt_len);
int walk_find(int dirfd, const char *name, char *found, size_t found_len);
int walk_reopen(int pathfd, int flags);
int walk_parent(int imgfd, const char *rel, char *leaf, size_t leaf_len);

#endif /* PXE_WALK_H */
