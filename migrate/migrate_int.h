/* migrate_int.h -- internals shared by the files of migrate/ (the plan and its walk,
 * SHA-256, temporary names); those of the run alone are in migrate_run_int.h.
 *
 * Not a public header. Every descriptor here is opened beneath a drive's mount
 * root or images folder and owned by the plan; one thread uses a plan at a time.
 */
#ifndef PXE_MIGRATE_INT_H
#define PXE_MIGRATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "copy.h"
#include "fileio.h"
#include "migrate.h"
#include "migrate_src.h"
#include "names.h"
#include "walk.h"

/* A replaced target copy, without a backup, between its move aside and its removal */
#define MIGRATE_OLD_PREFIX ".pxeimagesfs-tmp.migrate-old."
/* The record on a share file's partial copy: how far it got (migrate_copy.c) */
#define MIGRATE_PARTIAL_XATTR "user.pxeimagesfs.partial"
#define MIGRATE_PARTIAL_MAX   200 /* bytes of a record */

struct migrate_priv {
	int tgt_mnt;     /* O_RDONLY fd of the target's mount root; flocked unless dry-run */
	int tgt_lock;    /* the target's MIGRATE_LOCK_FILE, flocked (-1 for a dry run) */
	int tgt_img;     /* O_PATH fd of the target's images folder, or -1 while it has none */
	char *tgt_mount; /* the target's mount path (owned) */
	int *src_mnt;    /* per source: O_PATH fd of its mount root */
	int *src_img;    /* per source: O_PATH fd of its images folder (-1 for a share) */
	struct msrc src; /* how the sources are read: drives, or one SMB share */
	char **parts;    /* the images path's components, as the view spells them */
	size_t n_parts;
	char **src0_parts; /* the same as spelt on the first source */
	size_t n_src0_parts;
	size_t cap;                     /* items allocated */
	struct names_set planned_dirs;  /* target paths of folders planned so far */
	struct names_set planned_other; /* and of everything else */
	/* this run's tag (fileio_tmp_tag), in its temporaries' names */
	char tag[FILEIO_TMP_TAG_LEN + 1];
};

/* migrate_plan.c */

/* migrate_src_root -- source K's images folder as an msrc_dir (msrc_dir_fini). 0 or -errno. */
int migrate_src_root(struct migrate_priv *p, size_t k, struct msrc_dir *out);

/* migrate_walk -- plan source SRC's tree (plan->items grows). VERIFY: compare files
 * of equal size and mtime by SHA-256. Returns 0, or -1 with a message in errbuf. */
int migrate_walk(struct migrate_plan *plan, size_t src, bool verify, char *errbuf, size_t errlen);

/* A SHA-256 pass reports DONE of TOTAL bytes read after each chunk; nonzero stops it. */
typedef int (*migrate_tick_fn)(void *arg, uint64_t done, uint64_t total);

/* migrate_hash_pair -- the SHA-256 of the whole of the regular files A and B (read with
 * pread from offset 0) into SA and SB. TICK (may be NULL) counts over both files;
 * its stopping gives -ECANCELED. Returns 0 or a negative errno. */
int migrate_hash_pair(int a, int b, unsigned char sa[MIGRATE_SHA_LEN],
                      unsigned char sb[MIGRATE_SHA_LEN], migrate_tick_fn tick, void *arg);

/* migrate_same_data -- 1 when the regular files A and B have the same SHA-256,
 * 0 when not (or of other sizes: then nothing is read), or a negative errno. */
int migrate_same_data(int a, int b, migrate_tick_fn tick, void *arg);

/* migrate_smb.c */

/* migrate_smb_open -- a session on the share of O (its images folder stat'ed): SRC's
 * operations and context set (migrate_smb_close), *NAME the URL for messages (owned by
 * the caller). -1 with a message in errbuf. */
int migrate_smb_open(const struct migrate_smb_opts *o, struct msrc *src, char **name,
                     char *errbuf, size_t errlen);
/* migrate_smb_close -- the session of SRC ended (a drive source: nothing); SRC is reset to
 * the drives' operations. */
void migrate_smb_close(struct msrc *src);

/* migrate_tmp.c */

/* migrate_tmp_name -- the temporary name of NAME in its target folder for the run tagged
 * TAG (fileio_tmp_tag; NULL: the untagged name older versions made): MIGRATE_TMP_PREFIX TAG
 * "." NAME, or a hash of NAME when that would be too long. */
void migrate_tmp_name(const char *tag, const char *name, char *out, size_t len);

/* migrate_old_name -- the same with MIGRATE_OLD_PREFIX: where a replaced copy of NAME
 * waits for its removal when no backup is kept. */
void migrate_old_name(const char *tag, const char *name, char *out, size_t len);

/* migrate_is_tmp -- NAME is a migrate temporary or a replaced copy waiting (any tag). */
bool migrate_is_tmp(const char *name);

/* migrate_tmp_stale -- 1 when the migrate temporary NAME in DIRFD is provably abandoned:
 * untagged (an older version's), or fileio_tmp_stale at NOW; 0 when it may be another
 * run's work in progress (or NAME is no migrate temporary); -errno when it cannot be
 * stat'ed. */
int migrate_tmp_stale(int dirfd, const char *name, time_t now);

/* migrate_tmp_of -- TMP is a temporary (MIGRATE_TMP_PREFIX, any tag or none) of NAME. */
bool migrate_tmp_of(const char *tmp, const char *name);

/* migrate_partial_of -- the stale temporary STALE (a target path, plan->stale) may be a
 * partial copy of IT an interrupted run left: IT is a share's file this run copies, and
 * STALE a temporary of its name in its target folder (migrate_copy.c checks its record). */
bool migrate_partial_of(const struct migrate_plan *plan, const struct migrate_item *it,
                        const char *stale);

/* migrate_partial_len -- how far the partial copy open at FD got, as its record says (the
 * SHA-256 of those bytes into WANT), when the record still fits the source's stat SRC (its
 * size and mtime); else 0. Reads the record only, not the bytes. */
uint64_t migrate_partial_len(int fd, const struct stat *src, unsigned char want[MIGRATE_SHA_LEN]);

/* migrate_note_partials -- fill plan->stale_resume and stale_item: which stale temporaries a
 * run continues, as migrate_copy.c's claim does (per file the first in plan->stale whose
 * record fits; the others it removes). Reads the records only. 0 or -ENOMEM. */
int migrate_note_partials(struct migrate_plan *plan);

/* migrate_remove_tmp -- remove the temporary NAME in DIRFD: a file, or a folder
 * holding nothing but MIGRATE_UNFINISHED. 0 when removed or absent, or -errno. */
int migrate_remove_tmp(int dirfd, const char *name);

#endif /* PXE_MIGRATE_INT_H */
