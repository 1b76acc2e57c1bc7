/* nodetab.h -- the node table's data structure, for node.c only.
 *
 * Every function here expects the caller to hold fs->lock and takes no lock
 * itself: node.c is the one file that takes fs->lock, and the only caller.
 * Nothing here reaches a drive or the kernel (the inode map's log append in
 * the state directory aside: inomap.c).
 */
#ifndef PXE_NODETAB_H
#define PXE_NODETAB_H

#include "fs_int.h"

/* The name and inode hash tables: in and out (a node out of the name table is
 * detached or gone: a new lookup makes a new node). A replaced node (its name
 * names another file now) stays in the inode table while it is open, so that
 * no new node takes its st_ino: nt_replaced marks it and takes it out of the
 * name table, nt_ino_settle takes it out of the inode table once it is no
 * longer named or open (node_closed). */
void nt_hash_in(struct fs *fs, struct node *n);
void nt_hash_out(struct fs *fs, struct node *n);
void nt_replaced(struct fs *fs, struct node *n);
void nt_ino_settle(struct fs *fs, struct node *n);
/* The length of N's path below the images folder, and that path into OUT
 * (LEN bytes and a NUL; it has the room). */
size_t nt_rel_len(struct fs *fs, struct node *n);
void nt_rel_fill(struct fs *fs, struct node *n, char *out, size_t len);
/* nt_find: PARENT's child named exactly NAME (FOLD its names_fold_hash);
 * nt_find_name: that, else the node with the alias (PARENT, NAME), else one
 * spelt differently (case only); nt_variant: PARENT has a child spelt like
 * NAME but for case; nt_find_rel: the node of folder REL (below the images
 * folder), or NULL when the kernel does not know it. */
struct node *nt_find(struct fs *fs, struct node *parent, const char *name, uint64_t fold);
struct node *nt_find_name(struct fs *fs, struct node *parent, const char *name);
bool nt_variant(struct fs *fs, struct node *parent, const char *name);
struct node *nt_find_rel(struct fs *fs, const char *rel);
/* Aliases (hard links made through the view): the link to alias (PARENT, NAME)
 * and its owner, the owner alone, dropping one, N taking its first alias as its
 * name (its own was unlinked). */
struct alias **nt_find_alias(struct fs *fs, struct node *parent, const char *name,
                             struct node **owner);
struct node *nt_alias_owner(struct fs *fs, struct node *parent, const char *name);
void nt_drop_alias(struct fs *fs, struct alias **link);
void nt_take_alias(struct fs *fs, struct node *n);
/* Inode numbers: the state (PARENT, NAME) has (N's when N is its node), and
 * recording one after a rename (fs->inomap). */
uint64_t nt_state_of(struct fs *fs, struct node *parent, const char *name, struct node *n);
/* N's number from its drive file (DNUM: fileid_of, 0: its path number again): node_number. */
bool nt_number(struct fs *fs, struct node *n, uint64_t dnum);
/* N (on an 'inode numbers = drive' drive) is (PARENT, NAME) now: its state (its children's
 * path numbers derive from it) is the one that path gives, as on every other host. */
void nt_moved_by_drive(struct fs *fs, struct node *n, struct node *parent, const char *name);
void nt_keep_state(struct fs *fs, struct node *parent, const char *name, uint64_t state);
/* A new node (PARENT, NAME) with its number, hashed; freeing N and its
 * parents while nothing holds them; pins (a notification naming N is being
 * sent: node_unpin ends it). */
int nt_node_new(struct fs *fs, struct node *parent, const char *name, struct node **out);
void nt_maybe_free(struct fs *fs, struct node *n);
void nt_pin(struct node *n);
/* The kernel knows N as a folder (an entry may be invalidated below it). */
bool nt_known_dir(struct fs *fs, struct node *n);
/* Free a folder's index of names (dirwatch.c's long caching). */
void nt_index_free(struct node *n);
/* Every hashed node, pinned, into V (at most CAP): nodes_invalidate_*. */
size_t nt_collect(struct fs *fs, struct inval *v, size_t cap, bool detach);
/* Open handles: is backing file ST the one the kernel's page cache of N was
 * last known to hold, unchanged (same file, size, mtime and ctime)? May the kernel keep
 * N's page cache for ST (and remember ST)? Are N's handles on another drive file
 * than ST? */
bool nt_cache_valid(const struct node *n, const struct stat *st);
bool nt_keep_cache(struct node *n, const struct stat *st);
bool nt_elsewhere(const struct node *n, const struct stat *st);

#endif /* PXE_NODETAB_H */
