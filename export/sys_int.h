/* sys_int.h -- internals of samba = system shared by system.c, system_check.c and sys_file.c
 * (not a public header; smbconf.h has the pure text helpers, run.h the program runner).
 *
 * Calls go one way: system.c -> system_check.c -> sys_file.c. One struct sys_export is one
 * run of samba_export(): it belongs to the calling thread and nothing here locks.
 */
#ifndef PXE_SYS_INT_H
#define PXE_SYS_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "export.h"
#include "run.h"
#include "smbconf.h"

#define SYS_ERR_MAX 4096

/* ---- one run of samba_export ----------------------------------------------------------------- */

/* A file of the smb.conf tree that we read. */
struct sys_file {
	char *path; /* as named (smb.conf as configured, or an include value) */
	char *real; /* symlinks resolved */
	char *text;
};

/* Another definition of the share. */
struct sys_conflict {
	long file; /* index into files, or -1 for a registry share */
	int line;
	char *section; /* the name as written */
	char *path;    /* or NULL */
	char *saved;   /* registry: `net conf showshare` output */
};

/* One file we replace, create or delete; applied in array order. */
struct sys_change {
	char *path;     /* symlinks resolved */
	char *old;      /* current text, or NULL when absent */
	char *text;     /* new text, or NULL to delete */
	char *backup;   /* write OLD here first, or NULL */
	struct stat st; /* of the old file */
	bool backup_done;
	bool applied;
};

struct sys_export {
	const struct pxe_config *cfg;
	const struct samba_export_opts *o;
	const char *name;       /* share name (borrowed) */
	const char *include;    /* include file as configured (borrowed) */
	const char *mountpoint; /* where the view is mounted (borrowed) */
	char conf[PATH_MAX];    /* smb.conf, symlinks resolved */
	char inc_real[PATH_MAX];
	char share_path[PATH_MAX];
	char stamp[32];
	char *conf_old;    /* NULL: absent */
	char *conf_base;   /* conf_old after repairs */
	char *conf_backup; /* backup of smb.conf when repaired, or NULL */
	char *inc_old;
	char *inc_new;
	char *conf_new;
	struct sys_file *files;
	size_t n_files;
	struct sys_conflict *cf;
	size_t n_cf;
	bool registry;       /* registry shares in effect */
	bool recheck;        /* check the effective path after deleting a registry share */
	bool reg;            /* our share goes into the registry (registry.c), not a file */
	bool reg_backend;    /* smb.conf: config backend = registry */
	bool reg_include;    /* smb.conf: include = registry */
	bool reg_clustering; /* smb.conf: clustering = yes */
	bool reg_changed;    /* registry.c changed the registry */
	struct sys_change *ch;
	size_t n_ch;
	struct sbuf rep;  /* report lines so far */
	struct sbuf acts; /* what the commit does, reported once it is done */
	char err[SYS_ERR_MAX];
};

/* ---- sys_file.c: files and the failure reason, for system.c and system_check.c ------------- */

/* sys_fail -- the reason of a failure into x->err; returns -1. */
int sys_fail(struct sys_export *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sys_real_path -- PATH with symlinks resolved (PATH itself when that fails) into OUT. */
void sys_real_path(const char *path, char *out, size_t len);

/* sys_dir_of -- the folder of PATH (an absolute path; "/" at the top) into OUT. (To fsync
 * it: fileio_fsync_dir, common/fileio.h.) */
void sys_dir_of(const char *path, char *out, size_t len);

/* sys_push_file -- add a file we read to x->files; takes ownership of TEXT. */
int sys_push_file(struct sys_export *x, const char *path, const char *real, char *text);

#define SYS_FILE_MAX      (16 * 1024 * 1024)
#define SYS_FILE_MAX_TEXT "16 MiB"

/* sys_file_read -- the whole of PATH, malloc'd: a regular file only (never blocks on a
 * FIFO), at most SYS_FILE_MAX bytes, no NUL byte. Returns 0 or a negative errno: -EINVAL
 * not a regular file, -EFBIG too large, -EILSEQ not text. sys_read_why words the errno. */
int sys_file_read(const char *path, char **out);
const char *sys_read_why(int rc);

/* sys_file_write -- replace PATH by TEXT atomically (a temporary file in its
 * folder, fsync, rename), with the mode and owner of LIKE (NULL: 0644). EXCL:
 * create PATH, failing when it exists. Returns 0 or a negative errno. */
int sys_file_write(const char *path, const char *text, const struct stat *like, bool excl);

/* ---- system_check.c -------------------------------------------------------------------------- */

/* sys_scan_file -- the other definitions of the share in file IDX and the files it
 * includes (reported and added to x->cf); sys_scan_registry -- the same for registry
 * shares, when the registry is in use. Return 0 or -1 (reason in x->err). */
int sys_scan_file(struct sys_export *x, size_t idx, bool global, int depth);
int sys_scan_registry(struct sys_export *x);

/* sys_net_run -- net --configfile=<smb.conf> conf WHAT -- [A [B]]: the names after "--", so a
 * share name starting with '-' is a name, not an option; see prog_run. */
int sys_net_run(struct sys_export *x, const char *what, const char *a, const char *b,
                struct prog *p);

/* sys_validate -- testparm on copies of the new smb.conf and include file in a temporary
 * folder. Returns 0 or -1 (reason in x->err). */
int sys_validate(struct sys_export *x);

/* sys_tp_path -- the effective path of the share in CONF must be ours. AFTER: the
 * real files, after a repair (a mismatch is then only a warning). */
int sys_tp_path(struct sys_export *x, const char *conf, bool after);

/* ---- registry.c: the share in Samba's registry ------------------------------------------------
 */

/* reg_choose -- x->reg from [share] samba config and smb.conf's [global] (x->conf_old); -1 (reason
 * in x->err) when they contradict each other. */
int reg_choose(struct sys_export *x);

/* reg_run -- define, update (o->remove: delete) our registry share and check it; what was done
 * in x->acts, notes and warnings in x->rep. Returns 0 or -1 (reason in x->err; the registry
 * then is as it was). */
int reg_run(struct sys_export *x);

#endif /* PXE_SYS_INT_H */
