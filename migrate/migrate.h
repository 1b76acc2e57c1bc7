/* migrate.h -- `pxeimagesfs migrate`: the migrate module's public API.
 *
 * Copies or moves the images tree between drives, beside the serving filesystem
 * (not through it): it uses the resolver's view and the shared helpers in
 * common/, never the FUSE code.
 */
#ifndef PXE_MIGRATE_H
#define PXE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "resolver.h"

/* migrate.c -- `pxeimagesfs migrate` (SPEC section 7): copy or move the images tree
 * of source drives to a target drive, working on the drives directly while the view
 * serves. migrate_plan_new() examines the drives and plans (it writes nothing);
 * migrate_run() carries a plan out: each file is copied to a hidden temporary name
 * (MIGRATE_TMP_PREFIX + the run's tag + "." + its name; the tag names the host and the
 * process, so two runs never share a name) in its target folder with mode, owner, times
 * and xattrs, fsynced, checked by SHA-256 against the source and renamed into place, so
 * no partial file ever has a final name; a rerun removes what an interrupted run left
 * (only what is provably abandoned: another host's run in progress is left alone) and
 * finishes the job. Folders are created under a temporary name too, holding
 * MIGRATE_UNFINISHED until their times are set (after their contents). A target
 * copy newer than the source's is never replaced unless asked (--overwrite), and a
 * replaced one is kept in MIGRATE_BACKUP_DIR/<run's UTC time>/<its path below the images
 * folder> on the target drive's root unless told not to. A plan and its run belong to
 * one thread; the progress callback runs on it. */
#define MIGRATE_TMP_PREFIX ".pxeimagesfs-tmp.migrate."
#define MIGRATE_UNFINISHED ".pxeimagesfs-tmp.migrate-unfinished"
#define MIGRATE_BACKUP_DIR ".pxeimagesfs-backup"
/* One migrate at a time per target: a run holds an flock on this regular file on the target
 * drive's root (made 0600 when missing, kept; never a symlink). A lock on a file is shared
 * between the clients of a cluster filesystem (GlusterFS), a lock on a folder is not. */
#define MIGRATE_LOCK_FILE ".pxeimagesfs-migrate.lock"

enum migrate_kind { MIGRATE_FILE = 0, MIGRATE_FOLDER, MIGRATE_SYMLINK, MIGRATE_SPECIAL };

enum migrate_action {
	MIGRATE_COPY = 0, /* the target lacks it */
	MIGRATE_REPLACE,  /* the target has another version (size, mtime, SHA-256, kind) */
	MIGRATE_MKDIR,    /* a folder the target lacks */
	MIGRATE_DIR,      /* a folder the target has (or an earlier source creates) */
	MIGRATE_SKIP,     /* the target has the same */
	MIGRATE_SHADOWED, /* a higher-ranked source has this path: its copy is taken */
	MIGRATE_CONFLICT, /* the target has another version the overwrite rule does not let
	                   * go (e.g. a newer one), or a folder where the source has none or
	                   * the other way round: left alone, counted as a conflict */
};

/* Which other version of an entry on the target a run may replace. */
enum migrate_overwrite {
	MIGRATE_OVERWRITE_OLDER = 0, /* only one with an older mtime (the default) */
	MIGRATE_OVERWRITE_NEVER,     /* none */
	MIGRATE_OVERWRITE_ALWAYS,    /* any */
};

enum migrate_result { MIGRATE_PENDING = 0, MIGRATE_DONE, MIGRATE_FAILED };

/* One entry of a source's images tree. Strings owned by the plan. */
struct migrate_item {
	char *path;    /* below the images folder, as spelt on the source ("" = the folder) */
	char *target;  /* the same path as spelt on the target (existing parts as found there) */
	size_t source; /* index into plan->sources */
	enum migrate_kind kind;
	enum migrate_action action;
	const char *reason; /* why this action, e.g. "missing on the target" (static text) */
	struct stat st;     /* the source's lstat when planned */
	size_t parent;      /* index of its folder's item; SIZE_MAX for the images folder */
	bool unfinished;    /* a folder created by this or an interrupted run whose times
	                     * are still to be set (it holds MIGRATE_UNFINISHED) */
	bool incomplete;    /* a folder with an entry inside that failed: left unfinished */
	/* the target's entry when planned (have_tst); for a conflict of two files also
	 * both SHA-256 (have_sha: sha the source's, tsha the target's) */
	struct stat tst;
	bool have_tst;
	bool have_sha;
	unsigned char sha[32];
	unsigned char tsha[32];
	/* the source's DOS attributes (a share's: SMB_DOS_* of smb_dos.h) and creation time
	 * ({0, 0}: not known), kept on the target in Samba's user.DOSATTRIB xattr */
	bool have_dos;
	uint32_t dos;
	struct timespec btime;
	/* filled by migrate_run */
	enum migrate_result result;
	bool dos_kept;       /* its DOS attributes were written on the target */
	uint64_t resumed;    /* bytes of an interrupted run's partial copy continued, not read
	                      * again from the source (a share's file) */
	bool verified;       /* target and source compared equal by SHA-256 (or link text) */
	bool source_removed; /* --move: the source entry was removed */
	char *backup;        /* REPLACE: the replaced copy, kept here (owned), or NULL */
	char *error;         /* why it failed, or NULL (owned) */
};

