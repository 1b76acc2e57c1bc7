/* resolver.h -- candidate drives + live system -> the view of SPEC section 3.
 *
 * The resolver decides, for each candidate drive, whether it is online,
 * whether it holds the images, and which drives make up the view. It reaches
 * the system (mount table, lstat, directory listings, blkid) only through
 * struct rsv_sys so unit tests can fake it; rsv_sys_real() is the real one.
 * A resolver_view is immutable once returned: any number of threads may read
 * it; whoever replaces a view frees the old one when no reader holds it.
 */
#ifndef PXE_RESOLVER_H
#define PXE_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"

/* One mount-table entry, as the system reports it. */
struct rsv_mount {
	char *target; /* mount point, canonical */
	char *source; /* device path or source string, or NULL */
	char *fstype; /* e.g. "ext4", "tmpfs", "fuse.pxeimagesfs" */
	char *root;   /* root of the mount inside its filesystem ("/" unless a bind of a subdir) */
	char *uuid;   /* filesystem UUID from blkid, or NULL */
	char *label;  /* filesystem label from blkid, or NULL */
	dev_t dev;    /* st_dev of the mounted filesystem */
	bool read_only; /* mounted with "ro" */
};

/* The system, as the resolver sees it. Every call returns 0 or a negative
 * errno. Strings and arrays returned through out-parameters are owned by the
 * caller and freed with free() (arrays of strings: each element, then the
 * array; mounts: rsv_mounts_free). */
struct rsv_sys_ops {
	/* The mount table in mount order: a later entry on the same target is
	 * stacked on top of an earlier one. */
	int (*mounts)(void *ctx, struct rsv_mount **out, size_t *n);
	int (*lstat)(void *ctx, const char *path, struct stat *st);
	/* Names in DIR, without "." and "..", in any order. */
	int (*list)(void *ctx, const char *dir, char ***names, size_t *n);
	/* Canonical absolute path of PATH (symlinks resolved). */
	int (*realpath)(void *ctx, const char *path, char **out);
	/* Device node of an unmounted filesystem with TAG=VALUE ("UUID" or
	 * "LABEL"), for a better message; may be NULL. */
	int (*find_device)(void *ctx, const char *tag, const char *value, char **devname);
	/* Health of the filesystem at PATH, answered within TIMEOUT_MS whatever the
	 * filesystem does: statfs, stat and a directory read of PATH, and with WRITE
	 * an unnamed file created and dropped there (O_TMPFILE; nothing shows).
	 * Returns 0 when healthy or when it cannot tell (no such path, no
	 * O_TMPFILE, ...), -ETIMEDOUT when PATH did not answer in time (or an earlier
	 * probe of it still waits), else the error that makes the filesystem
	 * unusable (-EIO, -ENOTCONN, ...; -EROFS: it refuses writes). May be NULL. */
	int (*probe)(void *ctx, const char *path, bool write, unsigned timeout_ms);
};

/* How long the resolver waits for a drive's probe. */
#define RSV_PROBE_TIMEOUT_MS 3000

/* rsv_probe -- the live system's probe (probe.c), as rsv_sys_ops.probe describes. */
int rsv_probe(const char *path, bool write, unsigned timeout_ms);

struct rsv_sys {
	const struct rsv_sys_ops *ops; /* borrowed */
	void *ctx;                     /* borrowed */
};

/* The live system: libmount for /proc/self/mountinfo, libblkid for UUID and
 * LABEL. Returns a borrowed, process-wide, stateless object. */
const struct rsv_sys *rsv_sys_real(void);

void rsv_mounts_free(struct rsv_mount *mounts, size_t n);

/* UNAVAILABLE: mounted, but it failed its health probe (hung, or failing with
 * EIO): left out of the view like an offline drive. */
enum drive_state { DRIVE_OFFLINE = 0, DRIVE_ONLINE, DRIVE_UNAVAILABLE };

/* One candidate drive, with everything that was found about it. All strings
 * owned by the view that holds the drive; NULL when unknown or not set. */
struct drive {
	char *name;      /* section name, or for a discovered drive its label or mount path */
	int priority;    /* configured priority (0 when discovered) */
	int order;       /* config order, or mount-table order when discovered */
	bool configured; /* from a [drive:*] section */
	char *want_path; /* configured identity */
	char *want_uuid;
	char *want_label;
	bool want_read_only;
	bool ino_drive; /* 'inode numbers = drive': st_ino from the drive's own (fs/fileid.c) */

	enum drive_state state;
	char *mount_path; /* where its filesystem is mounted now */
	char *source;
	char *fstype;
	char *uuid;
	char *label;
	dev_t dev;
	bool read_only;        /* configured read-only or mounted read-only */
	bool holds_images;     /* the images path exists on it as a directory */
	char *images_dir;      /* absolute path, real on-disk spelling */
	char *images_spelling; /* relative path as spelt on disk */
	char *view_dir;        /* the folder the view merges (absolute, as spelt on disk): the
	                        * images folder, or with 'boot tree = yes' the images path's
	                        * first folder (RemoteInstall); set when holds_images */
	char *view_spelling;   /* the same relative to the mount root */
	size_t n_packages;     /* entries in its images folder (hidden names excluded) */
	bool in_view;
	bool primary;
	char reason[320]; /* why it is offline, skipped or taken, in plain words */
	char origin[320]; /* why it is a candidate: "configured by path /mnt/c", "discovered:
	                   * /mnt/x (ext4, /dev/sdb1) has RemoteInstall/SMSImages/SMSPKG" */
};

