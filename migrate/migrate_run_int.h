/* migrate_run_int.h -- internals of carrying a plan out, shared by migrate_run.c,
 * migrate_step.c, migrate_copy.c, migrate_land.c and migrate_dirs.c (not a public
 * header). Calls go one way: run -> copy, dirs; copy -> land; all of them -> step.
 *
 * One struct mrun per migrate_run call, used by its one thread; the fds in it are
 * owned by it and closed by migrate_run. The mrun_ functions set r->step to what
 * they are doing, so that a failure can say where it stopped.
 */
#ifndef PXE_MIGRATE_RUN_INT_H
#define PXE_MIGRATE_RUN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate_int.h"

/* A folder of the images path the run created on the target (times set last). */
struct made_parent {
	int dirfd; /* O_PATH fd of the folder holding it, or -1 */
	bool made;
	struct stat st; /* the first source's folder of that name */
};

struct mrun {
	struct migrate_plan *plan;
	struct migrate_priv *p;
	migrate_progress_fn cb;
	void *arg;
	struct migrate_progress pr;
	uint64_t base;    /* bytes_done before the current file */
	uint64_t copied;  /* bytes copied */
	bool stop;        /* the callback asked to stop */
	const char *step; /* what the current item was doing, for its error */
	int img_parent;   /* O_PATH fd of the target folder that holds the images folder */
	int backup_fd;    /* O_PATH fd of this run's backup folder, or -1 before the first */
	struct made_parent *parents; /* n_parts - 1 of them */
	bool keep_tmp; /* the current file's temporary holds a partial copy to continue */
	int dos_error; /* the target refused DOS attributes (-errno; noted once), or 0 */
};

static inline void close_fd(int fd)
{
	if (fd >= 0) {
		close(fd);
	}
}

/* ---- migrate_step.c: the helpers of every step --------------------------- */

/* mrun_emit -- report EV to the callback; true when it asked to stop (r->stop). */
bool mrun_emit(struct mrun *r, enum migrate_event ev, const struct migrate_item *it,
               const char *text);

/* mrun_at -- when RC is 0, the run is at STEP now (r->step) and true; else false and
 * r->step still names the step that failed. */
bool mrun_at(struct mrun *r, int rc, const char *step);

/* mrun_item_fail -- IT failed at r->step with RC (a negative errno): its error text is
 * set and the folders above it are marked incomplete. */
void mrun_item_fail(struct mrun *r, struct migrate_item *it, int rc);

/* mrun_src_dir, mrun_tgt_dir -- O_PATH fd (owned by the caller) of the source or target
 * folder holding IT (for the images folder on the target: its parent), or -errno. */
int mrun_src_dir(struct mrun *r, const struct migrate_item *it);

/* mrun_src_folder -- the source folder holding IT, whatever the source, into *OUT (the
 * caller's: msrc_dir_fini). 0 or -errno. */
int mrun_src_folder(struct mrun *r, const struct migrate_item *it, struct msrc_dir *out);
int mrun_tgt_dir(struct mrun *r, const struct migrate_item *it);

/* mrun_tgt_name -- IT's name in its target folder (borrowed from the plan). */
const char *mrun_tgt_name(struct mrun *r, const struct migrate_item *it);

/* mrun_fsync_dir -- fsync the folder of the O_PATH fd PATHFD; 0 or -errno. */
int mrun_fsync_dir(int pathfd);

/* mrun_changed -- A and B are not the same entry with the same size and mtime. */
bool mrun_changed(const struct stat *a, const struct stat *b);

/* mrun_set_owner_mode -- ST's owner and permission bits onto FD; 0 or -errno. */
int mrun_set_owner_mode(int fd, const struct stat *st);

/* mrun_keep_dos -- IT's DOS attributes (when its source has them) onto FD as Samba's
 * user.DOSATTRIB (it->dos_kept). A target that refuses is no failure: the first refusal
 * is noted once (r->dos_error) and the copy goes on without them. */
void mrun_keep_dos(struct mrun *r, struct migrate_item *it, int fd);

/* ---- migrate_copy.c ------------------------------------------------------ */

/* mrun_copy_item -- COPY or REPLACE: IT copied, verified and landed (the source
 * removed with --move); IT's result and error are set. */
void mrun_copy_item(struct mrun *r, struct migrate_item *it);

/* mrun_settle_item -- SKIP or SHADOWED: nothing to copy; with --move, the source is
 * removed once the target's entry is verified equal to it. */
void mrun_settle_item(struct mrun *r, struct migrate_item *it);

/* ---- migrate_land.c ------------------------------------------------------ */

/* mrun_land -- rename the verified temporary TMP in TDIR into place and make that
 * durable; a target copy that is replaced is set aside first. 0 or -errno. */
int mrun_land(struct mrun *r, struct migrate_item *it, int tdir, const char *tmp);

/* ---- migrate_dirs.c ------------------------------------------------------ */

/* mrun_mkdir_item -- MKDIR: IT's folder made on the target, marked unfinished. */
void mrun_mkdir_item(struct mrun *r, struct migrate_item *it);

/* mrun_make_parents -- the images path's folders above the images folder, made on a
 * target that lacks them; r->img_parent is set. 0, or -1 with a message in errbuf. */
int mrun_make_parents(struct mrun *r, char *errbuf, size_t errlen);

/* mrun_finish_parents -- the times of the folders mrun_make_parents made. */
void mrun_finish_parents(struct mrun *r);

/* mrun_finish_dirs -- every folder made and complete: marker removed, times set. */
void mrun_finish_dirs(struct mrun *r);

/* mrun_remove_source_dirs -- --move: the source folders that are empty now, deepest
 * first (the others are kept, with a note). */
void mrun_remove_source_dirs(struct mrun *r);

#endif /* PXE_MIGRATE_RUN_INT_H */