struct migrate_drive {
	char *name;       /* owned */
	char *images_dir; /* absolute, owned; the target's may not exist yet */
};

/* An SMB share as the only source (migrate_smb.c): read through libsmbclient, never
 * written; a request that fails on a network fault (timeout, connection lost or refused) is
 * retried on a fresh connection with a doubling pause (0.5 s up to 8 s), at most RETRIES
 * times and not after RETRY_S seconds; a file then continues where its stream stopped. */
struct migrate_smb_opts {
	const char *url;      /* smb://server[:port]/SHARE[/path]: path is the images folder */
	const char *user;     /* [DOMAIN\]USER, or NULL for guest (borrowed) */
	const char *password; /* borrowed; NULL for guest */
	int timeout_ms;       /* per request; 0: 20000 */
	int retries;          /* < 0: the default, 4 */
	int retry_s;          /* bound on one request's retrying; <= 0: 60 */
};

struct migrate_options {
	const char *to;          /* target drive name (borrowed) */
	const char *const *from; /* source drive names (borrowed); n_from 0: every other
	                          * online drive holding the images, in rank order */
	size_t n_from;
	bool move;            /* remove each source copy once its copy is verified */
	bool dry_run;         /* plan only: no lock is taken, nothing is written */
	bool verify_existing; /* compare files of equal size and mtime by SHA-256
	                       * (always done with move before a source is removed) */
	enum migrate_overwrite overwrite;
	bool no_backup; /* delete a replaced target copy instead of keeping it */
	const struct migrate_smb_opts *smb; /* the source is this share (borrowed), not
	                                     * drives: n_from must be 0, move false */
};

struct migrate_plan {
	struct migrate_drive target;
	struct migrate_drive *sources; /* owned, in rank order */
	size_t n_sources;
	struct migrate_item *items; /* owned; per source, a folder before its contents */
	size_t n_items;
	char **stale; /* temporaries an interrupted run left (target paths), removed first */
	size_t n_stale;
	/* per stale temporary (NULL while there is none): 0 when the run removes it; else it is
	 * a partial copy of the share's file items[stale_item[i]] that the run continues after
	 * this many bytes, as its record says (the run checks those bytes by SHA-256 first and
	 * starts the file over, removing it, when they no longer match) */
	uint64_t *stale_resume;
	size_t *stale_item;
	bool move;
	bool verify_existing;
	enum migrate_overwrite overwrite;
	bool backup;            /* keep replaced target copies (see MIGRATE_BACKUP_DIR) */
	char *backup_dir;       /* absolute, owned: where this run kept them, or NULL */
	bool dry_run;           /* planned without the lock: migrate_run refuses it */
	bool target_has_images; /* false: the images path is created on the target */
	size_t n_copy;          /* files, symlinks and nodes to copy or replace */
	size_t n_mkdir;         /* folders to create */
	size_t n_same;          /* entries the target has already */
	size_t n_conflict;
	uint64_t bytes;           /* data to copy: sum of the sizes */
	uint64_t space_needed;    /* bytes of the target filesystem the copies take */
	uint64_t space_available; /* f_bavail * f_frsize, plus what stale temporaries hold */
	uint64_t inodes_needed;
	uint64_t inodes_available; /* UINT64_MAX when the filesystem does not count them */
	struct migrate_priv *priv; /* open folders and the lock (private) */
};

enum migrate_event {
	MIGRATE_EV_BEGIN,   /* ITEM starts */
	MIGRATE_EV_BYTES,   /* bytes_done moved on */
	MIGRATE_EV_VERIFY,  /* reading back for the SHA-256 check (bytes_done unchanged) */
	MIGRATE_EV_END,     /* ITEM done: see its result, error, verified, source_removed */
	MIGRATE_EV_CLEANUP, /* TEXT: a temporary an interrupted run left was removed */
	MIGRATE_EV_REMOVED, /* --move: ITEM, a source folder, was removed (empty) */
	MIGRATE_EV_NOTE,    /* TEXT: worth a line, e.g. a source folder kept (not empty) */
};

