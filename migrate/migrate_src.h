/* migrate_src.h -- the source side of a migration, as an abstraction: a drive (fds beneath
 * its images folder, migrate_src.c) or an SMB share (libsmbclient, migrate_smb.c).
 *
 * Not a public header. The plan's walk and the copy of a file go through these operations;
 * what only a drive has (symlinks, nodes, xattrs, --move) stays fd-based in the callers,
 * on a folder whose fd is >= 0. One thread uses a source at a time.
 */
#ifndef PXE_MIGRATE_SRC_H
#define PXE_MIGRATE_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define MIGRATE_SHA_LEN 32

/* A folder of a source: on a drive an fd (O_PATH or O_RDONLY) beneath its images folder,
 * rel NULL; on a share fd -1 and rel, its path below the images folder ("" for it).
 * CACHE: the source's own (a share keeps the folder's listing there). Owned by whoever
 * filled it: msrc_dir_fini. */
struct msrc_dir {
	int fd;
	char *rel;
	void *cache;
};

/* An open regular file of a source: fd >= 0 on a drive, else H (the share's). ST: as
 * opened. POS: the bytes read so far (reads are sequential). */
struct msrc_file {
	int fd;
	void *h;
	struct stat st;
	uint64_t pos;
};

typedef int (*msrc_add_fn)(void *arg, const char *name);

/* Every call returns 0 (or a count) or a negative errno. */
struct msrc_ops {
	/* every name in D but "." and "..", each given to ADD */
	int (*list)(void *ctx, struct msrc_dir *d, msrc_add_fn add, void *arg);
	/* the entry NAME in D, not followed; NAME NULL: D itself */
	int (*lstat)(void *ctx, struct msrc_dir *d, const char *name, struct stat *st);
	/* the subfolder NAME of D into *OUT (msrc_dir_fini) */
	int (*opendir)(void *ctx, const struct msrc_dir *d, const char *name, struct msrc_dir *out);
	/* the regular file NAME of D, opened for reading, with its stat */
	int (*open)(void *ctx, const struct msrc_dir *d, const char *name, struct msrc_file *f);
	/* up to N bytes at f->pos (advanced): the count, 0 at the end, or -errno */
	ssize_t (*read)(void *ctx, struct msrc_file *f, void *buf, size_t n);
	void (*close)(void *ctx, struct msrc_file *f);
	/* the cache of a folder, freed */
	void (*cache_free)(void *ctx, void *cache);
	/* a note on the last failure, e.g. "gave up after 4 retries in 12 s", or NULL */
	const char *(*why)(void *ctx);
	/* the DOS attributes (SMB_DOS_*) and creation time ({0, 0}: not known) of the entry
	 * NAME in D (NULL: D itself); -ENODATA when the source has none (a drive) */
	int (*dos)(void *ctx, struct msrc_dir *d, const char *name, uint32_t *attrs,
	           struct timespec *btime);
	/* the next read of F starts at POS (a copy continued); 0 or -errno */
	int (*seek)(void *ctx, struct msrc_file *f, uint64_t pos);
};

/* The drive source: folders and files through openat-family calls, never following a
 * symlink; CTX unused. */
extern const struct msrc_ops msrc_local_ops;

/* One source as the plan holds it: its operations and their context (borrowed). */
struct msrc {
	const struct msrc_ops *ops;
	void *ctx;
};

/* msrc_dir_fini -- close D's fd, free its path and cache; D is left empty (fd -1). */
void msrc_dir_fini(const struct msrc *s, struct msrc_dir *d);

/* msrc_hash_pair -- the SHA-256 of the whole of the source file F (read from its start;
 * F must be just opened) into SA and of the target's regular file T into ST_. TICK (may be
 * NULL) counts over both; its stopping gives -ECANCELED. 0 or -errno. */
typedef int (*msrc_tick_fn)(void *arg, uint64_t done, uint64_t total);
int msrc_hash_pair(const struct msrc *s, struct msrc_file *f, int t,
                   unsigned char sa[MIGRATE_SHA_LEN], unsigned char st_[MIGRATE_SHA_LEN],
                   msrc_tick_fn tick, void *arg);

/* msrc_same_file -- 1 when the source's NAME in D and the target's regular file T have the
 * same SHA-256, 0 when not (or of other sizes: nothing read), or -errno. */
int msrc_same_file(const struct msrc *s, const struct msrc_dir *d, const char *name, int t,
                   msrc_tick_fn tick, void *arg);

#endif /* PXE_MIGRATE_SRC_H */