/* A mount that discovery did not take as a drive, and why. */
struct rsv_left_out {
	char *target; /* owned */
	char why[160];
};

struct resolver_view {
	enum cfg_mode mode;
	char *images_path;    /* virtual, '/'-separated (owned) */
	char *view_path;      /* the folder the view merges: images_path, or with 'boot tree =
	                       * yes' its first folder (owned) */
	bool discovery;       /* discover = yes: mounts holding the images are candidates too */
	struct drive *drives; /* owned, in rank order */
	size_t n_drives;
	int primary;   /* index into drives, or -1 (no writable drive online) */
	size_t *roots; /* owned; indices into drives, in rank order */
	size_t n_roots;
	char primary_reason[320];
	char no_drive[400]; /* cfg_no_drive_hint: what to add, when nothing can be a drive */
	/* discovery only: the mounts left out (system trees and pseudo filesystems only counted) */
	struct rsv_left_out *left_out; /* owned, in mount-table order */
	size_t n_left_out;
	size_t n_left_system; /* mounts under /proc, /sys, /dev, /run, or pseudo filesystems */
};

/* resolver_resolve -- compute the view for CFG on SYS. On success returns 0
 * and *out is a new view owned by the caller. Returns a negative errno when
 * the system cannot be read at all (e.g. the mount table), or when this
 * process ran short of descriptors or memory while looking (-EMFILE, -ENFILE,
 * -ENOMEM: what a drive holds could not be seen); a single drive that cannot
 * be examined is reported as offline with its reason instead. */
int resolver_resolve(const struct pxe_config *cfg, const struct rsv_sys *sys,
                     struct resolver_view **out);

/* resolver_view_free -- NULL is a no-op. */
void resolver_view_free(struct resolver_view *view);

/* resolver_view_has_images -- true when at least one drive of the view holds the images. */
bool resolver_view_has_images(const struct resolver_view *view);

/* resolver_view_same -- true when A and B would serve the same view (same
 * roots, same primary, same mounts, same images folders, same no-drive hint). */
bool resolver_view_same(const struct resolver_view *a, const struct resolver_view *b);

/* resolver_view_json -- the view as JSON text (schema in README, "schema": 1).
 * CONFIG_FILE may be NULL. Returns a malloc'd string owned by the caller, or
 * NULL when out of memory. */
char *resolver_view_json(const struct resolver_view *view, const char *config_file, bool pretty);

/* resolver_view_json_object -- the same as a json-c object, to embed in a
 * larger document; owned by the caller (json_object_put). */
struct json_object;
struct json_object *resolver_view_json_object(const struct resolver_view *view,
                                              const char *config_file);

const char *drive_state_name(enum drive_state state);

/* watch.c -- events that call for a new resolution. One thread waits in
 * watch_wait(); watch_stop() may be called from any thread. */
struct watch;

enum {
	WATCH_MOUNTS = 1,  /* the mount table changed */
	WATCH_FOLDERS = 2, /* a watched folder on a drive changed */
	WATCH_RELOAD = 4,  /* SIGHUP: reload the configuration */
	WATCH_RESCAN = 8,  /* SIGUSR1: rescan now */
	WATCH_TIMER = 16,  /* the periodic rescan */
	WATCH_STOP = 32,   /* watch_stop() was called */
	WATCH_CHILD = 64,  /* SIGCHLD: a child process (the private smbd) changed state */
	WATCH_TICK = 128,  /* the heartbeat of watch_set_tick (e.g. a systemd watchdog) */
};

/* watch_block_signals -- block SIGHUP, SIGUSR1 and SIGCHLD in the calling thread (and
 * the threads it starts later) so the watch receives them. Call it before
 * any thread is started. */
void watch_block_signals(void);

/* watch_new -- a watch with a periodic rescan every INTERVAL_MS (0: none). */
int watch_new(unsigned interval_ms, struct watch **out);
int watch_set_interval(struct watch *w, unsigned interval_ms);
int watch_set_tick(struct watch *w, unsigned interval_ms); /* 0: none */

/* watch_follow -- watch the folders of V's online drives (roots and the
 * folders down to the images folder), replacing the previous set. */
int watch_follow(struct watch *w, const struct resolver_view *v);

/* watch_wait -- block until something happens; returns a WATCH_* mask. */
unsigned watch_wait(struct watch *w);
void watch_stop(struct watch *w);
void watch_free(struct watch *w); /* NULL is a no-op */

#endif /* PXE_RESOLVER_H */
