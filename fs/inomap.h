/* inomap.h -- the inode numbers renamed entries keep: (parent's state, name) -> state.
 *
 * States are names_ino_child() hashes (names.h); a state's number is
 * names_ino_of(state). The map is persistent (a log in the state directory)
 * when it could be opened and locked, else it lives in memory only. No lock
 * of its own: the caller serialises every call. NULL is an empty map.
 */
#ifndef PXE_INOMAP_H
#define PXE_INOMAP_H

#include <stdbool.h>
#include <stdint.h>

struct inomap;

/* inomap_new -- an empty map in memory; NULL only when out of memory.
 * inomap_open -- once, on an empty map: load and from then on keep it in
 * state directory DIR (made if missing) for the mount at MOUNTPOINT (both
 * borrowed; NULL: stay in memory). A map file that cannot be read, locked or
 * written is logged and the map stays in memory. */
struct inomap *inomap_new(void);
void inomap_open(struct inomap *m, const char *dir, const char *mountpoint);
void inomap_free(struct inomap *m); /* NULL is a no-op */

/* inomap_get -- the state recorded for NAME in the folder of state PARENT. */
bool inomap_get(struct inomap *m, uint64_t parent, const char *name, uint64_t *state);
/* inomap_taken -- some entry's recorded state has number INO. */
bool inomap_taken(struct inomap *m, uint64_t ino);
/* inomap_set, inomap_del -- record or forget the state of (PARENT, NAME). */
void inomap_set(struct inomap *m, uint64_t parent, const char *name, uint64_t state);
void inomap_del(struct inomap *m, uint64_t parent, const char *name);

#endif /* PXE_INOMAP_H */
