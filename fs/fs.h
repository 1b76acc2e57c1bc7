/* fs.h -- the FUSE filesystem over the resolver's current view.
 *
 * fs_new() builds a filesystem object from a config and a first view;
 * fs_mount_run() mounts it and serves requests on a multi-threaded libfuse
 * low-level session until SIGTERM/SIGINT or an unmount. fs_publish() swaps in
 * a new view atomically while it runs: new operations see the new view,
 * operations in flight finish on the old one, open files keep their drive.
 */
#ifndef PXE_FS_H
#define PXE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "config.h"
#include "resolver.h"

struct fs;

struct fs_options {
	const char *mountpoint; /* borrowed */
	const char *fuse_opts;  /* extra -o options, comma-separated, or NULL; borrowed */
	bool foreground;        /* false: daemonize once mounted */
	bool debug;             /* libfuse debug output */
	double entry_timeout;   /* seconds the kernel may cache names and attributes */
	double attr_timeout;
	/* Live following (SPEC section 5): the current configuration, replaced on
	 * SIGHUP (the old one is freed; the caller frees the last one). NULL: the
	 * view never changes. */
	struct pxe_config **live_cfg;
	/* Called on the live thread: once with FS_EVENT_START after mounting, then
	 * after every event with its WATCH_* mask (resolver.h), with the current
	 * configuration (borrowed; valid until the next call). */
	void (*hook)(void *arg, const struct pxe_config *cfg, unsigned events);
	void *hook_arg;
	/* The share's state for the status and metrics files, or NULL (no share).
	 * Borrowed: must outlive the mount. */
	struct fs_share *share;
};

/* The share's state (fs/status.c owns it). The daemon's share code posts to it from any
 * thread -- the live thread (samba = private, in the hook) or the export's own thread
 * (samba = system) -- and the live thread reads a snapshot for the status and metrics files.
 * Every field is behind one mutex of status.c; a post from another thread wakes the live
 * thread, which then rewrites both files at once. */
enum fs_share_kind {
	FS_SHARE_NONE = 0,
	FS_SHARE_SYSTEM,
	FS_SHARE_PRIVATE,
	FS_SHARE_CTDB /* the system export of a CTDB node: shown as "ctdb", kept as system */
};

/* A snapshot: plain data. */
struct fs_share_state {
	enum fs_share_kind kind;
	bool up;           /* system: exported; private: our smbd runs and listened */
	bool pending;      /* nothing posted yet (system: the first export still runs) */
	unsigned restarts; /* private: smbd restarted after it died, since the start */
	char reason[512];  /* why not up ("" while up) */
	char note[512];    /* while up, worth knowing (system: smbd not running, not reloaded) */
};

struct fs_share;

/* fs_share_new -- a share of KIND, pending (not up, no reason yet), with one reference
 * (the caller's); NULL when out of memory. */
struct fs_share *fs_share_new(enum fs_share_kind kind);

/* fs_share_hold -- one more reference, e.g. for a thread that posts later; returns SH. */
struct fs_share *fs_share_hold(struct fs_share *sh);

/* fs_share_drop -- drop one reference; the last one frees SH. NULL is a no-op. */
void fs_share_drop(struct fs_share *sh);

/* fs_share_set -- record UP, else why not (REASON, its first line); NOTE (NULL: none) is
 * kept only while up. From the live thread (the hook) the files are rewritten when the
 * hook returns. Thread-safe. */
void fs_share_set(struct fs_share *sh, bool up, const char *reason, const char *note);

/* fs_share_post -- fs_share_set from another thread: also wakes the live thread (a SIGCHLD
 * to the process, which only its watch reads) so it rewrites the files at once. */
void fs_share_post(struct fs_share *sh, bool up, const char *reason, const char *note);

/* fs_share_restarted -- samba = private: smbd was restarted (counted); it is up. */
void fs_share_restarted(struct fs_share *sh);

/* fs_share_get -- a snapshot of SH into OUT (SH NULL: kind none). Thread-safe. */
void fs_share_get(struct fs_share *sh, struct fs_share_state *out);

#define FS_EVENT_START (1u << 16)

/* fs_new -- a filesystem for CFG (borrowed; must outlive the fs) serving VIEW
 * (takes ownership). Returns 0, or -1 with a message in errbuf. */
int fs_new(const struct pxe_config *cfg, struct resolver_view *view, struct fs **out, char *errbuf,
           size_t errlen);

/* fs_publish -- replace the view (takes ownership of VIEW). Returns 0 or a
 * negative errno (the old view stays). Thread-safe. */
int fs_publish(struct fs *fs, struct resolver_view *view);

/* fs_mount_run -- mount at opts->mountpoint and serve until unmounted or
 * signalled. Returns 0 after a clean unmount, or -1 with a message in errbuf
 * (nothing is left mounted). */
int fs_mount_run(struct fs *fs, const struct fs_options *opts, char *errbuf, size_t errlen);

/* fs_passthrough_info -- one line for --version: whether this build can use
 * kernel FUSE passthrough. Returns BUF. */
const char *fs_passthrough_info(char *buf, size_t len);

/* fs_transport_info -- one line for --version: whether this build can serve on FUSE over
 * io_uring. Returns a static string. */
const char *fs_transport_info(void);

/* fs_free -- NULL is a no-op. */
void fs_free(struct fs *fs);

#endif /* PXE_FS_H */