struct migrate_progress {
	enum migrate_event event;
	const struct migrate_item *item; /* borrowed, or NULL */
	const char *text;                /* borrowed, or NULL */
	uint64_t bytes_done;             /* of plan->bytes */
	uint64_t bytes_total;
	size_t files_done; /* non-folder items finished (done or failed) */
	size_t files_total;
	uint64_t verify_done;  /* MIGRATE_EV_VERIFY: bytes of both copies read back */
	uint64_t verify_total; /* of this (both sizes); 0 when not known */
};

/* A nonzero return stops the run (e.g. on SIGINT): the copy in progress is
 * abandoned and its temporary removed; a rerun finishes the job. */
typedef int (*migrate_progress_fn)(void *arg, const struct migrate_progress *p);

struct migrate_summary {
	size_t copied;       /* files, symlinks, nodes copied or replaced */
	size_t dirs_created; /* folders */
	size_t skipped;      /* already on the target, or shadowed */
	size_t verified;     /* SHA-256 (or link text) checks that passed */
	size_t failed;       /* not counting the conflicts */
	size_t conflicts;    /* left alone on both drives */
	size_t backed_up;    /* replaced target copies kept in plan->backup_dir */
	size_t removed;      /* --move: source entries removed */
	uint64_t bytes;      /* data copied */
	size_t dos_kept;     /* entries whose DOS attributes were written on the target */
	size_t dos_lost;     /* entries whose DOS attributes the target refused */
	int dos_error;       /* why (a negative errno), 0 when none was refused */
	size_t resumed;      /* files continued from an interrupted run's partial copy */
	uint64_t bytes_resumed; /* of those, the bytes not read again */
	bool interrupted;    /* the callback stopped the run */
};

/* migrate_plan_new -- plan the migration OPTS asks for on VIEW (borrowed; may be
 * freed after this returns). Refuses (-1 and a message in errbuf, nothing changed):
 * an unknown drive name, the target offline or read-only, a source equal to the
 * target, offline or not holding the images, no source at all, another migrate
 * running on the target (unless dry_run), a tree that cannot be read. On success
 * *out is a new plan owned by the caller (migrate_plan_free). */
int migrate_plan_new(const struct resolver_view *view, const struct migrate_options *opts,
                     struct migrate_plan **out, char *errbuf, size_t errlen);

/* migrate_check_space -- statvfs the target again (updating space_available and
 * inodes_available); 0 when the plan fits, else -1 with "needed vs available". */
int migrate_check_space(struct migrate_plan *plan, char *errbuf, size_t errlen);

/* migrate_run -- carry PLAN out (not a dry-run plan), calling PROGRESS (may be NULL)
 * with ARG. Returns -1 with a message in errbuf when it refuses to start (not enough
 * space; nothing changed); else 0 with the counts in *sum (items failing is not an
 * error of the call: see sum->failed and each item's result). */
int migrate_run(struct migrate_plan *plan, migrate_progress_fn progress, void *arg,
                struct migrate_summary *sum, char *errbuf, size_t errlen);

/* migrate_plan_free -- NULL is a no-op; releases the lock. */
void migrate_plan_free(struct migrate_plan *plan);

/* migrate_human_size -- N bytes as "512 B", "1.5 KiB" ... "2.0 TiB" into BUF; returns BUF. */
const char *migrate_human_size(uint64_t n, char *buf, size_t len);

/* migrate_progress_line -- the progress bar of P for a terminal WIDTH columns wide, in at
 * most WIDTH - 1 characters, into OUT (LEN bytes). BPS: bytes per second so far (0: not
 * known yet). Returns OUT. */
const char *migrate_progress_line(const struct migrate_progress *p, double bps, int width,
                                  char *out, size_t len);

const char *migrate_action_name(enum migrate_action action); /* "copy", "replace", ... */
const char *migrate_kind_name(enum migrate_kind kind);       /* "file", "folder", ... */

/* "older", "never", "always"; migrate_overwrite_parse: 0, or -1 for another word. */
const char *migrate_overwrite_name(enum migrate_overwrite how);
int migrate_overwrite_parse(const char *word, enum migrate_overwrite *out);

#endif /* PXE_MIGRATE_H */
